using System.Globalization;
using System.Text.RegularExpressions;
using Runway.Runs;

namespace Runway.Execution.Slurm;

/// <summary>
/// A job as a Slurm command reported it: its state, the reason Slurm gives, its exit code when known, and what it
/// used where accounting measured it (sacct only).
/// </summary>
public sealed record SlurmJob(string JobId, string State, string Reason, int? ExitCode = null, RunUsage? Usage = null);

/// <summary>
/// Pure parsers of what the Slurm commands print, tested on captured output: the formats are the ones
/// <see cref="SlurmQueries"/> asks for.
/// </summary>
public static partial class SlurmOutput
{
    /// <summary>squeue's format: id, state, reason.</summary>
    public const string SqueueFormat = "%i|%T|%r";

    /// <summary>
    /// sacct's fields (--parsable2 --noheader --noconvert), one line for the job and one per step: the job's line
    /// has its state, exit code, Elapsed and TotalCPU (its steps' sum); MaxRSS is only on the steps' lines.
    /// </summary>
    public const string SacctFields = "JobIDRaw,State,ExitCode,Elapsed,TotalCPU,MaxRSS";

    /// <summary>sbatch --parsable prints "id" or "id;cluster".</summary>
    public static string? JobId(string output)
    {
        var id = output.Trim().Split(';', 2)[0].Trim();
        return IsJobId(id) ? id : null;
    }

    public static bool IsJobId(string text) => JobIdText().IsMatch(text);

    public static List<SlurmJob> Squeue(string output) =>
        Lines(output).Select(l => l.Split('|'))
            .Where(f => f.Length >= 3 && IsJobId(f[0]))
            .Select(f => new SlurmJob(f[0], f[1], string.Join('|', f[2..])))
            .ToList();

    /// <summary>
    /// The jobs of <see cref="SacctFields"/>' lines, each with its usage: wall time its Elapsed, CPU time its
    /// TotalCPU, peak memory the largest MaxRSS of its steps (a step is one process tree; steps of one job
    /// rarely overlap, so the largest, not the sum). A field that does not parse gives no figure.
    /// </summary>
    public static List<SlurmJob> Sacct(string output)
    {
        var lines = Lines(output).Select(l => l.Split('|')).Where(f => f.Length >= 3).ToList();
        var peaks = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var f in lines)
        {
            if (StepId().Match(f[0]) is { Success: true } step && f.Length >= 6 && Bytes(f[5]) is { } bytes)
            {
                var job = step.Groups["job"].Value;
                peaks[job] = Math.Max(bytes, peaks.GetValueOrDefault(job));
            }
        }
        return lines.Where(f => IsJobId(f[0]))
            .Select(f => new SlurmJob(f[0], f[1], "", ExitCode(f[2]), Usage(f, peaks.TryGetValue(f[0], out var peak) ? peak : null)))
            .ToList();
    }

    private static RunUsage? Usage(string[] fields, long? peak)
    {
        var usage = new RunUsage(fields.Length > 3 ? Duration(fields[3]) : null, fields.Length > 4 ? Duration(fields[4]) : null, peak);
        return usage.IsEmpty ? null : usage;
    }

    /// <summary>
    /// A duration as sacct prints it: <c>MM:SS.mmm</c> (TotalCPU under an hour), <c>HH:MM:SS</c>, <c>D-HH:MM:SS</c>;
    /// in seconds, or null for anything else.
    /// </summary>
    public static double? Duration(string text)
    {
        if (DurationText().Match(text.Trim()) is not { Success: true } m)
        {
            return null;
        }
        int Part(string name) => m.Groups[name].Success ? int.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture) : 0;
        var (days, hours, minutes, seconds) = (Part("d"), Part("h"), Part("m"), Part("s"));
        if (minutes > 59 || seconds > 59 || (m.Groups["d"].Success && hours > 23))
        {
            return null;
        }
        var fraction = m.Groups["f"].Success ? double.Parse("0." + m.Groups["f"].Value, CultureInfo.InvariantCulture) : 0;
        var total = Math.Round((((days * 24.0) + hours) * 60 + minutes) * 60 + seconds + fraction, 6);
        return total <= RunUsageFiles.MaxSeconds ? total : null;
    }

    /// <summary>A size as sacct prints it: bytes (<c>--noconvert</c>), or a number with K, M, G, T or P (powers of 1024); null for anything else.</summary>
    public static long? Bytes(string text)
    {
        if (SizeText().Match(text.Trim()) is not { Success: true } m)
        {
            return null;
        }
        var unit = m.Groups["u"].Success ? Math.Pow(1024, " KMGTP".IndexOf(m.Groups["u"].Value[0], StringComparison.Ordinal)) : 1;
        var bytes = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture) * unit;
        return bytes <= RunUsageFiles.MaxBytesOfMemory ? (long)Math.Round(bytes) : null;
    }

    /// <summary><c>scontrol show job -o</c>: one line per job of Key=Value words; the first of each key counts.</summary>
    public static List<SlurmJob> Scontrol(string output)
    {
        var jobs = new List<SlurmJob>();
        foreach (var line in Lines(output))
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match m in ScontrolWord().Matches(line))
            {
                values.TryAdd(m.Groups["key"].Value, m.Groups["value"].Value);
            }
            if (values.TryGetValue("JobId", out var id) && IsJobId(id) && values.TryGetValue("JobState", out var state))
            {
                jobs.Add(new SlurmJob(id, state, values.GetValueOrDefault("Reason", ""), ExitCode(values.GetValueOrDefault("ExitCode", ""))));
            }
        }
        return jobs;
    }

    /// <summary>Slurm's "code:signal": the code, or 128+signal for a job killed by one (as a shell reports it).</summary>
    public static int? ExitCode(string text)
    {
        var parts = text.Trim().Split(':');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var signal))
        {
            return null;
        }
        return signal > 0 ? 128 + signal : code;
    }

    private static string[] Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [GeneratedRegex(@"^[0-9]{1,12}\z")]
    private static partial Regex JobIdText();

    [GeneratedRegex(@"^(?<job>[0-9]{1,12})\.[A-Za-z0-9_-]{1,32}\z")]
    private static partial Regex StepId();

    [GeneratedRegex(@"^(?:(?<d>[0-9]{1,5})-(?<h>[0-9]{2}):|(?<h>[0-9]{2}):)?(?<m>[0-9]{2}):(?<s>[0-9]{2})(?:\.(?<f>[0-9]{1,6}))?\z")]
    private static partial Regex DurationText();

    [GeneratedRegex(@"^(?:(?<n>[0-9]{1,19})|(?<n>[0-9]{1,15}(?:\.[0-9]{1,6})?)(?<u>[KMGTP]))\z")]
    private static partial Regex SizeText();

    [GeneratedRegex(@"(?:^|\s)(?<key>[A-Za-z][A-Za-z0-9/:_]*)=(?<value>\S*)")]
    private static partial Regex ScontrolWord();
}
