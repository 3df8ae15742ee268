namespace Runway.Pipelines;

/// <summary>A pipeline file that cannot be used; the message names the file, the field and, when known, the line.</summary>
public sealed class PipelineFormatException(string message) : Exception(message);
