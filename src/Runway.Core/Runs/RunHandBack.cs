using Runway.Execution;

namespace Runway.Runs;

/// <summary>
/// Hands a claimed run that never started back to the queue, for this or another node — unless a cancel was
/// requested: then it ends canceled, since a queued run would be claimed and run, or wait for nothing. The
/// store refuses to queue a run with a cancel request (<see cref="IRunStore.TryTransitionAsync"/>), so a
/// request that lands between the two moves below is never lost.
/// </summary>
internal static class RunHandBack
{
    /// <summary>Returns the state the run is in afterwards, or null when it is gone.</summary>
    public static async Task<RunState?> HandBackAsync(IRunStore store, string runId, string reason, CancellationToken cancellationToken)
    {
        var canceled = new RunTransition(runId, [RunState.Running], RunState.Canceled, RunOutcome.CanceledByUser) { Message = RunOutcome.CanceledByUser };
        // Each failed attempt means the run moved in between (a cancel request, or another writer): at most a few.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await store.TryTransitionAsync(new RunTransition(runId, [RunState.Running], RunState.Queued, reason), cancellationToken))
            {
                return RunState.Queued;
            }
            var run = await store.GetAsync(runId, cancellationToken);
            if (run is not { State: RunState.Running })
            {
                return run?.State;
            }
            if (run.CancelRequestedAt is not null && await store.TryTransitionAsync(canceled, cancellationToken))
            {
                return RunState.Canceled;
            }
        }
        return (await store.GetAsync(runId, cancellationToken))?.State;
    }
}
