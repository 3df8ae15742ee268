using System.Linq.Expressions;
using Runway.Runs;

namespace Runway.Compat.Ga4gh.Tes;

/// <summary>
/// A run's state as TES names it, and back as a filter. The table:
/// queued → QUEUED; running before its process started (inputs being staged) → INITIALIZING; running → RUNNING;
/// queued or running with a cancel asked → CANCELING; succeeded → COMPLETE; failed and timed_out → EXECUTOR_ERROR
/// (an executor's exit, or the time limit); system_error → SYSTEM_ERROR; canceled → CANCELED.
/// UNKNOWN, PAUSED and PREEMPTED never occur (Runway neither pauses nor preempts).
/// </summary>
public static class TesStates
{
    public static readonly string[] All =
        ["UNKNOWN", "QUEUED", "INITIALIZING", "RUNNING", "PAUSED", "COMPLETE", "EXECUTOR_ERROR", "SYSTEM_ERROR", "CANCELED", "PREEMPTED", "CANCELING"];

    public static string Of(Run run) => run.State switch
    {
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

    /// <summary>The runs in one TES state, as a query the database answers.</summary>
    public static Expression<Func<Run, bool>> Filter(string state) => state switch
    {
        "CANCELING" => r => (r.State == RunState.Queued || r.State == RunState.Running) && r.CancelRequestedAt != null,
        "QUEUED" => r => r.State == RunState.Queued && r.CancelRequestedAt == null,
        "INITIALIZING" => r => r.State == RunState.Running && r.CancelRequestedAt == null && r.NativeId == null,
        "RUNNING" => r => r.State == RunState.Running && r.CancelRequestedAt == null && r.NativeId != null,
        "COMPLETE" => r => r.State == RunState.Succeeded,
        "EXECUTOR_ERROR" => r => r.State == RunState.Failed || r.State == RunState.TimedOut,
        "SYSTEM_ERROR" => r => r.State == RunState.SystemError,
        "CANCELED" => r => r.State == RunState.Canceled,
        _ => r => false,
    };
}
