using System.Globalization;
using Runway.Runs;

namespace Runway.Execution;

/// <summary>
/// Reads what a local run used from its directory: <c>resource_use</c>, which the executor writes from the run's
/// cgroup (everything the run started, even what left its process group), else <c>rusage</c>, which the run
/// supervisor writes from <c>wait4</c> (the leader and the children it waited for; its peak is the largest single
/// process, not their sum).
/// </summary>
/// <remarks>
/// The run directory is the run's: either file may be a link, a FIFO, huge, or garbage the run wrote in its
/// place. Both are read through <see cref="RunTree"/> (no link followed, regular files only), at most
/// <see cref="MaxBytes"/>, and parsed strictly: anything but the expected lines of non-negative integers gives
/// no figures, never an exception. A run could still forge plausible figures before its end (the files are
/// written after it), which only misstates its own use; where a cgroup exists it is read by the server itself.
/// </remarks>
public static class RunUsageFiles
{
    public const int MaxBytes = 4096;

    // Beyond these a figure is garbage: 100 years of CPU, 1 PiB of memory (sacct's figures too: SlurmOutput).
    internal const double MaxSeconds = 100 * 365.25 * 86_400;
    internal const long MaxBytesOfMemory = 1L << 50;

    public static RunUsage Read(string runDirectory)
    {
        using var tree = RunTree.Open(runDirectory);
        if (tree is null)
        {
            return RunUsage.None;
        }
        var cgroup = ParseResourceUse(ReadSmall(tree, RunFiles.ResourceUse));
        var rusage = ParseRusage(ReadSmall(tree, RunFiles.Rusage));
        return cgroup.Or(rusage);
    }

    /// <summary><c>cpu_usec N</c>, <c>peak_memory_bytes N</c> (either may say <c>unknown</c>), <c>oom_kill 0|1</c>.</summary>
    public static RunUsage ParseResourceUse(string? text)
    {
        if (text is null)
        {
            return RunUsage.None;
        }
        long? cpu = null, peak = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            if (fields.Length != 2)
            {
                return RunUsage.None;
            }
            var value = fields[1] == "unknown" ? null : Number(fields[1]);
            if (value is null && fields[1] != "unknown")
            {
                return RunUsage.None;
            }
            switch (fields[0])
            {
                case "cpu_usec":
                    cpu = value;
                    break;
                case "peak_memory_bytes":
                    peak = value;
                    break;
                case "oom_kill":
                    break;
                default:
                    return RunUsage.None;
            }
        }
        return Checked(cpu, peak);
    }

    /// <summary>One line: user µs, system µs, max RSS KiB (Linux reports ru_maxrss in KiB).</summary>
    public static RunUsage ParseRusage(string? text)
    {
        var fields = text?.TrimEnd('\n').Split(' ');
        if (fields is not { Length: 3 } || fields.Select(Number).ToList() is not [{ } user, { } system, { } kib] || user > long.MaxValue - system || kib > long.MaxValue / 1024)
        {
            return RunUsage.None;
        }
        return Checked(user + system, kib * 1024);
    }

    /// <summary>A cgroup's figures as <c>resource_use</c> holds them, held to the same bounds as when read back.</summary>
    public static RunUsage FromCgroup(long? cpuMicroseconds, long? peakBytes) => Checked(cpuMicroseconds, peakBytes);

    private static RunUsage Checked(long? cpuMicroseconds, long? peakBytes)
    {
        var cpu = cpuMicroseconds / 1_000_000.0;
        return new RunUsage(null, cpu is <= MaxSeconds ? cpu : null, peakBytes is <= MaxBytesOfMemory ? peakBytes : null);
    }

    private static long? Number(string text) =>
        text.Length is > 0 and <= 19 && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static string? ReadSmall(RunTree tree, string name)
    {
        using var file = tree.OpenFile(name);
        if (file is null || file.Length > MaxBytes)
        {
            return null;
        }
        var buffer = new byte[file.Length];
        var read = 0;
        while (read < buffer.Length && file.Read(buffer, read, buffer.Length - read) is var n and > 0)
        {
            read += n;
        }
        try
        {
            return new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer, 0, read);
        }
        catch (System.Text.DecoderFallbackException)
        {
            return null;
        }
    }
}
