using Runway.Runs;

namespace Runway.Execution;

/// <summary>
/// Starts, tracks and cancels runs on one backend (local processes, Slurm). An executor knows nothing of
/// HTTP or of the database: the scheduler owns state changes, and learns of an end through
/// <see cref="RunHandle.Exited"/>. A backend that must be polled (Slurm) polls all its active runs in one
/// call per tick internally, never one call per run.
/// </summary>
public interface IExecutor
{
    /// <summary>The name pipelines use to pick this executor (<c>local</c>, <c>slurm</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Starts the run whose directory is already prepared (inputs staged). Throws
    /// <see cref="ExecutorStartException"/> when the backend refuses it (missing executable, say).
    /// </summary>
    Task<RunHandle> StartAsync(RunLaunch launch, CancellationToken cancellationToken);

    /// <summary>
    /// Takes back a run started before this process did (after a restart), from its native id and its
    /// run directory. The handle's <see cref="RunHandle.Exited"/> completes when the run ends, or at once
    /// if it already has.
    /// </summary>
    RunHandle Attach(RunLaunch launch, string nativeId);

    /// <summary>Stops the run: TERM to the whole process group (or scancel), then KILL after the grace period.</summary>
    Task StopAsync(RunHandle handle, TimeSpan grace, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the backend itself ends a run at its time limit (Slurm's --time, reported as TIMEOUT). Runway's
    /// own deadline counts from the claim, which for a job waiting in a cluster's queue is not its start.
    /// </summary>
    bool EnforcesTimeLimit => false;

    /// <summary>Whether the backend answers now: <c>/readyz</c> shows it per executor.</summary>
    ExecutorHealth Health => ExecutorHealth.Ok;

    /// <summary>
    /// Several nodes: the leases of these runs (native ids) were just renewed in the database and hold for
    /// <paramref name="goodFor"/>. An executor whose runs can outlive their node (the local one, through its
    /// supervisor) stops each run once that passes without another renewal; a Slurm job is simply re-attached.
    /// </summary>
    void KeepLeases(IReadOnlyCollection<string> nativeIds, TimeSpan goodFor)
    {
    }
}

/// <summary>An executor's state as <c>/readyz</c> shows it: ok, or degraded with why (Slurm's controller does not answer).</summary>
public sealed record ExecutorHealth(string Status, string? Detail = null)
{
    public static readonly ExecutorHealth Ok = new("ok");

    public static ExecutorHealth Degraded(string detail) => new("degraded", detail);
}

/// <summary>What an executor is given: the run, its directory, what to execute there, and whose run it is (null when unknown).</summary>
public sealed record RunLaunch(string RunId, string RunDirectory, RunSpec Spec, string? Owner = null);

/// <summary>A started run: its native id (pid, Slurm job id) and a task that completes when it ends.</summary>
public sealed record RunHandle(string RunId, string NativeId, Task<RunExit> Exited);

/// <summary>
/// How a run ended, as the backend saw it: an exit code, or none with the reason (killed while Runway was
/// down, lost by the cluster). <see cref="BackendState"/> keeps backend verdicts such as Slurm's TIMEOUT
/// or OUT_OF_MEMORY apart. <see cref="EndedAt"/> is when the run ended by its own record (a local run's
/// exit_code file), where known: a run that ended while the server was down did not end when it noticed.
/// </summary>
public sealed record RunExit(int? ExitCode, string? Error = null, string? BackendState = null, DateTimeOffset? EndedAt = null)
{
    /// <summary>
    /// The final state the backend decided on its own (Slurm's TIMEOUT → timed_out, OUT_OF_MEMORY → failed),
    /// with <see cref="Message"/>; null leaves it to the exit code. A stop Runway asked for still wins.
    /// </summary>
    public RunState? Verdict { get; init; }

    public string? Message { get; init; }

    /// <summary>What the run used, as far as the backend measured it (its cgroup or wait4's record, Slurm's accounting).</summary>
    public RunUsage? Usage { get; init; }
}

public sealed class ExecutorStartException(string message, Exception? inner = null) : Exception(message, inner);
