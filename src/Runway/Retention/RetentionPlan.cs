namespace Runway.Retention;

/// <summary>One thing a sweep removes: a run's files, an upload, or a run's record; <see cref="Bytes"/> as measured (null: not yet).</summary>
public sealed record RetentionItem(string Id, string Owner, long? Bytes, DateTimeOffset Since);

/// <summary>What the policies remove now: the dry run's answer, and the sweep's worklist.</summary>
public sealed record RetentionPlan(
    IReadOnlyList<RetentionItem> RunFiles, IReadOnlyList<RetentionItem> Uploads, IReadOnlyList<RetentionItem> RunRecords)
{
    public static readonly RetentionPlan Empty = new([], [], []);

    public bool IsEmpty => RunFiles.Count + Uploads.Count + RunRecords.Count == 0;
}

/// <summary>What a sweep removed and freed (allocated bytes of run directories, sizes of uploads).</summary>
public sealed record RetentionReport(
    IReadOnlyList<RetentionItem> RunFiles, IReadOnlyList<RetentionItem> Uploads, IReadOnlyList<RetentionItem> RunRecords, long FreedBytes)
{
    public static readonly RetentionReport None = new([], [], [], 0);

    public bool IsEmpty => RunFiles.Count + Uploads.Count + RunRecords.Count == 0;

    /// <summary>The sweep's one audit line: counts and bytes per kind.</summary>
    public string Summary() =>
        $"run_files={RunFiles.Count} ({RunFiles.Sum(i => i.Bytes ?? 0)} bytes), uploads={Uploads.Count} ({Uploads.Sum(i => i.Bytes ?? 0)} bytes), "
        + $"run_records={RunRecords.Count}; freed {FreedBytes} bytes";
}
