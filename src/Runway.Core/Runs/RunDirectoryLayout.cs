namespace Runway.Runs;

/// <summary>
/// The names Runway itself writes in a run directory. The executor writes them; the API reads them and
/// leaves them out of the outputs.
/// </summary>
public static class RunDirectoryLayout
{
    public const string Stdout = "stdout.log";
    public const string Stderr = "stderr.log";
    public const string Inputs = "inputs";

    /// <summary>The run's own TMPDIR, emptied of meaning once it ends.</summary>
    public const string Temp = "tmp";

    /// <summary>Files of the executor's own (wrapper script, pid, exit code): never outputs.</summary>
    public static readonly IReadOnlySet<string> Internal = new HashSet<string>(StringComparer.Ordinal)
    {
        "run.sh", "pid", "pid.tmp", "pid_start", "exit_code", "exit_code.tmp", Stdout, Stderr,
    };

    public static string LogFile(string stream) => stream == "stderr" ? Stderr : Stdout;
}
