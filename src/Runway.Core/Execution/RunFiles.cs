namespace Runway.Execution;

/// <summary>
/// Names every executor uses inside a run directory, so the API can serve logs, outputs and an archive
/// without knowing which executor ran the run.
/// </summary>
public static class RunFiles
{
    public const string Stdout = "stdout.log";
    public const string Stderr = "stderr.log";

    /// <summary>The command's exit status as text, written when it ends (local executor).</summary>
    public const string ExitCode = "exit_code";

    /// <summary>Staged input files (<c>inputs/&lt;parameter&gt;/&lt;file name&gt;</c>).</summary>
    public const string Inputs = "inputs";

    /// <summary>The run's own TMPDIR.</summary>
    public const string Temp = "tmp";

    /// <summary>The local executor's wrapper script.</summary>
    public const string Script = "run.sh";

    /// <summary>The Slurm executor's batch script (Slurm/SlurmBatch): in the archive, as run.sh is.</summary>
    public const string SlurmScript = "slurm.sh";

    /// <summary>The Slurm job id, and the mark of a submission begun (Slurm/SlurmBatch).</summary>
    public const string SlurmJobId = "slurm_job_id";
    public const string SlurmSubmitting = "slurm_submitting";

    /// <summary>The wrapper's pid (also its process group), written by the server.</summary>
    public const string Pid = "pid";

    /// <summary>The same pid written by the wrapper itself, before it runs the command.</summary>
    public const string WrapperPid = "pid.wrapper";

    /// <summary>The wrapper's start time, which tells it from a later process that reuses the pid.</summary>
    public const string PidStart = "pid_start";

    /// <summary>The run's resource use by wait4 (user µs, system µs, max RSS KiB), written with exit_code by the local run supervisor.</summary>
    public const string Rusage = "rusage";

    /// <summary>What the run's cgroup measured (cpu_usec, peak_memory_bytes, oom_kill; one "name value" a line), written once it ended.</summary>
    public const string ResourceUse = "resource_use";

    /// <summary>The GPU ids a local run was given (its CUDA_VISIBLE_DEVICES), written before it starts.</summary>
    public const string Gpus = "gpus";

    /// <summary>Files of the executor's own (wrapper script, pids, exit code, logs): never listed as outputs.</summary>
    public static readonly IReadOnlySet<string> Internal = new HashSet<string>(StringComparer.Ordinal)
    {
        Script, Pid, WrapperPid, PidStart, ExitCode, Rusage, ResourceUse, Gpus, Stdout, Stderr, SlurmScript, SlurmJobId, SlurmSubmitting,
        "pid.tmp", "exit_code.tmp", // written by the wrappers of earlier versions
    };

    public static string Log(string stream) => stream == "stderr" ? Stderr : Stdout;

    /// <summary>Whether a path relative to the run directory is the executor's rather than the command's.</summary>
    public static bool IsInternal(string relativePath) =>
        Internal.Contains(relativePath) || relativePath.EndsWith(".runway-tmp", StringComparison.Ordinal);
}
