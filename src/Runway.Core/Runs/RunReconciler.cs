using System.Text.Json;
using Microsoft.Extensions.Logging;
using Runway.Execution;

namespace Runway.Runs;

/// <summary>
/// Takes back, when a node starts, the runs the store says it was running. Rules, run in the store ×
/// what is observed → action:
/// <list type="table">
/// <item>running, native id → <see cref="IExecutor.Attach"/>: an exit already recorded ends the run now with
/// it; a live process is watched until it ends; a process gone without a recorded exit → system_error.</item>
/// <item>running, no native id, the executor finds one (<see cref="IStartedRunFinder"/>: a local run's pid
/// file; a Slurm run's job id file) → it started before the server died: record the id and attach as above.</item>
/// <item>running, no native id, the executor can tell only later (<see cref="IStartedRunFinder.AskLater"/>: a
/// Slurm run whose submission began, its job to be found by name) → attached without an id; the executor
/// records the id when it finds the job, or ends the run (<see cref="Execution.Slurm.SlurmTracker"/>).</item>
/// <item>running, no native id, none found → it never started: back to queued, so it runs exactly once;
/// canceled instead when a cancel was requested (<see cref="RunHandBack"/>).</item>
/// <item>spec unreadable, or no executor of that name here → system_error.</item>
/// <item>cancel requested → attached, then stopped by the scheduler (ends canceled).</item>
/// <item>time limit passed (started_at + limit) → attached; the scheduler's deadline check stops it (timed_out).</item>
/// </list>
/// The same rules take over another node's run whose lease expired (<see cref="TakeOverAsync"/>): its exit record
/// in the shared run directory ends it with its real outcome, a live process is watched, a Slurm job re-attached;
/// one never started goes back to the queue; one gone without a record ends in system_error naming the lost node,
/// or is queued again when its pipeline allows retries (<see cref="RunLauncher"/>).
/// </summary>
internal sealed class RunReconciler(IRunStore store, IReadOnlyDictionary<string, IExecutor> executors, RunWorkspace workspace, ILogger logger)
{
    public const string NotStarted = "node restarted before the run started";

    public async Task<IReadOnlyList<Reattached>> ReconcileAsync(string node, CancellationToken cancellationToken)
    {
        var reattached = new List<Reattached>();
        foreach (var run in await store.TakeBackAsync(node, cancellationToken))
        {
            try
            {
                if (await ReconcileAsync(run, null, cancellationToken) is { } taken)
                {
                    reattached.Add(taken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Left running in the store: the next start of this node tries again.
                logger.LogError(e, "Could not take back run {RunId}", run.Id);
            }
        }
        return reattached;
    }

    /// <summary>Takes over a run rescued from a lost node (<see cref="IRunStore.RescueExpiredAsync"/>); null when it needs no watching.</summary>
    public async Task<Reattached?> TakeOverAsync(RescuedRun rescued, CancellationToken cancellationToken)
    {
        try
        {
            return await ReconcileAsync(rescued.Run, rescued.PreviousNode ?? "(unknown)", cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Leased to this node now: the next start of this node, or a rescuer once the lease lapses, tries again.
            logger.LogError(e, "Could not take over run {RunId} from node {Node}", rescued.Run.Id, rescued.PreviousNode);
            return null;
        }
    }

    private async Task<Reattached?> ReconcileAsync(Run run, string? lostNode, CancellationToken cancellationToken)
    {
        RunSpec spec;
        try
        {
            spec = RunSpecJson.Deserialize(run.SpecJson);
        }
        catch (JsonException e)
        {
            await FailAsync(run, $"the run's spec is unreadable: {e.Message}", cancellationToken);
            return null;
        }
        if (!executors.TryGetValue(run.Executor, out var executor))
        {
            await FailAsync(run, $"no executor named {run.Executor} on this node", cancellationToken);
            return null;
        }
        var launch = new RunLaunch(run.Id, workspace.RunDirectory(run.Id), spec);
        var nativeId = run.NativeId ?? (executor as IStartedRunFinder)?.FindNativeId(launch);
        if (nativeId is null)
        {
            var reason = lostNode is null ? NotStarted : $"node {lostNode} was lost before the run started";
            var now = await RunHandBack.HandBackAsync(store, run.Id, reason, cancellationToken);
            if (now == RunState.Canceled)
            {
                RunwayMetrics.Finished(run, RunState.Canceled, null, default);
            }
            logger.LogInformation("Run {RunId} was claimed but never started; handed back: {State}", run.Id, now?.ToWire());
            return null;
        }
        if (run.NativeId is null && nativeId != IStartedRunFinder.AskLater)
        {
            await store.SetNativeIdAsync(run.Id, nativeId, cancellationToken);
            run.NativeId = nativeId;
        }
        return new Reattached(run, spec, executor, executor.Attach(launch, nativeId)) { LostNode = lostNode };
    }

    private async Task FailAsync(Run run, string message, CancellationToken cancellationToken)
    {
        if (await store.TryTransitionAsync(new RunTransition(run.Id, [RunState.Running], RunState.SystemError, message) { Message = message }, cancellationToken))
        {
            RunwayMetrics.Finished(run, RunState.SystemError, null, default); // ended while nobody watched: no duration
        }
    }
}

internal sealed record Reattached(Run Run, RunSpec Spec, IExecutor Executor, RunHandle Handle)
{
    /// <summary>The lost node it was taken over from; null for this node's own run.</summary>
    public string? LostNode { get; init; }
}
