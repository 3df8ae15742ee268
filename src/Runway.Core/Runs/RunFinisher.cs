using Microsoft.Extensions.Logging;

namespace Runway.Runs;

/// <summary>
/// Records how runs end. The end of a run and the claim of what takes its slot share one transaction (one
/// durable commit per run instead of two while a queue drains); a write that fails is retried, and what
/// never lands is read back from the run's exit record at the next start.
/// </summary>
internal sealed class RunFinisher(IRunStore store, ActiveRuns active, TimeProvider clock, ILogger logger, SchedulerOptions options)
{
    /// <summary>
    /// Records a run's end and claims the runs that take its slot, which the caller launches. If that fails,
    /// the end is recorded on its own and nothing is claimed. <c>Recorded</c> says whether this end is the one
    /// the store now holds (false when the run had already moved, or the store could not be reached).
    /// </summary>
    public async Task<(bool Recorded, List<ActiveRun> Launches)> FinishAsync(string runId, RunTransition final)
    {
        var stopping = active.Stopping;
        List<ActiveRun> launches;
        bool recorded;
        try
        {
            await active.LockClaimsAsync(stopping);
            try
            {
                // This run's slot is free once the transaction commits; a server that is stopping claims nothing.
                var free = stopping.IsCancellationRequested ? 0 : options.Concurrency - active.Count + 1;
                var (transitioned, claimed) = await store.FinishAndClaimAsync(final, options.Node, free, CancellationToken.None);
                recorded = transitioned;
                if (!transitioned)
                {
                    logger.LogWarning("Run {RunId} was no longer running; {State} not recorded", runId, final.To);
                }
                active.Remove(runId);
                launches = active.Track(claimed);
            }
            finally
            {
                active.UnlockClaims();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            var persisted = await PersistAsync(final); // shutting down: record the end, claim nothing
            Release(runId);
            return (persisted, []);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not record the end of run {RunId} with the next claim; recording it alone", runId);
            var persisted = await PersistAsync(final);
            Release(runId);
            return (persisted, []);
        }
        if (stopping.IsCancellationRequested)
        {
            // Stopping began while they were claimed: hand them back unstarted, for this or another node.
            foreach (var run in launches)
            {
                await HandBackAsync(run.Run.Id);
                active.Remove(run.Run.Id);
            }
            return (recorded, []);
        }
        return (recorded, launches);
    }

    /// <summary>Records one move on its own, retrying twice; whether the store now holds it.</summary>
    public async Task<bool> PersistAsync(RunTransition transition)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (!await store.TryTransitionAsync(transition, CancellationToken.None))
                {
                    logger.LogWarning("Run {RunId} was no longer running; {State} not recorded", transition.RunId, transition.To);
                    return false;
                }
                return true;
            }
            catch (Exception e) when (attempt < 3)
            {
                logger.LogWarning(e, "Could not record the end of run {RunId}; retrying", transition.RunId);
                await Task.Delay(options.PollInterval, clock, CancellationToken.None);
            }
            catch (Exception e)
            {
                // Still running in the store: the next start of this node reads the recorded exit.
                logger.LogError(e, "Could not record the end of run {RunId}", transition.RunId);
                return false;
            }
        }
    }

    public async Task HandBackAsync(string runId)
    {
        try
        {
            await RunHandBack.HandBackAsync(store, runId, "node stopping before the run started", CancellationToken.None);
        }
        catch (Exception e)
        {
            // Still running in the store, never started: the next start of this node hands it back.
            logger.LogError(e, "Could not hand run {RunId} back to the queue", runId);
        }
    }

    /// <summary>Frees a run's slot without a claim in the same transaction, and has the loop fill it.</summary>
    public void Release(string runId)
    {
        active.Remove(runId);
        active.Wake();
    }
}
