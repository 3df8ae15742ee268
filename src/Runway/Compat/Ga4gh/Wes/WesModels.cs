using System.Globalization;
using System.Text.Json.Nodes;
using Runway.Runs;

namespace Runway.Compat.Ga4gh.Wes;

/// <summary>
/// WES 1.1's states for Runway's (issue 17): a run being killed (cancel asked, not yet ended) is CANCELING; a failed
/// and a timed-out run are both EXECUTOR_ERROR, the run log's system_logs saying which and why.
/// </summary>
public static class WesStates
{
    public static string Of(Run run) => Of(run.State, canceling: run.CancelRequestedAt is not null);

    public static string Of(RunState state, bool canceling) => state switch
    {
        RunState.Queued => "QUEUED",
        RunState.Running when canceling => "CANCELING",
        RunState.Running => "RUNNING",
        RunState.Succeeded => "COMPLETE",
        RunState.Failed or RunState.TimedOut => "EXECUTOR_ERROR",
        RunState.Canceled => "CANCELED",
        RunState.SystemError => "SYSTEM_ERROR",
        _ => "UNKNOWN",
    };

    /// <summary>The Runway states a WES state filter stands for (Sapporo's ?state=); null for a name WES does not have.</summary>
    public static IReadOnlyList<RunState>? Stored(string wes) => wes switch
    {
        "QUEUED" => [RunState.Queued],
        "RUNNING" or "CANCELING" => [RunState.Running],
        "COMPLETE" => [RunState.Succeeded],
        "EXECUTOR_ERROR" => [RunState.Failed, RunState.TimedOut],
        "CANCELED" => [RunState.Canceled],
        "SYSTEM_ERROR" => [RunState.SystemError],
        "UNKNOWN" or "INITIALIZING" or "PAUSED" or "PREEMPTED" => [],
        _ => null,
    };

    public static readonly IReadOnlyList<string> All =
        ["UNKNOWN", "QUEUED", "INITIALIZING", "RUNNING", "PAUSED", "COMPLETE", "EXECUTOR_ERROR", "SYSTEM_ERROR", "CANCELED", "CANCELING", "PREEMPTED"];

    /// <summary>The spec's time format, "%Y-%m-%dT%H:%M:%SZ".</summary>
    public static string? Time(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

public sealed record WesRunId(string RunId);

public sealed record WesRunStatus(string RunId, string State);

public sealed record WesRunSummary(string RunId, string State, string? StartTime, string? EndTime, IReadOnlyDictionary<string, string> Tags);

public sealed record WesRunList(IReadOnlyList<WesRunSummary> Runs, string NextPageToken);

public sealed record WesRunRequest(
    JsonObject WorkflowParams, string WorkflowType, string WorkflowTypeVersion, IReadOnlyDictionary<string, string> Tags,
    IReadOnlyDictionary<string, string> WorkflowEngineParameters, string WorkflowEngine, string WorkflowEngineVersion, string WorkflowUrl);

/// <summary>The spec's Log and TaskLog in one record (a TaskLog is a Log with an id and a tes_uri).</summary>
public sealed record WesLog(
    string? Id, string Name, IReadOnlyList<string> Cmd, string? StartTime, string? EndTime, string Stdout, string Stderr,
    int? ExitCode, IReadOnlyList<string> SystemLogs, string? TesUri);

public sealed record WesRunLog(
    string RunId, WesRunRequest Request, string State, WesLog RunLog, string TaskLogsUrl, IReadOnlyList<WesLog>? TaskLogs,
    IReadOnlyDictionary<string, string> Outputs);

public sealed record WesTaskList(IReadOnlyList<WesLog> TaskLogs, string NextPageToken);

public sealed record WesTypeVersions(IReadOnlyList<string> WorkflowTypeVersion);

public sealed record WesEngineVersions(IReadOnlyList<string> WorkflowEngineVersion);

public sealed record WesServiceType(string Group, string Artifact, string Version);

public sealed record WesOrganization(string Name, string Url);

public sealed record WesServiceInfo(
    string Id, string Name, WesServiceType Type, string Description, WesOrganization Organization, string Version,
    IReadOnlyDictionary<string, WesTypeVersions> WorkflowTypeVersions, IReadOnlyList<string> SupportedWesVersions,
    IReadOnlyList<string> SupportedFilesystemProtocols, IReadOnlyDictionary<string, WesEngineVersions> WorkflowEngineVersions,
    IReadOnlyList<object> DefaultWorkflowEngineParameters, IReadOnlyDictionary<string, long> SystemStateCounts,
    string AuthInstructionsUrl, IReadOnlyDictionary<string, string> Tags);
