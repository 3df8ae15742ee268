using System.Linq.Expressions;
using Runway.Data;
using Runway.Runs;

namespace Runway.Compat.Ga4gh.Tes;

/// <summary>
/// A run's state as TES names it, and back as a filter. The table:
/// queued → QUEUED; running before its process started (inputs being staged) → INITIALIZING; running → RUNNING;
/// queued or running with a cancel asked → CANCELING; succeeded → COMPLETE; failed and timed_out → EXECUTOR_ERROR
/// (an executor's exit, or the time limit); system_error → SYSTEM_ERROR; canceled → CANCELED. A succeeded, failed or
/// timed-out run stays RUNNING until its outputs are collected (<see cref="TesOutputCollector"/>): TES's COMPLETE means
/// "executors have exited and outputs have been uploaded", and a client fetches the outputs once it sees it.
/// UNKNOWN, PAUSED and PREEMPTED never occur (Runway neither pauses nor preempts).
/// </summary>
public static class TesStates
{
    public static readonly string[] All =
        ["UNKNOWN", "QUEUED", "INITIALIZING", "RUNNING", "PAUSED", "COMPLETE", "EXECUTOR_ERROR", "SYSTEM_ERROR", "CANCELED", "PREEMPTED", "CANCELING"];

    public static string Of(Run run, bool collected) => run.State switch
    {
        _ when TesOutputs.Collects(run.State) && !collected => "RUNNING",
        RunState.Queued or RunState.Running when run.CancelRequestedAt is not null => "CANCELING",
        RunState.Queued => "QUEUED",
        RunState.Running when run.NativeId is null => "INITIALIZING",
        RunState.Running => "RUNNING",
        RunState.Succeeded => "COMPLETE",
        RunState.Failed or RunState.TimedOut => "EXECUTOR_ERROR",
        RunState.SystemError => "SYSTEM_ERROR",
        RunState.Canceled => "CANCELED",
        _ => "UNKNOWN",
    };

    /// <summary>The runs in one TES state, as a query the database answers; <paramref name="collected"/>: the collected rows.</summary>
    public static Expression<Func<Run, bool>> Filter(string state, IQueryable<TesOutputRecord> collected) => state switch
    {
        "CANCELING" => r => (r.State == RunState.Queued || r.State == RunState.Running) && r.CancelRequestedAt != null,
        "QUEUED" => r => r.State == RunState.Queued && r.CancelRequestedAt == null,
        "INITIALIZING" => r => r.State == RunState.Running && r.CancelRequestedAt == null && r.NativeId == null,
        "RUNNING" => r => (r.State == RunState.Running && r.CancelRequestedAt == null && r.NativeId != null)
            || ((r.State == RunState.Succeeded || r.State == RunState.Failed || r.State == RunState.TimedOut) && !collected.Any(o => o.RunId == r.Id)),
        "COMPLETE" => r => r.State == RunState.Succeeded && collected.Any(o => o.RunId == r.Id),
        "EXECUTOR_ERROR" => r => (r.State == RunState.Failed || r.State == RunState.TimedOut) && collected.Any(o => o.RunId == r.Id),
        "SYSTEM_ERROR" => r => r.State == RunState.SystemError,
        "CANCELED" => r => r.State == RunState.Canceled,
        _ => r => false,
    };
}
