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
        IExecutor? starting = null;
        RunLaunch? launch = null;
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
            (starting, launch) = (executor, new RunLaunch(id, directory, spec, run.Run.Owner));
            var handle = await executor.StartAsync(launch, stopping);
            Interlocked.Increment(ref started);
            var now = clock.GetUtcNow();
            run.Track(spec, executor, handle, now);
            RunwayMetrics.Started(run.Run, now);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The node is stopping: a run that surely never started goes back to the queue at once, for another
            // node. One whose start got under way (it left a pid) stays claimed: the next start, or another node
            // once its lease lapses, takes it back.
            // An executor that cannot tell (no IStartedRunFinder) is taken at its word: a cancelled start did not start.
            if (starting is null || (starting as IStartedRunFinder)?.FindNativeId(launch!) is null)
            {
                await finisher.HandBackAsync(id);
            }
            active.Remove(id);
            return;
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
        _ = RecordNativeIdAsync(run, stopping);
        await WatchAsync(run);
    }

    /// <summary>How long a started run may go without its native id in the store; one that ends sooner has it written by its end.</summary>
    internal static readonly TimeSpan NativeIdGrace = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Writes the native id on its own (an unsynced commit) once a local run has outlived <see cref="NativeIdGrace"/>; a run that
    /// ends sooner, as most short ones do, carries it in its end's commit instead (<see cref="RunTransition.NativeId"/>), one
    /// commit per run fewer. Nothing relies on the id being stored early: this write never waited for the disk, so a restart
    /// or a takeover that finds no id asks the executor (the pid file, <see cref="IStartedRunFinder"/>), as it always did.
    /// </summary>
    /// <remarks>
    /// Only local runs wait: a Slurm job id is what its user looks up in <c>squeue</c> and <c>sacct</c> at once, and its
    /// sbatch costs far more than this write, so it is stored as soon as it is known.
    /// </remarks>
    private async Task RecordNativeIdAsync(ActiveRun run, CancellationToken stopping)
    {
        var handle = run.Handle!;
        if (run.Run.Executor == Execution.Local.LocalExecutor.ExecutorName)
        {
            try
            {
                await handle.Exited.WaitAsync(NativeIdGrace, clock, stopping);
                return; // ended in time: its end's commit records the id
            }
            catch (TimeoutException)
            {
            }
            catch (Exception) // stopping, or the watch failed: the end (or the next start) records what there is to record
            {
                return;
            }
        }
        try
        {
            await store.SetNativeIdAsync(run.Run.Id, handle.NativeId, stopping);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The run goes on; its end records the id, and a restart would find it by its pid file (IStartedRunFinder).
            logger.LogError(e, "Could not record the native id of run {RunId}", run.Run.Id);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// A run taken over from a lost node that left no exit record: system_error naming that node, or queued again
    /// (attempt + 1) while its pipeline's retries last. Each attempt's moves stay in its history.
    /// </summary>
    private static RunTransition LostNodeOutcome(ActiveRun run, string lost, RunExit exit)
    {
        var message = $"node {lost} was lost and the run left no exit record ({exit.Error ?? "no exit code"})";
        var retries = run.Spec?.Retries ?? 0;
        var attempt = run.Run.Attempt;
        if (attempt <= retries)
        {
            return new RunTransition(run.Run.Id, [RunState.Running], RunState.Queued, $"{message}; queued again for attempt {attempt + 1} of {retries + 1}")
            {
                Retry = true,
            };
        }
        return new RunTransition(run.Run.Id, [RunState.Running], RunState.SystemError, message) { Message = message };
    }

    /// <summary>Returns once no claimed run is still on its way to a start (bounded): a stopping node hands those back first.</summary>
    public async Task WaitForUnstartedAsync()
    {
        var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(10);
        while (active.All.Any(r => r.Handle is null) && clock.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), clock, CancellationToken.None);
        }
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
        if (run.LeaseLost)
        {
            return; // Another node holds the run now: its end is that node's to record (RunScheduler.KeepLeasesAsync).
        }
        var final = RunOutcome.Final(run.Run.Id, exit, run.Cause, run.Spec?.TimeLimit) with
        {
            NativeId = run.Handle!.NativeId is { Length: > 0 } nativeId ? nativeId : null, // AskLater ("") is no id
        };
        if (run.LostNode is { } lost && exit.ExitCode is null && exit.Verdict is null && run.Cause == StopCause.None)
        {
            final = LostNodeOutcome(run, lost, exit);
        }
        if (final.EndedAt is { } ended && run.Run.StartedAt is { } startedAt && ended < startedAt)
        {
            final = final with { EndedAt = startedAt };
        }
        if (final.To.IsFinal() && run.Run.StartedAt is { } began)
        {
            // Wall time from the claim to the end where the backend gave none (Slurm's Elapsed leaves out its queue).
            var wall = Math.Round(Math.Max(0, ((final.EndedAt ?? clock.GetUtcNow()) - began).TotalSeconds), 3);
            final = final with { Usage = (final.Usage ?? RunUsage.None).Or(new RunUsage(wall, null, null)) };
        }
        if (final.To.IsFinal())
        {
            // Measured here, in the run's own task, and stored with its end: no second commit per run.
            final = final with { FilesBytes = Measure(run.Run.Id) };
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

    /// <summary>
    /// The run directory's size (storage quotas and accounting read it), by RunTree's bounded walk that follows no
    /// link; null when it cannot be read, and the retention sweep measures it. Ends not stored here (a restart, a
    /// takeover) are measured by the sweep too.
    /// </summary>
    private long? Measure(string runId)
    {
        try
        {
            using var tree = RunTree.Open(workspace.RunDirectory(runId));
            return tree?.Measure().Bytes ?? 0;
        }
        catch (Exception e) // a size is never worth a run's end
        {
            logger.LogWarning(e, "Could not measure run {RunId}'s directory; the retention sweep measures it", runId);
            return null;
        }
    }
}
