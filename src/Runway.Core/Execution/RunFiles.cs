namespace Runway.Execution;

/// <summary>
/// Names every executor uses inside a run directory, so the API can serve logs and an archive without
/// knowing which executor ran the run.
/// </summary>
public static class RunFiles
{
    public const string Stdout = "stdout.log";
    public const string Stderr = "stderr.log";

    /// <summary>The command's exit status as text, written when it ends (local executor).</summary>
    public const string ExitCode = "exit_code";
}
