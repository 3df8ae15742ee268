namespace Runway.Runs;

/// <summary>
/// One execution of one pipeline version with one set of validated parameters. Everything needed to
/// execute it (<see cref="Spec"/>) is fixed at submission, so a later edit of the pipeline YAML does not
/// change a queued run.
/// </summary>
public sealed class Run
{
    public required string Id { get; init; }
    public required string Pipeline { get; init; }
    public required string PipelineVersion { get; init; }
    public string? Name { get; init; }

    /// <summary>The validated parameters as a JSON object, defaults filled in.</summary>
    public required string ParamsJson { get; init; }

    /// <summary>Tags as a JSON object of strings.</summary>
    public string TagsJson { get; init; } = "{}";

    public int Priority { get; init; }
    public required string Owner { get; init; }
    public RunState State { get; set; }
    public string? Message { get; set; }
    public int? ExitCode { get; set; }
    public required string Executor { get; init; }
    public string? NativeId { get; set; }
    public string? Node { get; set; }
    public DateTimeOffset SubmittedAt { get; init; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset? CancelRequestedAt { get; set; }

    /// <summary>What the finished run used (<see cref="RunUsage"/>); null figures where nothing measured them.</summary>
    public double? WallSeconds { get; set; }
    public double? CpuSeconds { get; set; }
    public long? PeakMemoryBytes { get; set; }

    /// <summary>Which execution of this run it is: 1, then one more each time a lost node's run is queued again (<see cref="RunSpec.Retries"/>).</summary>
    public int Attempt { get; set; } = 1;

    /// <summary>
    /// The lease of the node process that holds this running run (its <c>NodeLease</c> id), renewed by that node's
    /// heartbeat until <see cref="LeaseExpiresAt"/>. Every write of that node is conditioned on it: once another node
    /// has taken the run over, the first can no longer touch it. Null while queued or once final.
    /// </summary>
    public string? Lease { get; set; }

    public DateTimeOffset? LeaseExpiresAt { get; set; }

    /// <summary>
    /// The bytes its run directory takes on disk (allocated size, <see cref="Execution.RunTree.Measure"/>), measured
    /// once after it ended; 0 once its files were purged; null until measured.
    /// </summary>
    public long? FilesBytes { get; set; }

    /// <summary>When its run directory was removed (by its owner, or by the retention policy); the record stays.</summary>
    public DateTimeOffset? FilesPurgedAt { get; set; }

    /// <summary>The <see cref="RunSpec"/> as JSON, rendered at submission.</summary>
    public required string SpecJson { get; init; }

    /// <summary>Client-chosen key that makes a retried submission return this run (scoped to the owner).</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>
    /// A hash of the submission that carried <see cref="IdempotencyKey"/>: a retry must send the same one,
    /// and a different submission under the same key is refused rather than answered with this run.
    /// </summary>
    public string? IdempotencyFingerprint { get; init; }

    /// <summary>
    /// The hash of pipeline name and version, canonical parameters and input files' sha256 (Runs/RunCache), when its
    /// pipeline says <c>cache: true|shared</c>; a later identical run may reuse this one's outputs. Null otherwise.
    /// </summary>
    public string? CacheKey { get; init; }

    /// <summary>The earlier run whose outputs this one serves: it ended succeeded at submission, nothing executed.</summary>
    public string? CachedFrom { get; init; }
    /// <summary>Who to tell when it ends; written with the run (an outbox row each), not a column of it.</summary>
    public IReadOnlyList<NotifyTarget> Notify { get; init; } = [];
    /// <summary>The batch it was submitted in (POST /api/v1/batches); null for a run submitted alone.</summary>
    public string? BatchId { get; init; }
    /// <summary>The run this one was made from by POST /api/v1/runs/{id}/resubmit (same parameters and inputs), else null.</summary>
    public string? ResubmittedFrom { get; init; }

    /// <summary>The schedule that made this run, and the fire time it was made for: one run per (schedule, fire time).</summary>
    public string? ScheduleId { get; init; }

    public DateTimeOffset? ScheduledFor { get; init; }
}
