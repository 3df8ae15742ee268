using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Execution;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Retention;

/// <summary>
/// What the policies (<see cref="RetentionOptions"/>, and each pipeline's <c>retention.run_files_days</c>) remove at a
/// given time: finished runs' files past their window, uploads unused past theirs that no queued or running run
/// needs, and finished runs' records past theirs. Never a queued or running run. Read-only: the dry run shows this,
/// the sweep (<see cref="RetentionSweep"/>) removes it, each item again under its own condition.
/// </summary>
public sealed class RetentionPolicy(IDbContextFactory<RunwayDb> contexts, PipelineCatalog catalog, RetentionOptions options)
{
    private static readonly RunState[] Active = [RunState.Queued, RunState.Running];

    public async Task<RetentionPlan> PlanAsync(DateTimeOffset now, CancellationToken ct)
    {
        if (!options.AnyPolicy && !catalog.All.Any(p => p.RunFilesDays > 0))
        {
            return RetentionPlan.Empty;
        }
        await using var db = await contexts.CreateDbContextAsync(ct);
        var records = await RunRecordsAsync(db, now, ct);
        var files = await RunFilesAsync(db, now, records.Select(r => r.Id).ToHashSet(StringComparer.Ordinal), ct);
        return new RetentionPlan(files, await UploadsAsync(db, now, ct), records);
    }

    /// <summary>The cut-off of uploads: one unused since before it may go.</summary>
    public DateTimeOffset UploadsCutoff(DateTimeOffset now) => now - TimeSpan.FromDays(options.UploadsUnusedDays);

    private async Task<List<RetentionItem>> RunRecordsAsync(RunwayDb db, DateTimeOffset now, CancellationToken ct)
    {
        if (options.RunRecordsDays <= 0)
        {
            return [];
        }
        var cutoff = now - TimeSpan.FromDays(options.RunRecordsDays);
        return await db.Runs.AsNoTracking()
            .Where(r => !Active.Contains(r.State) && r.FinishedAt != null && r.FinishedAt < cutoff)
            .OrderBy(r => r.FinishedAt).ThenBy(r => r.Id)
            .Take(options.MaxItemsPerSweep)
            .Select(r => new RetentionItem(r.Id, r.Owner, r.FilesBytes, r.FinishedAt!.Value))
            .ToListAsync(ct);
    }

    /// <summary>
    /// One query per window: a pipeline with its own <c>run_files_days</c> by itself, every other run (its pipeline
    /// gone from the catalog too) by the server's window. Runs whose record goes anyway are left to that step.
    /// </summary>
    private async Task<List<RetentionItem>> RunFilesAsync(RunwayDb db, DateTimeOffset now, HashSet<string> recordsGoing, CancellationToken ct)
    {
        var own = catalog.All.Where(p => p.RunFilesDays is not null).ToList();
        var windows = own.Where(p => p.RunFilesDays > 0).Select(p => (Pipelines: (IReadOnlyList<string>)[p.Name], Except: false, Days: p.RunFilesDays!.Value)).ToList();
        if (options.RunFilesDays > 0)
        {
            windows.Add(([.. own.Select(p => p.Name)], true, options.RunFilesDays));
        }
        var items = new List<RetentionItem>();
        foreach (var (pipelines, except, days) in windows)
        {
            var cutoff = now - TimeSpan.FromDays(days);
            var query = db.Runs.AsNoTracking()
                .Where(r => r.FilesPurgedAt == null && r.FinishedAt != null && r.FinishedAt < cutoff && !Active.Contains(r.State));
            query = except ? query.Where(r => !pipelines.Contains(r.Pipeline)) : query.Where(r => pipelines.Contains(r.Pipeline));
            items.AddRange(await query.OrderBy(r => r.FinishedAt).ThenBy(r => r.Id)
                .Take(options.MaxItemsPerSweep + recordsGoing.Count)
                .Select(r => new RetentionItem(r.Id, r.Owner, r.FilesBytes, r.FinishedAt!.Value))
                .ToListAsync(ct));
        }
        return [.. items.Where(i => !recordsGoing.Contains(i.Id)).OrderBy(i => i.Since).ThenBy(i => i.Id, StringComparer.Ordinal).Take(options.MaxItemsPerSweep)];
    }

    /// <summary>Uploads unused since the cut-off, less those a queued or running run names as an input (it may be staged again).</summary>
    private async Task<List<RetentionItem>> UploadsAsync(RunwayDb db, DateTimeOffset now, CancellationToken ct)
    {
        if (options.UploadsUnusedDays <= 0)
        {
            return [];
        }
        var cutoff = UploadsCutoff(now);
        var candidates = await db.Files.AsNoTracking()
            .Where(f => f.LastUsedAt < cutoff)
            .OrderBy(f => f.LastUsedAt).ThenBy(f => f.Id)
            .Take(options.MaxItemsPerSweep)
            .Select(f => new RetentionItem(f.Id, f.Owner, f.Size, f.LastUsedAt))
            .ToListAsync(ct);
        if (candidates.Count == 0)
        {
            return candidates;
        }
        var needed = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var spec in db.Runs.AsNoTracking().Where(r => Active.Contains(r.State)).Select(r => r.SpecJson).AsAsyncEnumerable().WithCancellation(ct))
        {
            needed.UnionWith(RunSpecJson.Deserialize(spec).Inputs.Select(i => i.FileId));
        }
        return [.. candidates.Where(c => !needed.Contains(c.Id))];
    }
}
