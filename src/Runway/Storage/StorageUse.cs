using Microsoft.EntityFrameworkCore;
using Runway.Data;

namespace Runway.Storage;

/// <summary>
/// A user's stored bytes: uploads (their sizes) and run directories (<c>runs.files_bytes</c>, allocated bytes). Uploads
/// share a blob per content (FileStore); each user who holds a file of a blob is charged its size once, however many of
/// their files point at it. The disk holds it once for all of them: the sum over users can exceed the disk used.
/// </summary>
public sealed record StoredBytes(long Uploads, long RunFiles)
{
    public long Total => Uploads + RunFiles;
}

/// <summary>
/// Bytes stored per user, from the database alone (never a walk of the disk): the sum of the user's uploads' sizes and
/// of their runs' <c>files_bytes</c> (measured once when a run ends, 0 once purged). Each answer is one query that reads
/// only an index (<c>ix_files_owner_sha256</c>, <c>ix_runs_owner_files_bytes</c>). The quota (<see cref="StorageQuota"/>)
/// and the accounting read it.
/// </summary>
public sealed class StorageUse(IDbContextFactory<RunwayDb> contexts)
{
    public async Task<StoredBytes> OfAsync(string owner, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        // CAST: PostgreSQL's SUM of bigint is numeric.
        var row = await db.Database.SqlQuery<StoredBytesRow>($"""
            SELECT CAST((SELECT COALESCE(SUM(size), 0) FROM (SELECT DISTINCT sha256, size FROM files WHERE owner = {owner}) AS held) AS BIGINT) AS "Uploads",
                   CAST((SELECT COALESCE(SUM(files_bytes), 0) FROM runs WHERE owner = {owner}) AS BIGINT) AS "RunFiles"
            """).SingleAsync(ct);
        return new StoredBytes(row.Uploads, row.RunFiles);
    }

    /// <summary>
    /// Every user who stores anything, by name: two grouped reads, each of an owner-first index in its order, merged
    /// here. (One statement over their UNION ALL made SQLite sort every run with files: 0.33 s for a million runs,
    /// against 0.07 s for the runs' read alone.)
    /// </summary>
    public async Task<IReadOnlyDictionary<string, StoredBytes>> PerUserAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var uploads = await db.Database.SqlQuery<OwnerSumRow>($"""
            SELECT owner AS "Owner", CAST(SUM(size) AS BIGINT) AS "Bytes" FROM (SELECT DISTINCT owner, sha256, size FROM files) AS held GROUP BY owner
            """).ToListAsync(ct);
        var runFiles = await db.Database.SqlQuery<OwnerSumRow>($"""
            SELECT owner AS "Owner", CAST(SUM(files_bytes) AS BIGINT) AS "Bytes" FROM runs WHERE files_bytes > 0 GROUP BY owner
            """).ToListAsync(ct);
        var stored = uploads.ToDictionary(r => r.Owner, r => new StoredBytes(r.Bytes, 0), StringComparer.Ordinal);
        foreach (var row in runFiles)
        {
            stored[row.Owner] = new StoredBytes(stored.GetValueOrDefault(row.Owner)?.Uploads ?? 0, row.Bytes);
        }
        return stored;
    }

    // Rows of SqlQuery: EF binds the columns to these by name.
    internal sealed record StoredBytesRow(long Uploads, long RunFiles);

    internal sealed record OwnerSumRow(string Owner, long Bytes);
}
