using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Runway.Execution;

namespace Runway.Runs;

/// <summary>
/// This node's worker: takes back its runs at start (<see cref="RunReconciler"/>), then claims queued runs
/// up to <see cref="SchedulerOptions.Concurrency"/>, starts them, enforces time limits, and records how
/// each ended. It waits on <see cref="Wake"/> or the poll interval, never in a tight loop. On shutdown it
/// only stops claiming: running runs go on, and the next start takes them back.
/// </summary>
public sealed class RunScheduler(
    IRunStore store,
    IEnumerable<IExecutor> executors,
    RunWorkspace workspace,
    TimeProvider clock,
    ILogger<RunScheduler> logger,
    SchedulerOptions options) : BackgroundService
{
    private readonly Dictionary<string, IExecutor> executorsByName = executors.ToDictionary(e => e.Name, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ActiveRun> active = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim signal = new(0, 1);
    // Claims come from the loop and from runs that end (FinishAsync): one at a time, so that together
    // they never take more runs than the free slots.
    private readonly SemaphoreSlim claiming = new(1, 1);
    private CancellationToken stopping;
    private long started;

    /// <summary>Runs this node is starting or running now.</summary>
    public int ActiveCount => active.Count;

    /// <summary>Runs this scheduler has started since it was created (not counting those taken back).</summary>
    public long StartedCount => Interlocked.Read(ref started);

    /// <summary>Makes the loop look for work now (after a submission, or when a slot frees).</summary>
    public void Wake()
    {
        try
        {
            if (signal.CurrentCount == 0)
            {
                signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Another wake got there first: one pending wake is enough.
        }
        catch (ObjectDisposedException)
        {
            // A run that ended after shutdown: nobody is left to wake.
        }
    }

    /// <summary>
    /// Cancels a run: a queued one ends canceled at once; a running one is marked (durably) and stopped,
    /// and ends canceled when its process is gone; a finished one is returned unchanged. Returns the run
    /// as it is after the request, or null when there is no such run.
    /// </summary>
    public async Task<Run?> CancelAsync(string runId, CancellationToken cancellationToken)
    {
        var run = await store.GetAsync(runId, cancellationToken);
        if (run is { State: RunState.Queued })
        {
            var toCanceled = new RunTransition(runId, [RunState.Queued], RunState.Canceled, RunOutcome.CanceledByUser) { Message = RunOutcome.CanceledByUser };
            if (await store.TryTransitionAsync(toCanceled, cancellationToken))
            {
                return await store.GetAsync(runId, cancellationToken);
            }
            // Lost a race with a claim: it is running now.
            run = await store.GetAsync(runId, cancellationToken);
        }
        if (run is not { State: RunState.Running })
        {
            return run;
        }
        await store.RequestCancelAsync(runId, cancellationToken);
        // A run of another node is stopped there, when its poll sees the request.
        if (active.TryGetValue(runId, out var local) && local.TrySetCause(StopCause.Canceled))
        {
            Stop(local);
        }
        return await store.GetAsync(runId, cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        stopping = stoppingToken;
        var reconciled = false;
        var lastSweep = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!reconciled)
                {
                    await ReconcileAsync(stoppingToken);
                    reconciled = true;
                }
                if (clock.GetUtcNow() - lastSweep >= options.PollInterval)
                {
                    lastSweep = clock.GetUtcNow();
                    await SweepCancelRequestsAsync(stoppingToken);
                }
                EnforceDeadlines();
                await ClaimAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Scheduler iteration failed; trying again");
            }
            try
            {
                await signal.WaitAsync(NextWait(), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        logger.LogInformation("Scheduler stopped claiming; {Count} runs keep running", active.Count);
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var reconciler = new RunReconciler(store, executorsByName, workspace, logger);
        var taken = new List<ActiveRun>();
        foreach (var back in await reconciler.ReconcileAsync(options.Node, cancellationToken))
        {
            var run = new ActiveRun(back.Run);
            run.Track(back.Spec, back.Executor, back.Handle, Deadline(back.Run, back.Spec));
            active[back.Run.Id] = run;
            taken.Add(run);
        }
        // Watched only once all count as active: a run that ended while the server was down finishes at
        // once, and the claim of its successor must see every slot the others hold.
        foreach (var run in taken)
        {
            if (run.Run.CancelRequestedAt is not null && run.TrySetCause(StopCause.Canceled))
            {
                Stop(run);
            }
            _ = WatchAsync(run);
        }
    }

    private async Task ClaimAsync(CancellationToken cancellationToken)
    {
        List<ActiveRun> launches;
        await claiming.WaitAsync(cancellationToken);
        try
        {
            var free = options.Concurrency - active.Count;
            if (free <= 0)
            {
                return;
            }
            launches = Track(await store.ClaimAsync(options.Node, free, cancellationToken));
        }
        finally
        {
            claiming.Release();
        }
        foreach (var run in launches)
        {
            _ = LaunchAsync(run);
        }
    }

    private List<ActiveRun> Track(IReadOnlyList<Run> claimed)
    {
        var runs = claimed.Select(c => new ActiveRun(c)).ToList();
        foreach (var run in runs)
        {
            active[run.Run.Id] = run;
        }
        return runs;
    }

    private async Task LaunchAsync(ActiveRun run)
    {
        var id = run.Run.Id;
        try
        {
            var spec = RunSpecJson.Deserialize(run.Run.SpecJson);
            if (!executorsByName.TryGetValue(run.Run.Executor, out var executor))
            {
                throw new ExecutorStartException($"no executor named {run.Run.Executor} on this node");
            }
            var directory = await workspace.PrepareAsync(id, spec, stopping);
            if (run.Cause == StopCause.Canceled)
            {
                // Cancelled between claim and start: nothing to stop.
                await PersistAsync(RunOutcome.Final(id, new RunExit(null), StopCause.Canceled, null));
                Release(id);
                return;
            }
            var handle = await executor.StartAsync(new RunLaunch(id, directory, spec), stopping);
            Interlocked.Increment(ref started);
            run.Track(spec, executor, handle, Deadline(run.Run, spec));
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return; // Claimed, maybe not started: the next start of this node sorts it out.
        }
        catch (Exception e)
        {
            var message = e is ExecutorStartException or InputStagingException ? e.Message
                : e is JsonException ? $"the run's spec is unreadable: {e.Message}"
                : $"could not start the run: {e.Message}";
            logger.LogWarning(e, "Run {RunId} could not start: {Message}", id, message);
            await PersistAsync(new RunTransition(id, [RunState.Running], RunState.SystemError, message) { Message = message });
            Release(id);
            return;
        }
        if (run.Cause != StopCause.None)
        {
            Stop(run); // Cancelled while it was starting.
        }
        try
        {
            await store.SetNativeIdAsync(id, run.Handle!.NativeId, stopping);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The run goes on; a restart would find it by its pid file (IStartedRunFinder).
            logger.LogError(e, "Could not record the native id of run {RunId}", id);
        }
        catch (OperationCanceledException)
        {
        }
        await WatchAsync(run);
    }

    private async Task WatchAsync(ActiveRun run)
    {
        RunExit exit;
        try
        {
            exit = await run.Handle!.Exited.WaitAsync(stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return; // Shutting down: the run goes on, and the next start takes it back.
        }
        catch (Exception e)
        {
            exit = new RunExit(null, $"lost track of the run: {e.Message}");
        }
        // Persist the final state first; the executor has already cleaned up the process group.
        await FinishAsync(run.Run.Id, RunOutcome.Final(run.Run.Id, exit, run.Cause, run.Spec?.TimeLimit));
    }

    /// <summary>
    /// Records a run's end and, in the same transaction, claims what takes its slot (one durable commit
    /// per run instead of two while a queue drains). If that fails, the end is recorded on its own.
    /// </summary>
    private async Task FinishAsync(string runId, RunTransition final)
    {
        List<ActiveRun> launches;
        try
        {
            await claiming.WaitAsync(stopping);
            try
            {
                // This run's slot is free once the transaction commits; a server that is stopping claims nothing.
                var free = stopping.IsCancellationRequested ? 0 : options.Concurrency - active.Count + 1;
                var (transitioned, claimed) = await store.FinishAndClaimAsync(final, options.Node, free, CancellationToken.None);
                if (!transitioned)
                {
                    logger.LogWarning("Run {RunId} was no longer running; {State} not recorded", runId, final.To);
                }
                active.TryRemove(runId, out _);
                launches = Track(claimed);
            }
            finally
            {
                claiming.Release();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            await PersistAsync(final); // shutting down: record the end, claim nothing
            Release(runId);
            return;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not record the end of run {RunId} with the next claim; recording it alone", runId);
            await PersistAsync(final);
            Release(runId);
            return;
        }
        if (stopping.IsCancellationRequested)
        {
            // Stopping began while they were claimed: hand them back unstarted, for this or another node.
            foreach (var run in launches)
            {
                await PersistAsync(new RunTransition(run.Run.Id, [RunState.Running], RunState.Queued, "node stopping before the run started"));
                active.TryRemove(run.Run.Id, out _);
            }
            return;
        }
        foreach (var run in launches)
        {
            _ = LaunchAsync(run);
        }
        if (launches.Count > 0)
        {
            Wake(); // the loop's next wait takes the new runs' time limits into account
        }
    }

    private async Task PersistAsync(RunTransition transition)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (!await store.TryTransitionAsync(transition, CancellationToken.None))
                {
                    logger.LogWarning("Run {RunId} was no longer running; {State} not recorded", transition.RunId, transition.To);
                }
                return;
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
                return;
            }
        }
    }

    private void Release(string runId)
    {
        active.TryRemove(runId, out _);
        Wake();
    }

    private async Task SweepCancelRequestsAsync(CancellationToken cancellationToken)
    {
        if (active.IsEmpty)
        {
            return;
        }
        foreach (var run in await store.ListRunningAsync(options.Node, cancellationToken))
        {
            if (run.CancelRequestedAt is not null && active.TryGetValue(run.Id, out var local) && local.TrySetCause(StopCause.Canceled))
            {
                Stop(local);
            }
        }
    }

    private void EnforceDeadlines()
    {
        var now = clock.GetUtcNow();
        foreach (var run in active.Values)
        {
            if (run.Deadline <= now && run.TrySetCause(StopCause.TimeLimit))
            {
                logger.LogInformation("Run {RunId} exceeded its time limit; stopping it", run.Run.Id);
                Stop(run);
            }
        }
    }

    private TimeSpan NextWait()
    {
        var now = clock.GetUtcNow();
        var wait = options.PollInterval;
        foreach (var run in active.Values)
        {
            if (run.Cause == StopCause.None && run.Deadline is { } deadline && deadline - now < wait)
            {
                wait = deadline - now;
            }
        }
        return wait < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : wait;
    }

    // Deadlines hold across restarts: they count from started_at, not from when this process saw the run.
    private DateTimeOffset? Deadline(Run run, RunSpec spec) =>
        spec.TimeLimit is { } limit ? (run.StartedAt ?? clock.GetUtcNow()) + limit : null;

    private void Stop(ActiveRun run)
    {
        if (run.Handle is { } handle && run.Executor is { } executor && run.TryMarkStopping())
        {
            _ = StopAsync(executor, handle);
        }
    }

    private async Task StopAsync(IExecutor executor, RunHandle handle)
    {
        try
        {
            await executor.StopAsync(handle, options.StopGrace, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogError(e, "Could not stop run {RunId}", handle.RunId);
        }
    }

    public override void Dispose()
    {
        signal.Dispose();
        // Not `claiming`: a run ending during shutdown may still release it; it holds no OS handle.
        base.Dispose();
    }
}
