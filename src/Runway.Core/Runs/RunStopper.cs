using Microsoft.Extensions.Logging;
using Runway.Execution;

namespace Runway.Runs;

/// <summary>
/// Stops runs Runway wants ended: those a user cancels (here or through another node) and those past their
/// time limit. The executor's stop is asked once per run; the run ends when its process is gone.
/// </summary>
internal sealed class RunStopper(IRunStore store, ActiveRuns active, TimeProvider clock, ILogger logger, SchedulerOptions options)
{
    /// <summary>See <see cref="RunScheduler.CancelAsync"/>.</summary>
    public async Task<Run?> CancelAsync(string runId, CancellationToken cancellationToken)
    {
        var toCanceled = new RunTransition(runId, [RunState.Queued], RunState.Canceled, RunOutcome.CanceledByUser) { Message = RunOutcome.CanceledByUser };
        // A run may move between reading it and acting on it: claimed (queued → running) or handed back
        // (running → queued). Each failed attempt means it moved; read it again and act on what it is now.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var run = await store.GetAsync(runId, cancellationToken);
            if (run is { State: RunState.Queued } && await store.TryTransitionAsync(toCanceled, cancellationToken))
            {
                RunwayMetrics.Finished(run, RunState.Canceled, null, clock.GetUtcNow());
                return await store.GetAsync(runId, cancellationToken);
            }
            if (run is { State: RunState.Running } && await store.RequestCancelAsync(runId, cancellationToken))
            {
                // A run of another node is stopped there, when its poll sees the request.
                if (active.TryGet(runId, out var local) && local.TrySetCause(StopCause.Canceled))
                {
                    Stop(local);
                }
                return await store.GetAsync(runId, cancellationToken);
            }
            if (run is null || run.State.IsFinal())
            {
                return run;
            }
        }
        throw new InvalidOperationException($"run {runId} kept changing state while it was being canceled");
    }

    /// <summary>Stops this node's runs whose cancel was requested elsewhere (another node's API).</summary>
    public async Task SweepCancelRequestsAsync(CancellationToken cancellationToken)
    {
        if (active.IsEmpty)
        {
            return;
        }
        foreach (var run in await store.ListRunningAsync(options.Node, cancellationToken))
        {
            if (run.CancelRequestedAt is not null && active.TryGet(run.Id, out var local) && local.TrySetCause(StopCause.Canceled))
            {
                Stop(local);
            }
        }
    }

    public void EnforceDeadlines()
    {
        var now = clock.GetUtcNow();
        foreach (var run in active.All)
        {
            if (run.Deadline <= now && run.TrySetCause(StopCause.TimeLimit))
            {
                logger.LogInformation("Run {RunId} exceeded its time limit; stopping it", run.Run.Id);
                Stop(run);
            }
        }
    }

    /// <summary>How long the loop may sleep before the next time limit passes (at most the poll interval).</summary>
    public TimeSpan UntilNextDeadline()
    {
        var now = clock.GetUtcNow();
        var wait = options.PollInterval;
        foreach (var run in active.All)
        {
            if (run.Cause == StopCause.None && run.Deadline is { } deadline && deadline - now < wait)
            {
                wait = deadline - now;
            }
        }
        return wait < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : wait;
    }

    /// <summary>Asks the executor to stop a started run, once; a run not started yet is stopped by its launch.</summary>
    public void Stop(ActiveRun run)
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
            await executor.StopAsync(handle, options.StopGrace, active.Stopping);
        }
        catch (OperationCanceledException) when (active.Stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogError(e, "Could not stop run {RunId}", handle.RunId);
        }
    }
}
