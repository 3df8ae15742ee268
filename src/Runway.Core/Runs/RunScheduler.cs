using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Runway.Execution;

namespace Runway.Runs;

/// <summary>
/// This node's worker: takes back its runs at start (<see cref="RunReconciler"/>), then claims queued runs
/// up to <see cref="SchedulerOptions.Concurrency"/>, starts them (<see cref="RunLauncher"/>), enforces time
/// limits and cancels (<see cref="RunStopper"/>), and records how each ended (<see cref="RunFinisher"/>).
/// It waits on <see cref="Wake"/> or the poll interval, never in a tight loop. On shutdown it only stops
/// claiming: running runs go on, and the next start takes them back.
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
                await active.WaitForWakeAsync(stopper.UntilNextDeadline(), stoppingToken);
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
            run.Track(back.Spec, back.Executor, back.Handle, clock.GetUtcNow());
            active.Add(run);
            taken.Add(run);
        }
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
