namespace Runway.Retention;

/// <summary>
/// <c>Runway:Retention</c>: what the retention sweep removes (README, "Retention and quotas"). Every policy is off
/// by default: nothing is ever deleted unless the operator says so.
/// </summary>
public sealed class RetentionOptions
{
    public const string Section = "Runway:Retention";

    /// <summary>Delete a finished run's directory this many days after it ended; 0 keeps it (a pipeline's <c>retention.run_files_days</c> overrides).</summary>
    public int RunFilesDays { get; set; }

    /// <summary>Delete an upload no run was submitted with for this many days and no queued or running run needs; 0 keeps them.</summary>
    public int UploadsUnusedDays { get; set; }

    /// <summary>Delete a finished run's record (and its files) this many days after it ended; 0 keeps records for ever.</summary>
    public int RunRecordsDays { get; set; }

    /// <summary>How often the sweep runs, on one node of all that share the database.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The most items of each kind one sweep removes; the next sweep goes on.</summary>
    public int MaxItemsPerSweep { get; set; } = 1000;

    public bool AnyPolicy => RunFilesDays > 0 || UploadsUnusedDays > 0 || RunRecordsDays > 0;

    /// <summary>The settings' mistakes, to refuse at start.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var (name, days) in new[] { ("RunFilesDays", RunFilesDays), ("UploadsUnusedDays", UploadsUnusedDays), ("RunRecordsDays", RunRecordsDays) })
        {
            if (days < 0)
            {
                yield return $"{Section}:{name} must be 0 (off) or a number of days, not {days}";
            }
        }
        if (Interval < TimeSpan.FromSeconds(1))
        {
            yield return $"{Section}:Interval must be at least one second";
        }
        if (MaxItemsPerSweep < 1)
        {
            yield return $"{Section}:MaxItemsPerSweep must be at least 1";
        }
    }
}
