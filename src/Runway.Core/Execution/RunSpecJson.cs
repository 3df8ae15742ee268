using System.Text.Json;
using Runway.Runs;

namespace Runway.Execution;

/// <summary>
/// How a <see cref="RunSpec"/> is stored in <see cref="Run.SpecJson"/>: the API writes it at submission and
/// the scheduler reads it at start, so both must use these options. Property names are snake_case;
/// dictionary keys (environment variable names) are kept as they are.
/// </summary>
public static class RunSpecJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static string Serialize(RunSpec spec) => JsonSerializer.Serialize(spec, Options);

    public static RunSpec Deserialize(string json) =>
        JsonSerializer.Deserialize<RunSpec>(json, Options) ?? throw new JsonException("the run spec is null");
}
