using System.Text.Json;
using System.Text.Json.Serialization;

namespace Runway.Compat.Ga4gh.Tes;

// The TES 1.1 schema's own names and shapes (ga4gh/task-execution-schemas, task_execution_service.openapi.yaml v1.1.0).
// Nulls are left out of answers (Json below): the MINIMAL view is exactly {id, state}.

public sealed record TesTask
{
    public string? Id { get; init; }
    public string? State { get; init; }
    public string? Name { get; init; }
    public string? Description { get; init; }
    public List<TesInput>? Inputs { get; init; }
    public List<TesOutput>? Outputs { get; init; }
    public TesResources? Resources { get; init; }
    public List<TesExecutor>? Executors { get; init; }
    public List<string>? Volumes { get; init; }
    public Dictionary<string, string>? Tags { get; init; }
    public List<TesTaskLog>? Logs { get; init; }
    public string? CreationTime { get; init; }
}

public sealed record TesInput
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public string? Url { get; init; }
    public string? Path { get; init; }
    public string? Type { get; init; }
    public string? Content { get; init; }
    public bool? Streamable { get; init; }
}

public sealed record TesOutput
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public string? Url { get; init; }
    public string? Path { get; init; }
    public string? PathPrefix { get; init; }
    public string? Type { get; init; }
}

public sealed record TesResources
{
    public int? CpuCores { get; init; }
    public bool? Preemptible { get; init; }
    public double? RamGb { get; init; }
    public double? DiskGb { get; init; }
    public List<string>? Zones { get; init; }
    public Dictionary<string, string>? BackendParameters { get; init; }
    public bool? BackendParametersStrict { get; init; }
}

public sealed record TesExecutor
{
    public string? Image { get; init; }
    public List<string>? Command { get; init; }
    public string? Workdir { get; init; }
    public string? Stdin { get; init; }
    public string? Stdout { get; init; }
    public string? Stderr { get; init; }
    public Dictionary<string, string>? Env { get; init; }
    public bool? IgnoreError { get; init; }
}

public sealed record TesTaskLog
{
    public required List<TesExecutorLog> Logs { get; init; }
    public Dictionary<string, string>? Metadata { get; init; }
    public string? StartTime { get; init; }
    public string? EndTime { get; init; }
    public required List<TesOutputFileLog> Outputs { get; init; }
    public List<string>? SystemLogs { get; init; }
}

public sealed record TesExecutorLog
{
    public string? StartTime { get; init; }
    public string? EndTime { get; init; }
    public string? Stdout { get; init; }
    public string? Stderr { get; init; }
    public required int ExitCode { get; init; }
}

/// <summary>size_bytes is a string in the schema (int64 in JSON).</summary>
public sealed record TesOutputFileLog(string Url, string Path, string SizeBytes);

public sealed record TesListTasksResponse(List<TesTask> Tasks, string? NextPageToken);

public sealed record TesCreateTaskResponse(string Id);

/// <summary>
/// An error: RFC 9457 problem details as every Runway error is, and GA4GH's ErrorResponse fields (<c>msg</c>,
/// <c>status_code</c>) beside them, which GA4GH clients print.
/// </summary>
public sealed record TesError(string Type, string Title, int Status, string Detail, string Msg, int StatusCode, IReadOnlyDictionary<string, string[]>? Errors = null);

public static class TesJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
