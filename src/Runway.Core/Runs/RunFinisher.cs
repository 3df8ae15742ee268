using Microsoft.Extensions.Logging;

namespace Runway.Runs;

/// <summary>
/// Records how runs end. The ends of runs and the claim of what takes their slots share one transaction (one
/// durable commit instead of two while a queue drains); runs that end while that commit is under way go together
/// in the next one (as <c>GroupCommit</c> batches submissions). A write that fails is retried alone per run, and
/// what never lands is read back from the run's exit record at the next start.
/// </summary>
internal sealed class RunFinisher(IRunStore store, ActiveRuns active, TimeProvider clock, ILogger logger, SchedulerOptions options)
{
    private readonly Lock gate = new();
    private List<Ending> waiting = [];
    private bool flushing;

    /// <summary>
    /// Records a run's end and claims the runs that take its slot, which the caller launches. If that fails,
    /// the end is recorded on its own and nothing is claimed. <c>Recorded</c> says whether this end is the one
    /// the store now holds (false when the run had already moved, or the store could not be reached). Ends
    /// recorded together in one batch: the first caller launches all the batch claimed.
    /// </summary>
    public async Task<(bool Recorded, List<ActiveRun> Launches)> FinishAsync(string runId, RunTransition final)
    {
        var ending = new Ending(runId, final);
        bool lead;
        lock (gate)
        {
            waiting.Add(ending);
            lead = !flushing;
            flushing = true;
        }
        if (lead)
        {
            _ = FlushAsync();
        }
        return await ending.Done.Task;
    }

    /// <summary>Records batches until none waits; one flush at a time.</summary>
    private async Task FlushAsync()
    {
        while (true)
        {
            List<Ending> batch;
            lock (gate)
            {
                if (waiting.Count == 0)
                {
                    flushing = false;
                    return;
                }
                (batch, waiting) = (waiting, []);
            }
            try
            {
                await FinishBatchAsync(batch);
            }
            catch (Exception e)
            {
                // Not expected (each step above handles its own failures), but no caller may wait for ever.
                foreach (var ending in batch)
                {
                    ending.Done.TrySetException(e);
                }
            }
        }
    }

    /// <summary>One batch: every ending's Done is set, whatever happens.</summary>
    private async Task FinishBatchAsync(List<Ending> batch)
    {
        var stopping = active.Stopping;
        List<ActiveRun> launches;
        IReadOnlyList<bool> recorded;
        try
        {
            await active.LockClaimsAsync(stopping);
            try
            {
                // These runs' slots are free once the transaction commits; a server that is stopping claims nothing.
                var free = stopping.IsCancellationRequested ? 0 : options.Concurrency - active.Count + batch.Count;
                var finals = batch.ConvertAll(e => e.Final);
                (recorded, var claimed) = batch.Count == 1
                    ? await FinishOneAsync(finals[0], free)
                    : await store.FinishManyAndClaimAsync(finals, options.Node, free, CancellationToken.None);
                for (var i = 0; i < batch.Count; i++)
                {
                    if (!recorded[i])
                    {
                        logger.LogWarning("Run {RunId} was no longer running; {State} not recorded", batch[i].RunId, batch[i].Final.To);
                    }
                    active.Remove(batch[i].RunId);
                }
                launches = active.Track(claimed);
            }
            finally
            {
                active.UnlockClaims();
            }
        }
        catch (Exception e)
        {
            if (!(e is OperationCanceledException && stopping.IsCancellationRequested))
            {
                logger.LogWarning(e, "Could not record the end of {Count} run(s) with the next claim; recording each alone", batch.Count);
            }
            // Shutting down, or the batch failed: each end on its own, nothing claimed.
            foreach (var ending in batch)
            {
                var persisted = await PersistAsync(ending.Final);
                Release(ending.RunId);
                ending.Done.TrySetResult((persisted, []));
            }
            return;
        }
        if (stopping.IsCancellationRequested)
        {
            // Stopping began while they were claimed: hand them back unstarted, for this or another node.
            foreach (var run in launches)
            {
                await HandBackAsync(run.Run.Id);
                active.Remove(run.Run.Id);
            }
            launches = [];
        }
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Done.TrySetResult((recorded[i], i == 0 ? launches : []));
        }
    }

    private async Task<(IReadOnlyList<bool>, IReadOnlyList<Run>)> FinishOneAsync(RunTransition final, int free)
    {
        var (transitioned, claimed) = await store.FinishAndClaimAsync(final, options.Node, free, CancellationToken.None);
        return ([transitioned], claimed);
    }

    private sealed record Ending(string RunId, RunTransition Final)
    {
        public TaskCompletionSource<(bool Recorded, List<ActiveRun> Launches)> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
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
