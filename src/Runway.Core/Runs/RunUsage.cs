namespace Runway.Runs;

/// <summary>
/// What a finished run used: wall time, CPU time (user + system) and peak memory of its whole process tree.
/// Each figure is null where nothing trustworthy measured it (no cgroup and no supervisor, a garbled record,
/// a cluster without accounting); a figure is never made up.
/// </summary>
public sealed record RunUsage(double? WallSeconds, double? CpuSeconds, long? PeakMemoryBytes)
{
    public static readonly RunUsage None = new(null, null, null);

    public bool IsEmpty => WallSeconds is null && CpuSeconds is null && PeakMemoryBytes is null;

    /// <summary>This record's figures, and <paramref name="other"/>'s where this has none.</summary>
    public RunUsage Or(RunUsage? other) => other is null ? this
        : new(WallSeconds ?? other.WallSeconds, CpuSeconds ?? other.CpuSeconds, PeakMemoryBytes ?? other.PeakMemoryBytes);
}
