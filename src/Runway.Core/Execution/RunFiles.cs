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

    /// <summary>Files of the executor's own (wrapper script, pid, exit code, logs): never listed as outputs.</summary>
    public static readonly IReadOnlySet<string> Internal = new HashSet<string>(StringComparer.Ordinal)
    {
        "run.sh", "pid", "pid.tmp", "pid_start", ExitCode, "exit_code.tmp", Stdout, Stderr,
    };

    public static string Log(string stream) => stream == "stderr" ? Stderr : Stdout;

    /// <summary>Whether a path relative to the run directory is the executor's rather than the command's.</summary>
    public static bool IsInternal(string relativePath) =>
        Internal.Contains(relativePath) || relativePath.EndsWith(".runway-tmp", StringComparison.Ordinal);
}
