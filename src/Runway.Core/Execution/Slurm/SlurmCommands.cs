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
    /// Runs the command to its end without holding a thread while it runs. Throws
    /// <see cref="SlurmUnavailableException"/> when it cannot start or takes longer than the time-out; a
    /// non-zero exit is the caller's to judge.
    /// </summary>
    public async Task<SlurmResult> RunAsync(string command, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        using var running = Start(command, arguments);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.CommandTimeout);
        try
        {
            await running.Process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw running.TimedOut();
        }
        catch (OperationCanceledException)
        {
            running.Kill();
            throw;
        }
        return running.Result();
    }

    private Running Start(string command, IReadOnlyList<string> arguments)
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
        if (options.ConfFile.Length > 0)
        {
            start.Environment["SLURM_CONF"] = options.ConfFile;
        }
        issued.AddOrUpdate(command, 1, (_, n) => n + 1);
        var running = new Running(command, new Process { StartInfo = start }, options.CommandTimeout);
        try
        {
            running.Process.Start();
        }
        catch (Win32Exception e)
        {
            running.Dispose();
            throw new SlurmUnavailableException($"{command} could not start: {e.Message}");
        }
        running.Process.StandardInput.Close();
        running.Process.BeginOutputReadLine();
        running.Process.BeginErrorReadLine();
        return running;
    }

    /// <summary>A started command and what it printed so far.</summary>
    private sealed class Running : IDisposable
    {
        private readonly StringBuilder output = new();
        private readonly StringBuilder error = new();
        private readonly string command;
        private readonly TimeSpan timeout;

        public Running(string command, Process process, TimeSpan timeout)
        {
            (this.command, Process, this.timeout) = (command, process, timeout);
            process.OutputDataReceived += (_, e) => Append(output, e.Data);
            process.ErrorDataReceived += (_, e) => Append(error, e.Data);
        }

        public Process Process { get; }

        /// <summary>Once the process has exited: waits for the output's last line, then reads it all.</summary>
        public SlurmResult Result()
        {
            Process.WaitForExit();
            lock (output)
            {
                lock (error)
                {
                    return new SlurmResult(Process.ExitCode, output.ToString(), error.ToString().Trim());
                }
            }
        }

        public SlurmUnavailableException TimedOut()
        {
            Kill();
            return new SlurmUnavailableException($"{command} did not answer within {RunOutcome.Format(timeout)}");
        }

        public void Kill()
        {
            try
            {
                Process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // ended just now
            }
        }

        public void Dispose() => Process.Dispose();
    }

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
