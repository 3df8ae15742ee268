namespace Runway.Runs;

/// <summary>The allowed moves between states: the one rule every writer of a run's state obeys.</summary>
public static class RunTransitions
{
    public static bool IsAllowed(RunState from, RunState to) => (from, to) switch
    {
        (RunState.Queued, RunState.Running) => true,
        (RunState.Queued, RunState.Canceled) => true,
        // A queued run whose pipeline or inputs vanished before it could start.
        (RunState.Queued, RunState.SystemError) => true,
        // A node that restarted before it started a claimed run hands it back (never started, so never run twice).
        (RunState.Running, RunState.Queued) => true,
        (RunState.Running, RunState.Succeeded or RunState.Failed or RunState.Canceled
            or RunState.TimedOut or RunState.SystemError) => true,
        _ => false,
    };
}
