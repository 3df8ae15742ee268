using Microsoft.EntityFrameworkCore;
using Runway.Compat.Ga4gh.Tes;
using Runway.Data;
using Runway.Execution;
using Runway.Runs;

namespace Runway.Retention;

/// <summary>
/// Removes a finished run's directory and keeps its record: for its owner (<c>DELETE /api/v1/runs/{id}/files</c>) and
/// for the retention sweep alike.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>Claim: <c>UPDATE runs SET files_purged_at = now, files_bytes = NULL WHERE id = @id AND files_purged_at IS NULL
/// AND state is final</c>. One caller wins; a queued or running run is never claimed, so its directory is never touched,
/// nor a GA4GH TES task's before its outputs are collected (Compat/Ga4gh/Tes/TesOutputCollector).</item>
/// <item>Remove the directory through <see cref="RunTree.Remove"/>: links are removed as links, never followed, so a
/// run that linked to files outside cannot make this delete them.</item>
/// <item>Done: <c>files_bytes = 0</c>.</item>
/// </list>
/// The claim comes first so that two nodes never both remove (and count) the same directory. A removal cut short
/// (a crash between claim and done, an entry that could not be removed) leaves the run purged with no
/// <c>files_bytes</c>; <see cref="RetryInterruptedAsync"/> finishes it once the claim is older than <see cref="RetryAfter"/>.
/// </remarks>
public sealed class RunFilesPurge(IDbContextFactory<RunwayDb> contexts, RunwayPaths paths, TimeProvider clock, ILogger<RunFilesPurge> logger)
{
    private static readonly RunState[] Active = [RunState.Queued, RunState.Running];

    /// <summary>How old a claim must be before its removal counts as interrupted rather than in progress on some node.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromMinutes(30);

    /// <summary>The bytes freed when this call purged the run; null when it was not this call's to purge (active, purged already, gone).</summary>
    public async Task<long?> PurgeAsync(string runId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            var claimed = await db.Runs
                .Where(r => r.Id == runId && r.FilesPurgedAt == null && !Active.Contains(r.State)
                    && (r.Pipeline != TesTaskCheck.Pipeline || db.TesOutputs.Any(o => o.RunId == r.Id && o.CollectedAt != null)))
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.FilesPurgedAt, now).SetProperty(r => r.FilesBytes, (long?)null), ct);
            if (claimed == 0)
            {
                return null;
            }
        }
        return await RemoveAsync(runId, ct);
    }

    /// <summary>
    /// Finishes the removals that a crash or an unremovable entry cut short (purged, no <c>files_bytes</c>, claimed
    /// more than <see cref="RetryAfter"/> ago), at most <paramref name="max"/>; answers the bytes freed.
    /// </summary>
    public async Task<long> RetryInterruptedAsync(int max, CancellationToken ct)
    {
        var before = clock.GetUtcNow() - RetryAfter;
        List<string> ids;
        await using (var db = await contexts.CreateDbContextAsync(ct))
        {
            ids = await db.Runs.AsNoTracking()
                .Where(r => r.FilesPurgedAt != null && r.FilesPurgedAt < before && r.FilesBytes == null)
                .OrderBy(r => r.FilesPurgedAt).Take(max).Select(r => r.Id).ToListAsync(ct);
        }
        long freed = 0;
        foreach (var id in ids)
        {
            logger.LogInformation("Run {RunId}'s files were purged but not all removed: removing the rest", id);
            freed += await RemoveAsync(id, ct);
        }
        return freed;
    }

    private async Task<long> RemoveAsync(string runId, CancellationToken ct)
    {
        var removal = RunTree.Remove(paths.RunDirectory(runId));
        if (!removal.Complete)
        {
            logger.LogWarning("Run {RunId}'s directory was only partly removed ({Removed} entries, {Bytes} bytes): something in it could not be removed",
                runId, removal.Removed, removal.FreedBytes);
            return removal.FreedBytes;
        }
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
        await db.Runs.Where(r => r.Id == runId && r.FilesPurgedAt != null && r.FilesBytes == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.FilesBytes, 0L), CancellationToken.None);
        return removal.FreedBytes;
    }
}
