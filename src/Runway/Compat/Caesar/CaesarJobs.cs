using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Runway.Api;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Compat.Caesar;

/// <summary>
/// caesar-rest's names for Runway's: an app is a pipeline, a job a run, a file uuid an upload's id. caesar's option
/// names use '-' (<c>no-logredir</c>) where a Runway parameter has '_' (<c>no_logredir</c>); a job's caesar
/// <c>tag</c> is its Runway tag <c>tag</c>; <c>data_inputs</c> (a file uuid) is the app's one file parameter.
/// </summary>
public static class CaesarJobs
{
    public static string State(Run run) => run.State switch
    {
        RunState.Queued => "PENDING",
        RunState.Running => "RUNNING",
        RunState.Succeeded => "SUCCESS",
        RunState.Failed => "FAILURE",
        RunState.Canceled => "CANCELED",
        RunState.TimedOut => "TIMED-OUT",
        RunState.SystemError => "ABORTED",
        _ => "UNKNOWN",
    };

    /// <summary>caesar's human-readable <c>status</c> beside the state.</summary>
    public static string Status(Run run) => run.State switch
    {
        RunState.Queued => "Job submitted and waiting to start",
        RunState.Running => run.CancelRequestedAt is null ? "Job running" : "Job being canceled",
        RunState.Succeeded => "Process terminated with success",
        _ => run.Message is { Length: > 0 } message ? $"Process ended ({run.State.ToWire()}): {message}" : $"Process ended ({run.State.ToWire()})",
    };

    public static string OptionName(string parameter) => parameter.Replace('_', '-');

    public static string ParameterName(string option) => option.Replace('-', '_');

    public static string Date(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    /// <summary>The app's one file parameter, where <c>data_inputs</c> goes; null when it has none or several.</summary>
    public static Parameter? DataParameter(Pipeline pipeline) =>
        pipeline.Parameters.Where(p => p.Type == ParameterType.File).ToList() is [var only] ? only : null;

    public static Dictionary<string, object?> Job(Run run, TimeProvider clock)
    {
        var parameters = JsonNode.Parse(run.ParamsJson)!.AsObject();
        var tags = JsonSerializer.Deserialize<Dictionary<string, string>>(run.TagsJson) ?? [];
        var inputs = new JsonObject(parameters.Select(p => KeyValuePair.Create(OptionName(p.Key), p.Value?.DeepClone())));
        var spec = Execution.RunSpecJson.Deserialize(run.SpecJson);
        return new Dictionary<string, object?>
        {
            ["job_id"] = run.Id,
            ["submit_date"] = Date(run.SubmittedAt),
            ["app"] = run.Pipeline,
            ["job_inputs"] = inputs,
            ["data_inputs"] = spec.Inputs.Select(i => i.FileId).FirstOrDefault() ?? "",
            ["metadata"] = "",
            ["tag"] = tags.GetValueOrDefault("tag", ""),
            ["scheduler"] = run.Executor,
            ["state"] = State(run),
            ["status"] = Status(run),
            ["pid"] = run.NativeId ?? "",
            ["elapsed_time"] = RunResponse.Elapsed(run, clock)?.ToString(CultureInfo.InvariantCulture) ?? "",
            ["exit_code"] = run.ExitCode,
        };
    }
}
