using System.Globalization;
using Runway.Runs;

namespace Runway.Execution;

/// <summary>
/// The most one run may ask of an executor, set by the operator (<c>Runway:Slurm:Limits</c>). A submission
/// over a limit is refused with a 422 naming it, rather than waiting forever for resources that never come.
/// </summary>
public sealed class ExecutorLimits
{
    public int? MaxCpus { get; set; }
    public long? MaxMemoryMb { get; set; }
    public TimeSpan? MaxTime { get; set; }
    public int? MaxGpus { get; set; }

    /// <summary>What of the spec goes over which limit, one sentence each; empty when it fits.</summary>
    public IReadOnlyList<string> Check(RunSpec spec, string executor, string settingsPrefix)
    {
        var over = new List<string>();
        var r = spec.Resources;
        void Over(string what, string asked, string limit, string key) =>
            over.Add($"{what} {asked} is more than the {executor} executor allows ({limit}, {settingsPrefix}:{key})");
        if (MaxCpus is { } cpus && r.Cpus > cpus)
        {
            Over("cpus", r.Cpus.ToString(CultureInfo.InvariantCulture), Text(cpus), nameof(MaxCpus));
        }
        if (MaxMemoryMb is { } memory && r.MemoryMb > memory)
        {
            Over("memory", $"{Text(r.MemoryMb!.Value)} MiB", $"{Text(memory)} MiB", nameof(MaxMemoryMb));
        }
        if (MaxGpus is { } gpus && r.Gpus > gpus)
        {
            Over("gpus", Text(r.Gpus), Text(gpus), nameof(MaxGpus));
        }
        if (MaxTime is { } time && spec.TimeLimit is { } limit && limit > time)
        {
            Over("time_limit", RunOutcome.Format(limit), RunOutcome.Format(time), nameof(MaxTime));
        }
        if (MaxTime is { } most && spec.TimeLimit is null)
        {
            over.Add($"time_limit is not set, and the {executor} executor allows at most {RunOutcome.Format(most)} ({settingsPrefix}:{nameof(MaxTime)}): the pipeline must set one");
        }
        return over;
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
