using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Runway.Execution;

namespace Runway.Runs;

/// <summary>
/// This node's worker: takes back its runs at start (<see cref="RunReconciler"/>), then claims queued runs
/// up to <see cref="SchedulerOptions.Concurrency"/>, starts them (<see cref="RunLauncher"/>), enforces time
/// limits and cancels (<see cref="RunStopper"/>), and records how each ended (<see cref="RunFinisher"/>).
/// It waits on <see cref="Wake"/> or the poll interval, never in a tight loop. Every lease interval it renews
/// its runs' leases (letting go of those another node took over) and takes over runs whose lease expired
/// (<see cref="IRunStore.RescueExpiredAsync"/>). On shutdown it stops claiming and hands back the runs it claimed
/// but had not started; running runs go on, and the next start (or another node, once their leases lapse) takes them back.
/// </summary>
public sealed class RunScheduler : BackgroundService
{
    private readonly IRunStore store;
    private readonly IReadOnlyDictionary<string, IExecutor> executorsByName;
    private readonly RunWorkspace workspace;
    private readonly TimeProvider clock;
    private readonly ILogger<RunScheduler> logger;
    private readonly SchedulerOptions options;
    private readonly ActiveRuns active = new();
    private readonly RunStopper stopper;
    private readonly RunLauncher launcher;

    public RunScheduler(
        IRunStore store, IEnumerable<IExecutor> executors, RunWorkspace workspace, TimeProvider clock, ILogger<RunScheduler> logger, SchedulerOptions options)
    {
        (this.store, this.workspace, this.clock, this.logger, this.options) = (store, workspace, clock, logger, options);
        executorsByName = executors.ToDictionary(e => e.Name, StringComparer.Ordinal);
        stopper = new RunStopper(store, active, clock, logger, options);
        var finisher = new RunFinisher(store, active, clock, logger, options);
        launcher = new RunLauncher(store, executorsByName, workspace, active, stopper, finisher, clock, logger);
    }

    /// <summary>Runs this node is starting or running now.</summary>
    public int ActiveCount => active.Count;

    /// <summary>Runs this scheduler has started since it was created (not counting those taken back).</summary>
    public long StartedCount => launcher.StartedCount;

    /// <summary>Makes the loop look for work now (after a submission, or when a slot frees).</summary>
    public void Wake() => active.Wake();

    /// <summary>
    /// Cancels a run: a queued one ends canceled at once; a running one is marked (durably) and stopped,
    /// and ends canceled when its process is gone; a finished one is returned unchanged. Returns the run
    /// as it is after the request, or null when there is no such run.
    /// </summary>
    public Task<Run?> CancelAsync(string runId, CancellationToken cancellationToken) => stopper.CancelAsync(runId, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        active.Stopping = stoppingToken;
        var reconciled = false;
        var lastSweep = DateTimeOffset.MinValue;
        var lastLease = DateTimeOffset.MinValue;
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
                    await stopper.SweepCancelRequestsAsync(stoppingToken);
                }
                if (options.LeaseInterval is { } every && clock.GetUtcNow() - lastLease >= every)
                {
                    lastLease = clock.GetUtcNow();
                    await KeepLeasesAsync(stoppingToken);
                    await TakeOverAsync(stoppingToken);
                    TellExecutorsLeasesHold(lastLease, []); // again: the runs just taken over hold too
                }
                stopper.EnforceDeadlines();
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
                var wait = stopper.UntilNextDeadline();
                await active.WaitForWakeAsync(options.LeaseInterval is { } lease && lease < wait ? lease : wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await launcher.WaitForUnstartedAsync();
        logger.LogInformation("Scheduler stopped claiming; {Count} runs keep running", active.Count);
    }

