using Runway.Execution;

namespace Runway.Runs;

/// <summary>A run this node is starting or running, and whether Runway asked it to stop (first cause wins).</summary>
internal sealed class ActiveRun(Run run)
{
    private RunHandle? handle;
    private int cause;
    private int stopping;
    private int leaseLost;

    public Run Run { get; } = run;
    public RunSpec? Spec { get; private set; }
    public IExecutor? Executor { get; private set; }
    public DateTimeOffset? Deadline { get; private set; }
    public RunHandle? Handle => Volatile.Read(ref handle);
    public StopCause Cause => (StopCause)Volatile.Read(ref cause);

    /// <summary>The node whose lease on this run expired, when this node took it over; null for its own runs.</summary>
    public string? LostNode { get; init; }

    /// <summary>Another node took this run over: this one writes nothing more of it.</summary>
    public bool LeaseLost => Volatile.Read(ref leaseLost) == 1;

    public void MarkLeaseLost() => Volatile.Write(ref leaseLost, 1);

    // The handle is published last: whoever sees it also sees the rest. Deadlines hold across restarts:
    // they count from started_at, not from when this process saw the run.
    public void Track(RunSpec spec, IExecutor executor, RunHandle started, DateTimeOffset now)
    {
        Spec = spec;
        Executor = executor;
        Deadline = spec.TimeLimit is { } limit && !executor.EnforcesTimeLimit ? (Run.StartedAt ?? now) + limit : null;
        Volatile.Write(ref handle, started);
    }

    public bool TrySetCause(StopCause value) => Interlocked.CompareExchange(ref cause, (int)value, (int)StopCause.None) == (int)StopCause.None;

    public bool TryMarkStopping() => Interlocked.Exchange(ref stopping, 1) == 0;
}
