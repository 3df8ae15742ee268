using System.Globalization;
using System.Text;
using Runway.Runs;

namespace Runway.Execution.Slurm;

/// <summary>
/// What Runway submits for a run: the sbatch options (resources, the operator's partition, account, qos and
/// options) and the batch script written into the run directory, so the archive shows exactly what ran.
/// </summary>
public static class SlurmBatch
{
    /// <summary>The batch script, in the run directory.</summary>
    public const string Script = RunFiles.SlurmScript;

    /// <summary>The Slurm job id, written as soon as sbatch answers (before the store has it).</summary>
    public const string JobIdFile = RunFiles.SlurmJobId;

    /// <summary>
    /// Written just before sbatch runs: without it the run was never submitted; with it and no job id, a
    /// restart looks the job up by its name before it submits again.
    /// </summary>
    public const string Submitting = RunFiles.SlurmSubmitting;

    /// <summary>The job's name in Slurm: how a restart finds a job whose id was never recorded.</summary>
    public static string JobName(string runId) => $"runway-{runId}";

    /// <summary>
    /// sbatch's arguments, the script last. The pipeline's settings (its YAML's <c>slurm:</c>) come over the
    /// server's; the extra options of both are passed as given, the server's first.
    /// </summary>
    public static List<string> Arguments(RunLaunch launch, SlurmOptions options)
    {
        var directory = launch.RunDirectory;
        var spec = launch.Spec;
        var pipeline = spec.Slurm ?? new SlurmSettings();
        var arguments = new List<string>
        {
            "--parsable",
            $"--job-name={JobName(launch.RunId)}",
            $"--comment={launch.RunId}",
            $"--chdir={directory}",
            $"--output={Path.Combine(directory, RunFiles.Stdout)}",
            $"--error={Path.Combine(directory, RunFiles.Stderr)}",
            "--input=/dev/null",
            $"--cpus-per-task={Text((long)Math.Ceiling(spec.Resources.Cpus))}",
        };
        if (spec.Resources.MemoryMb is { } memory)
        {
            arguments.Add($"--mem={Text(memory)}M");
        }
        if (spec.TimeLimit is { } limit)
        {
            arguments.Add($"--time={Time(limit)}");
        }
        if (spec.Resources.Gpus > 0)
        {
            arguments.Add($"--gres=gpu:{Text(spec.Resources.Gpus)}");
        }
        if ((pipeline.Partition ?? options.Partition) is { Length: > 0 } partition)
        {
            arguments.Add($"--partition={partition}");
        }
        if ((pipeline.Account ?? options.Account) is { Length: > 0 } account)
        {
            arguments.Add($"--account={account}");
        }
        if ((pipeline.Qos ?? options.Qos) is { Length: > 0 } qos)
        {
            arguments.Add($"--qos={qos}");
        }
        arguments.AddRange(options.SbatchOptions);
        arguments.AddRange(pipeline.Options);
        arguments.Add(Path.Combine(directory, Script));
        return arguments;
    }

    /// <summary>
    /// The batch script. Every word the run brings (its command, its environment) is single-quoted, so no
    /// shell reads what a user typed; the script records the command's exit status in the run directory,
    /// as the local executor's wrapper does, so the exit code never depends on Slurm's accounting.
    /// </summary>
    public static string ScriptText(RunLaunch launch, IReadOnlyList<string> sbatchArguments)
    {
        if (launch.Spec.Argv.Count == 0)
        {
            throw new ExecutorStartException("the command is empty");
        }
        if (launch.Spec.Argv.Any(a => a.Contains('\0', StringComparison.Ordinal)))
        {
            throw new ExecutorStartException("an argument of the command contains a NUL character");
        }
        var text = new StringBuilder();
        text.Append("#!/bin/sh\n");
        text.Append(CultureInfo.InvariantCulture, $"# Runway run {launch.RunId}: written by Runway into the run directory and submitted with\n");
        text.Append("#   sbatch");
        foreach (var argument in sbatchArguments)
        {
            text.Append(' ').Append(Comment(Quote(argument)));
        }
        text.Append('\n');
        text.Append("# Every word below that comes from the run is single-quoted: no shell reads it.\n");
        text.Append("rm -f ").Append(RunFiles.ExitCode).Append('\n');
        foreach (var (name, value) in Environment(launch))
        {
            text.Append("export ").Append(name).Append('=').Append(Quote(value)).Append('\n');
        }
        text.Append(string.Join(" \\\n    ", launch.Spec.Argv.Select(Quote))).Append(" </dev/null\n");
        text.Append("code=$?\n");
        text.Append("echo $code >").Append(RunFiles.ExitCode).Append('\n');
        text.Append("exit $code\n");
        return text.ToString();
    }

    /// <summary>
    /// A POSIX shell word that is exactly <paramref name="value"/>: single quotes, each ' written as '\''.
    /// A carriage return is written as "$(printf '\r')" between quoted parts: sbatch refuses a script with
    /// a CR before a line break (DOS line breaks), and that text of Runway's own is all the shell evaluates.
    /// </summary>
    public static string Quote(string value) =>
        string.Join("\"$(printf '\\r')\"", value.Split('\r').Select(part => "'" + part.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));

    /// <summary>A time limit as sbatch's days-hours:minutes:seconds; Slurm counts whole minutes, rounding up.</summary>
    public static string Time(TimeSpan limit)
    {
        var seconds = (long)Math.Ceiling(limit.TotalSeconds);
        return string.Create(CultureInfo.InvariantCulture,
            $"{seconds / 86400}-{seconds / 3600 % 24:00}:{seconds / 60 % 60:00}:{seconds % 60:00}");
    }

    /// <summary>As the local executor's: TMPDIR, the pipeline's variables (which may set it), then Runway's own.</summary>
    private static IEnumerable<(string Name, string Value)> Environment(RunLaunch launch)
    {
        var environment = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["TMPDIR"] = Path.Combine(launch.RunDirectory, RunFiles.Temp),
        };
        foreach (var (name, value) in launch.Spec.Environment)
        {
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || char.IsAsciiDigit(name[0]))
            {
                throw new ExecutorStartException($"invalid environment variable: {name}");
            }
            if (value.Contains('\0', StringComparison.Ordinal))
            {
                throw new ExecutorStartException($"invalid value of environment variable {name}");
            }
            environment[name] = value;
        }
        environment["RUNWAY_RUN_ID"] = launch.RunId;
        environment["RUNWAY_RUN_DIR"] = launch.RunDirectory;
        return environment.Select(e => (e.Key, e.Value));
    }

    /// <summary>A comment line ends at a newline: keep one (from an operator's option) from ending it early.</summary>
    private static string Comment(string text) => text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
