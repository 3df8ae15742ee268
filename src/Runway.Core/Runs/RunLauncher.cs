using System.Text.Json;
using Microsoft.Extensions.Logging;
using Runway.Execution;

namespace Runway.Runs;

/// <summary>
/// Starts claimed runs and watches them until they end: prepares the run directory, starts the executor,
/// records the native id, and on exit hands the outcome to <see cref="RunFinisher"/>, launching what it
/// claimed in the freed slot.
/// </summary>
internal sealed class RunLauncher(
    IRunStore store,
    IReadOnlyDictionary<string, IExecutor> executors,
    RunWorkspace workspace,
    ActiveRuns active,
    RunStopper stopper,
    RunFinisher finisher,
    TimeProvider clock,
    ILogger logger)
{
    private long started;

    public long StartedCount => Interlocked.Read(ref started);

    public async Task LaunchAsync(ActiveRun run)
    {
        var stopping = active.Stopping;
        var id = run.Run.Id;
        if (run.Run.CancelRequestedAt is not null)
        {
            // Queued with a cancel request (a hand-back from before RunHandBack): it ends canceled, unstarted.
            run.TrySetCause(StopCause.Canceled);
        }
        try
        {
            var spec = RunSpecJson.Deserialize(run.Run.SpecJson);
            if (!executors.TryGetValue(run.Run.Executor, out var executor))
            {
                throw new ExecutorStartException($"no executor named {run.Run.Executor} on this node");
            }
            var directory = await workspace.PrepareAsync(id, spec, stopping);
            if (run.Cause == StopCause.Canceled)
            {
                // Cancelled between claim and start: nothing to stop.
                if (await finisher.PersistAsync(RunOutcome.Final(id, new RunExit(null), StopCause.Canceled, null)))
                {
                    RunwayMetrics.Finished(run.Run, RunState.Canceled, null, clock.GetUtcNow());
                }
                finisher.Release(id);
                return;
            }
            var handle = await executor.StartAsync(new RunLaunch(id, directory, spec), stopping);
            Interlocked.Increment(ref started);
            var now = clock.GetUtcNow();
            run.Track(spec, executor, handle, now);
            RunwayMetrics.Started(run.Run, now);
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
            var failed = await finisher.PersistAsync(new RunTransition(id, [RunState.Running], RunState.SystemError, message) { Message = message });
            finisher.Release(id);
            RunwayMetrics.ExecutorErrors.Add(1, new KeyValuePair<string, object?>("executor", run.Run.Executor));
            if (failed)
            {
                RunwayMetrics.Finished(run.Run, RunState.SystemError, null, clock.GetUtcNow());
            }
            return;
        }
        if (run.Cause != StopCause.None)
        {
            stopper.Stop(run); // Cancelled while it was starting.
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

    public async Task WatchAsync(ActiveRun run)
    {
        RunExit exit;
        try
        {
            exit = await run.Handle!.Exited.WaitAsync(active.Stopping);
        }
        catch (OperationCanceledException) when (active.Stopping.IsCancellationRequested)
        {
            return; // Shutting down: the run goes on, and the next start takes it back.
        }
        catch (Exception e)
        {
            exit = new RunExit(null, $"lost track of the run: {e.Message}");
        }
        // Persist the final state first; the executor has already cleaned up the process group. The exit
        // record's time is the run's end, but never before its start (the run could touch its own record).
        var final = RunOutcome.Final(run.Run.Id, exit, run.Cause, run.Spec?.TimeLimit);
        if (final.EndedAt is { } ended && run.Run.StartedAt is { } startedAt && ended < startedAt)
        {
            final = final with { EndedAt = startedAt };
        }
        var (recorded, launches) = await finisher.FinishAsync(run.Run.Id, final);
        // Counted once, by whoever stored the end: a run whose end was not stored is counted by the next start.
        if (recorded && final.To.IsFinal())
        {
            RunwayMetrics.Finished(run.Run, final.To, run.Run.StartedAt, final.EndedAt ?? clock.GetUtcNow());
        }
        foreach (var next in launches)
        {
            _ = LaunchAsync(next);
        }
        if (launches.Count > 0)
        {
            active.Wake(); // the loop's next wait takes the new runs' time limits into account
        }
    }
}
