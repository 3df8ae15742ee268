using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Runway.Execution.Slurm;

/// <summary>
/// The one impure seam of the Slurm executor: runs sbatch, squeue, sacct, scontrol and scancel as argument
/// lists (never through a shell), each with a time-out, and counts them (the benchmark's commands per poll).
/// </summary>
public sealed class SlurmCommands(SlurmOptions options)
{
    private readonly ConcurrentDictionary<string, long> issued = new(StringComparer.Ordinal);

    /// <summary>How many times each command ran since this process started.</summary>
    public IReadOnlyDictionary<string, long> Issued => issued;

    public long IssuedTotal => issued.Values.Sum();

    /// <summary>The base environment of every command, and so of every job (sbatch exports its own): no server secrets.</summary>
    public static IReadOnlyDictionary<string, string> Environment { get; } = BaseEnvironment();

    /// <summary>
    /// Runs the command to its end. Throws <see cref="SlurmUnavailableException"/> when it cannot start or
    /// takes longer than the time-out; a non-zero exit is the caller's to judge.
    /// </summary>
    public SlurmResult Run(string command, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(options.Command(command))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment.Clear();
        foreach (var (key, value) in Environment)
        {
            start.Environment[key] = value;
        }
        issued.AddOrUpdate(command, 1, (_, n) => n + 1);
        var output = new StringBuilder();
        var error = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(error, e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new SlurmUnavailableException($"{command} could not start: {e.Message}");
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(options.CommandTimeout))
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // ended just now
            }
            throw new SlurmUnavailableException($"{command} did not answer within {RunOutcome.Format(options.CommandTimeout)}");
        }
        process.WaitForExit(); // until the output's last line is read
        lock (output)
        {
            lock (error)
            {
                return new SlurmResult(process.ExitCode, output.ToString(), error.ToString().Trim());
            }
        }
    }

    /// <summary><see cref="Run"/> off the caller's thread: the command blocks while it waits.</summary>
    public Task<SlurmResult> RunAsync(string command, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        Task.Run(() => Run(command, arguments), cancellationToken);

    private static void Append(StringBuilder text, string? line)
    {
        if (line is not null)
        {
            lock (text)
            {
                text.Append(line).Append('\n');
            }
        }
    }

    /// <summary>PATH, HOME, LANG, USER, LOGNAME, TZ and SLURM_CONF of the server's environment.</summary>
    private static Dictionary<string, string> BaseEnvironment()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["LANG"] = System.Environment.GetEnvironmentVariable("LANG") ?? "C.UTF-8",
        };
        foreach (System.Collections.DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            var key = (string)entry.Key;
            if (key is "HOME" or "USER" or "LOGNAME" or "TZ" or "SLURM_CONF")
            {
                environment[key] = (string)entry.Value!;
            }
        }
        return environment;
    }
}

/// <summary>How a Slurm command ended: its exit code, its standard output, and its standard error (trimmed).</summary>
public sealed record SlurmResult(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>A Slurm command did not start or did not answer in time: Slurm is unreachable, for now.</summary>
public sealed class SlurmUnavailableException(string message) : Exception(message);
