using System.Globalization;
using System.Text.RegularExpressions;

namespace Runway.Execution.Slurm;

/// <summary>A job as a Slurm command reported it: its state, the reason Slurm gives, and its exit code when known.</summary>
public sealed record SlurmJob(string JobId, string State, string Reason, int? ExitCode = null);

/// <summary>
/// Pure parsers of what the Slurm commands print, tested on captured output: the formats are the ones
/// <see cref="SlurmQueries"/> asks for.
/// </summary>
public static partial class SlurmOutput
{
    /// <summary>squeue's format: id, state, reason.</summary>
    public const string SqueueFormat = "%i|%T|%r";

    /// <summary>sacct's fields (-X --parsable2 --noheader): the job's own line only, not its steps.</summary>
    public const string SacctFields = "JobIDRaw,State,ExitCode";

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

    public static List<SlurmJob> Sacct(string output) =>
        Lines(output).Select(l => l.Split('|'))
            .Where(f => f.Length >= 3 && IsJobId(f[0]))
            .Select(f => new SlurmJob(f[0], f[1], "", ExitCode(f[2])))
            .ToList();

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

    [GeneratedRegex(@"(?:^|\s)(?<key>[A-Za-z][A-Za-z0-9/:_]*)=(?<value>\S*)")]
    private static partial Regex ScontrolWord();
}
