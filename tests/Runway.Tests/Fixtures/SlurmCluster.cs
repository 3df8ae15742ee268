using System.Diagnostics;

namespace Runway.Tests.Fixtures;

/// <summary>
/// The Slurm the tests submit to: the single-node cluster of scripts/slurm-single-node.sh, or any whose
/// commands are on PATH and whose controller answers. Looked at once per test run.
/// </summary>
public static class SlurmCluster
{
    private static readonly Lazy<string?> Why = new(Probe);

    /// <summary>Why Slurm cannot be used, or null when it can.</summary>
    public static string? Unavailable => Why.Value;

    /// <summary>The project's script that brings the cluster up and stops or starts its controller.</summary>
    public static string Script => Path.Combine(Repository.Root, "scripts", "slurm-single-node.sh");

    /// <summary>Runs a command to its end (at most a minute) and returns its exit code and output.</summary>
    public static (int Code, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var output = new System.Text.StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not end within a minute");
        }
        process.WaitForExit(); // the output's last lines
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    private static void Append(System.Text.StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    private static string? Probe()
    {
        try
        {
            var (code, output) = Run("scontrol", "ping");
            return code == 0 && output.Contains("UP", StringComparison.Ordinal) ? null : $"scontrol ping says: {output.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "no scontrol on PATH";
        }
    }
}
