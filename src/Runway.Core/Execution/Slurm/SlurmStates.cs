using Runway.Runs;

namespace Runway.Execution.Slurm;

/// <summary>Where a Slurm job is, as far as a run is concerned.</summary>
public enum SlurmPhase
{
    /// <summary>In Slurm's queue, not running (pending, requeued, preempted): the run shows Slurm's reason.</summary>
    Waiting,

    /// <summary>Running, or finishing (completing).</summary>
    Running,

    /// <summary>Suspended or stopped by Slurm or an admin: the run shows it.</summary>
    Suspended,

    /// <summary>Ended: the state says how.</summary>
    Final,
}

/// <summary>
/// Slurm's job states, one table: the phase, and for a final state the run's final state. TIMEOUT,
/// CANCELLED and OUT_OF_MEMORY stay apart (Funnel folds them). COMPLETED leaves it to the exit code.
/// </summary>
public static class SlurmStates
{
    private static readonly Dictionary<string, (SlurmPhase Phase, RunState? Final)> Table = new(StringComparer.Ordinal)
    {
        ["PENDING"] = (SlurmPhase.Waiting, null),
        ["CONFIGURING"] = (SlurmPhase.Waiting, null),
        ["REQUEUED"] = (SlurmPhase.Waiting, null),
        ["REQUEUE_HOLD"] = (SlurmPhase.Waiting, null),
        ["REQUEUE_FED"] = (SlurmPhase.Waiting, null),
        ["RESV_DEL_HOLD"] = (SlurmPhase.Waiting, null),
        ["SPECIAL_EXIT"] = (SlurmPhase.Waiting, null),
        // Requeued or cancelled next, as the cluster's PreemptMode says; a job that leaves the queue
        // preempted is read from accounting (SlurmTracker) and ends failed.
        ["PREEMPTED"] = (SlurmPhase.Waiting, null),
        ["RUNNING"] = (SlurmPhase.Running, null),
        ["COMPLETING"] = (SlurmPhase.Running, null),
        ["SIGNALING"] = (SlurmPhase.Running, null),
        ["STAGE_OUT"] = (SlurmPhase.Running, null),
        ["RESIZING"] = (SlurmPhase.Running, null),
        ["SUSPENDED"] = (SlurmPhase.Suspended, null),
        ["STOPPED"] = (SlurmPhase.Suspended, null),
        ["COMPLETED"] = (SlurmPhase.Final, null),
        ["FAILED"] = (SlurmPhase.Final, RunState.Failed),
        ["NODE_FAIL"] = (SlurmPhase.Final, RunState.Failed),
        ["OUT_OF_MEMORY"] = (SlurmPhase.Final, RunState.Failed),
        ["BOOT_FAIL"] = (SlurmPhase.Final, RunState.Failed),
        ["DEADLINE"] = (SlurmPhase.Final, RunState.Failed),
        ["REVOKED"] = (SlurmPhase.Final, RunState.Failed),
        ["CANCELLED"] = (SlurmPhase.Final, RunState.Canceled),
        ["TIMEOUT"] = (SlurmPhase.Final, RunState.TimedOut),
    };

    /// <summary>
    /// The phase of a state as squeue, sacct or scontrol prints it (sacct adds "by UID" to CANCELLED; a
    /// state Slurm adds later counts as waiting, so a run is never ended on a word Runway does not know).
    /// </summary>
    public static (SlurmPhase Phase, RunState? Final) Of(string state)
    {
        var word = state.Split(' ', 2)[0].Trim().TrimEnd('+').ToUpperInvariant();
        return Table.TryGetValue(word, out var entry) ? entry : (SlurmPhase.Waiting, null);
    }

    /// <summary>The first word of a state: "CANCELLED by 0" is CANCELLED.</summary>
    public static string Name(string state) => state.Split(' ', 2)[0].Trim().TrimEnd('+').ToUpperInvariant();

    /// <summary>
    /// How a job that ended in <paramref name="state"/> ends its run. The exit code is the run's own record
    /// when there is one (<paramref name="recorded"/>), else Slurm's; what it used is accounting's.
    /// </summary>
    public static RunExit Exit(SlurmJob job, int? recorded, TimeSpan? timeLimit, DateTimeOffset? endedAt)
    {
        var name = Name(job.State);
        var code = recorded ?? job.ExitCode;
        var slurm = string.IsNullOrEmpty(job.Reason) || job.Reason == "None" ? $"Slurm: {name}" : $"Slurm: {name}, {job.Reason}";
        var exit = new RunExit(code, BackendState: name, EndedAt: endedAt) { Usage = job.Usage };
        return Of(job.State) switch
        {
            (SlurmPhase.Final, RunState.TimedOut) => exit with
            {
                Verdict = RunState.TimedOut,
                Message = timeLimit is { } limit ? $"exceeded time limit of {RunOutcome.Format(limit)} ({slurm})" : $"exceeded its time limit ({slurm})",
            },
            (SlurmPhase.Final, RunState.Canceled) => exit with { Verdict = RunState.Canceled, Message = $"canceled in Slurm ({slurm})" },
            (SlurmPhase.Final, RunState.Failed) => exit with
            {
                Verdict = RunState.Failed,
                Message = code is { } c and not 0 ? $"{RunOutcome.Describe(c)} ({slurm})" : $"failed in Slurm ({slurm})",
            },
            // COMPLETED: the exit code decides (0 → succeeded).
            (SlurmPhase.Final, _) => exit with { ExitCode = code ?? 0 },
            // Left the queue while waiting (preempted and not requeued, say): it did not run to its end.
            _ => exit with { Verdict = RunState.Failed, Message = $"left Slurm's queue without running to its end ({slurm})" },
        };
    }

    /// <summary>What a run shows while its job is in Slurm's queue: null when it simply runs.</summary>
    public static string? Note(SlurmJob job) => Of(job.State).Phase switch
    {
        SlurmPhase.Waiting => string.IsNullOrEmpty(job.Reason) || job.Reason == "None"
            ? $"queued on the cluster (Slurm: {Name(job.State)})"
            : $"queued on the cluster (Slurm: {Name(job.State)}, {job.Reason})",
        SlurmPhase.Suspended => $"suspended in Slurm ({Name(job.State)})",
        _ => null,
    };
}
