using System.Text.Json;
using System.Text.Json.Nodes;
using Runway.Runs;

namespace Runway.Api;

/// <summary>A run as the API returns it (DESIGN.md, "A run, as the API returns it").</summary>
public sealed record RunResponse(
    string Id,
    string Pipeline,
    string PipelineVersion,
    string? Name,
    JsonObject Params,
    IReadOnlyDictionary<string, string> Tags,
    int Priority,
    string Owner,
    RunState State,
    string? Message,
    int? ExitCode,
    string Executor,
    string? NativeId,
    string? Node,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    double? ElapsedSeconds,
    DateTimeOffset? CancelRequestedAt,
    IReadOnlyList<RunEventResponse>? Events,
    int Attempt = 1,
    long? FilesBytes = null,
    DateTimeOffset? FilesPurgedAt = null,
    ResourcesUsed? ResourcesUsed = null,
    string? CachedFrom = null,
    IReadOnlyList<NotificationResponse>? Notifications = null,
    string? BatchId = null,
    string? ResubmittedFrom = null,
    string? ScheduleId = null,
    DateTimeOffset? ScheduledFor = null)
{
    public static RunResponse From(Run run, TimeProvider clock, IReadOnlyList<RunEvent>? events = null) => new(
        run.Id,
        run.Pipeline,
        run.PipelineVersion,
        run.Name,
        JsonNode.Parse(run.ParamsJson)?.AsObject() ?? [],
        JsonSerializer.Deserialize<Dictionary<string, string>>(run.TagsJson) ?? [],
        run.Priority,
        run.Owner,
        run.State,
        run.Message,
        run.ExitCode,
        run.Executor,
        run.NativeId,
        run.Node,
        run.SubmittedAt,
        run.StartedAt,
        run.FinishedAt,
        Elapsed(run, clock),
        run.CancelRequestedAt,
        events?.Select(e => new RunEventResponse(e.From, e.To, e.Reason, e.At)).ToList(),
        run.Attempt,
        run.FilesBytes,
        run.FilesPurgedAt,
        ResourcesUsed.Of(run),
        run.CachedFrom,
        BatchId: run.BatchId,
        ResubmittedFrom: run.ResubmittedFrom,
        ScheduleId: run.ScheduleId,
        ScheduledFor: run.ScheduledFor);

    /// <summary>
    /// The run as its submission's 201 showed it: what a replay of that request answers. That was queued, nothing started;
    /// or, for a run that reused an earlier run's outputs (RunCache), born succeeded with <c>cached_from</c> (it never moves).
    /// </summary>
    public static RunResponse AsSubmitted(Run run, TimeProvider clock) => run.CachedFrom is not null
        ? From(run, clock) with { FilesPurgedAt = null, Notifications = null }
        : From(run, clock) with
        {
            State = RunState.Queued,
            Message = null,
            ExitCode = null,
            NativeId = null,
            Node = null,
            StartedAt = null,
            FinishedAt = null,
            ElapsedSeconds = null,
            CancelRequestedAt = null,
            FilesBytes = null,
            FilesPurgedAt = null,
            ResourcesUsed = null,
            Notifications = null,
        };

    public static double? Elapsed(Run run, TimeProvider clock) => run.StartedAt is { } started
        ? Math.Round(((run.FinishedAt ?? clock.GetUtcNow()) - started).TotalSeconds, 3)
        : null;
}

/// <summary>
/// What a finished run used, beside the pipeline's <c>resources</c> (what it asked for): null until it ends, and a
/// figure is null where nothing measured it (<see cref="RunUsage"/>).
/// </summary>
public sealed record ResourcesUsed(double? WallSeconds, double? CpuSeconds, long? PeakMemoryBytes)
{
    public static ResourcesUsed? Of(Run run) => run.WallSeconds is null && run.CpuSeconds is null && run.PeakMemoryBytes is null
        ? null
        : new(run.WallSeconds, run.CpuSeconds is { } cpu ? Math.Round(cpu, 3) : null, run.PeakMemoryBytes);
}

/// <summary>One delivery of the run's <c>notify</c>: pending until its run ends, then delivered, failed (given up), or skipped.</summary>
public sealed record NotificationResponse(
    string Id, string Target, string Kind, string State, int Attempts, int? LastStatus, string? LastError, DateTimeOffset? DeliveredAt, DateTimeOffset? NextAttemptAt)
{
    public static NotificationResponse From(Data.Notification n) =>
        new(n.Id, n.Target, n.Kind, n.State, n.Attempts, n.LastStatus, n.LastError, n.DeliveredAt, n.NextAttemptAt);
}

public sealed record RunEventResponse(RunState? From, RunState To, string Reason, DateTimeOffset At);

public sealed record RunListResponse(IReadOnlyList<RunResponse> Runs, string? NextCursor);

public sealed record SubmitRunRequest(
    string? Pipeline,
    JsonObject? Params,
    string? Name,
    Dictionary<string, string>? Tags,
    int? Priority,
    bool? Cache = null,
    string? PipelineVersion = null,
    Notifications.NotifyRequest? Notify = null);

/// <summary>POST /api/v1/runs/{id}/resubmit's optional body.</summary>
public sealed record ResubmitRequest(string? PipelineVersion);
