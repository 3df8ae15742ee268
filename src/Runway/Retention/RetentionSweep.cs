using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;
using Runway.Execution;
using Runway.Files;
using Runway.Runs;

namespace Runway.Retention;

/// <summary>
/// One sweep of the retention policies, on the node that holds the <c>retention</c> job (<see cref="JobLeases"/>):
/// measures the finished runs no node measured yet, then removes what <see cref="RetentionPolicy"/> plans, each item
/// under its own compare-and-set so that nothing is removed twice or while a run needs it, and writes the audit trail:
/// one entry per item removed and one for the sweep with its counts and the bytes freed.
/// </summary>
public sealed class RetentionSweep(
    IDbContextFactory<RunwayDb> contexts, RetentionPolicy policy, RunFilesPurge purge, JobLeases jobs, Blobs blobs,
    RunwayPaths paths, RetentionOptions options, TimeProvider clock, ILogger<RetentionSweep> logger)
{
    public const string Actor = "runway:retention";

    /// <summary>How long a sweep may hold the job before another node may take it (a node that died mid-sweep).</summary>
    private static readonly TimeSpan Hold = TimeSpan.FromMinutes(30);

    private readonly string holder = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    /// <summary>
    /// Sweeps when the job is due and free (<paramref name="evenIfNotDue"/>: when free), else does nothing and
    /// answers null: another node sweeps, or did within the interval.
    /// </summary>
    public async Task<RetentionReport?> TrySweepAsync(bool evenIfNotDue, CancellationToken ct)
    {
        if (!await jobs.TryClaimAsync(JobLeases.Retention, holder, Hold, evenIfNotDue, ct))
        {
            return null;
        }
        try
        {
            await MeasureUnmeasuredAsync(ct);
            await purge.RetryInterruptedAsync(options.MaxItemsPerSweep, ct);
            await RemoveUnreferencedBlobsAsync(ct);
            return await ApplyAsync(await policy.PlanAsync(clock.GetUtcNow(), ct), ct);
        }
        finally
        {
            await jobs.ReleaseAsync(JobLeases.Retention, holder, options.Interval, CancellationToken.None);
        }
    }

    private async Task<RetentionReport> ApplyAsync(RetentionPlan plan, CancellationToken ct)
    {
        if (plan.IsEmpty)
        {
            return RetentionReport.None;
        }
        var now = clock.GetUtcNow();
        var audit = new List<AuditEntry>();
        long freed = 0;
        var runFiles = new List<RetentionItem>();
        foreach (var item in plan.RunFiles)
        {
            if (await purge.PurgeAsync(item.Id, ct) is { } bytes)
            {
                runFiles.Add(item with { Bytes = bytes });
                freed += bytes;
                audit.Add(Entry(now, "retention.run_files", item.Id));
            }
        }
        var uploads = new List<RetentionItem>();
        var cutoff = policy.UploadsCutoff(now);
        foreach (var item in plan.Uploads)
        {
            if (await DeleteUploadAsync(item.Id, cutoff, ct))
            {
                uploads.Add(item);
                freed += item.Bytes ?? 0;
                audit.Add(Entry(now, "retention.upload", item.Id));
            }
        }
        var records = new List<RetentionItem>();
        foreach (var item in plan.RunRecords)
        {
            var bytes = await purge.PurgeAsync(item.Id, ct) ?? 0;
            if (await DeleteRecordAsync(item.Id, ct))
            {
                records.Add(item with { Bytes = bytes });
                freed += bytes;
                audit.Add(Entry(now, "retention.run_record", item.Id));
            }
        }
        var report = new RetentionReport(runFiles, uploads, records, freed);
        if (!report.IsEmpty)
        {
            audit.Add(Entry(now, "retention.sweep", report.Summary()));
            await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
            db.AuditEntries.AddRange(audit);
            await db.SaveChangesAsync(CancellationToken.None);
            logger.LogInformation("Retention sweep: {Summary}", report.Summary());
        }
        return report;
    }

    /// <summary>
    /// The row first, under the condition that it is still unused (a submission marks it used before its run is
    /// stored, <see cref="Submissions"/>), then the bytes: a run submitted meanwhile keeps its input.
    /// </summary>
    private async Task<bool> DeleteUploadAsync(string id, DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var file = await db.Files.AsNoTracking().FirstOrDefaultAsync(f => f.Id == id, ct);
        if (file is null || await db.Files.Where(f => f.Id == id && f.LastUsedAt < cutoff).ExecuteDeleteAsync(ct) == 0)
        {
            return false;
        }
        await blobs.ReleaseAsync(file, ct);
        return true;
    }

    private async Task<bool> DeleteRecordAsync(string id, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.RunEvents.Where(e => e.RunId == id).ExecuteDeleteAsync(ct);
        var deleted = await db.Runs.Where(r => r.Id == id && r.State != RunState.Queued && r.State != RunState.Running).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        return deleted == 1;
    }

    /// <summary>
    /// Blobs a queued or running run kept when their last file was deleted, once no run needs them (Files/Blobs): not a
    /// policy but housekeeping, so whatever the settings, with an audit entry per blob removed.
    /// </summary>
    private async Task RemoveUnreferencedBlobsAsync(CancellationToken ct)
    {
        var removed = await blobs.SweepUnreferencedAsync(options.MaxItemsPerSweep, ct);
        if (removed.Count == 0)
        {
            return;
        }
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
        db.AuditEntries.AddRange(removed.Select(b => Entry(now, "retention.blob", b.Sha256)));
        await db.SaveChangesAsync(CancellationToken.None);
        logger.LogInformation("Retention sweep: removed {Count} blobs no file or active run refers to any more ({Bytes} bytes)", removed.Count, removed.Sum(b => b.Bytes));
    }

    /// <summary>Runs that ended where no node measured them (a restart's ends, a takeover's, runs from before this version).</summary>
    private async Task MeasureUnmeasuredAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ids = await db.Runs.AsNoTracking()
            .Where(r => r.FilesPurgedAt == null && r.FinishedAt != null && r.FilesBytes == null)
            .OrderBy(r => r.FinishedAt).Take(options.MaxItemsPerSweep).Select(r => r.Id).ToListAsync(ct);
        foreach (var id in ids)
        {
            using var tree = RunTree.Open(paths.RunDirectory(id));
            var bytes = tree?.Measure().Bytes ?? 0;
            await db.Runs.Where(r => r.Id == id && r.FilesBytes == null && r.FilesPurgedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.FilesBytes, bytes), ct);
        }
    }

    private static AuditEntry Entry(DateTimeOffset at, string action, string target) =>
        new() { At = at, Actor = Actor, Action = action, Target = target };
}