    /// <summary>Renews the leases of this node's runs; a run another node took over meanwhile is let go.</summary>
    private async Task KeepLeasesAsync(CancellationToken cancellationToken)
    {
        var renewing = clock.GetUtcNow();
        var lost = await store.RenewLeasesAsync([.. active.All.Select(r => r.Run.Id)], cancellationToken);
        // Only after a renewal that reached the database: a node cut off from it stops renewing its runs' processes too.
        TellExecutorsLeasesHold(renewing, lost);
        foreach (var id in lost)
        {
            if (!active.TryGet(id, out var run))
            {
                continue;
            }
            run.MarkLeaseLost();
            run.TrySetCause(StopCause.Canceled); // one not started yet never starts
            active.Remove(id);
            // The taker watches the very process when it can see it (same native id): leave it be. Otherwise the
            // run was queued again or ended, and this process must not go on beside a retry of itself.
            var now = await store.GetAsync(id, cancellationToken);
            var adopted = now is { State: RunState.Running } && run.Handle is { } handle && now.NativeId == handle.NativeId;
            logger.LogWarning("Run {RunId} was taken over by node {Node} while this node missed its heartbeats; {Action}",
                id, now?.Node, adopted ? "it watches the run's process now" : "stopping this node's process of it");
            if (!adopted)
            {
                stopper.Stop(run);
            }
        }
    }

    /// <summary>Several nodes: each executor hears that its runs' leases hold until the renewal at <paramref name="renewed"/> lapses.</summary>
    private void TellExecutorsLeasesHold(DateTimeOffset renewed, IReadOnlyList<string> lost)
    {
        if (options.EnforcedLease is not { } lease)
        {
            return;
        }
        var goodFor = lease - (clock.GetUtcNow() - renewed);
        foreach (var group in active.All.Where(r => r.Executor is not null && r.Handle is not null && !lost.Contains(r.Run.Id)).GroupBy(r => r.Executor!))
        {
            group.Key.KeepLeases([.. group.Select(r => r.Handle!.NativeId)], goodFor);
        }
    }

    private async Task TakeOverAsync(CancellationToken cancellationToken)
    {
        var reconciler = new RunReconciler(store, executorsByName, workspace, logger);
        foreach (var rescued in await store.RescueExpiredAsync(options.Node, RescueBatch, cancellationToken))
        {
            if (active.TryGet(rescued.Run.Id, out _))
            {
                continue; // this node's own run, whose lease lapsed while this node was paused: renewed by the rescue
            }
            if (await reconciler.TakeOverAsync(rescued, cancellationToken) is { } taken)
            {
                Watch(taken);
            }
        }
    }

    /// <summary>At most this many runs taken over per lease interval, so one tick stays short.</summary>
    private const int RescueBatch = 100;

    private void Watch(Reattached back)
    {
        var run = new ActiveRun(back.Run) { LostNode = back.LostNode };
        run.Track(back.Spec, back.Executor, back.Handle, clock.GetUtcNow());
        active.Add(run);
        if (run.Run.CancelRequestedAt is not null && run.TrySetCause(StopCause.Canceled))
        {
            stopper.Stop(run);
        }
        _ = launcher.WatchAsync(run);
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var reconciler = new RunReconciler(store, executorsByName, workspace, logger);
        var taken = new List<ActiveRun>();
        foreach (var back in await reconciler.ReconcileAsync(options.Node, cancellationToken))
        {
            var run = new ActiveRun(back.Run);
            run.Track(back.Spec, back.Executor, back.Handle, clock.GetUtcNow());
            active.Add(run);
            taken.Add(run);
        }
        // The reconciler leased them to this process: renewals start from now.
        // Watched only once all count as active: a run that ended while the server was down finishes at
        // once, and the claim of its successor must see every slot the others hold.
        foreach (var run in taken)
        {
            if (run.Run.CancelRequestedAt is not null && run.TrySetCause(StopCause.Canceled))
            {
                stopper.Stop(run);
            }
            _ = launcher.WatchAsync(run);
        }
    }

    private async Task ClaimAsync(CancellationToken cancellationToken)
    {
        List<ActiveRun> launches;
        await active.LockClaimsAsync(cancellationToken);
        try
        {
            var free = options.Concurrency - active.Count;
            if (free <= 0)
            {
                return;
            }
            launches = active.Track(await store.ClaimAsync(options.Node, free, cancellationToken));
        }
        finally
        {
            active.UnlockClaims();
        }
        foreach (var run in launches)
        {
            _ = launcher.LaunchAsync(run);
        }
    }

    public override void Dispose()
    {
        active.Dispose();
        base.Dispose();
    }
}
