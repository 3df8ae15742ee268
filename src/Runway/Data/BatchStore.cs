using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Runway.Auth;
using Runway.Runs;

namespace Runway.Data;

/// <summary>
/// Stores a batch with all its runs in one transaction, through the same multi-row insert as single
/// submissions (<see cref="RunInserts"/>): a 10,000-row batch is one durable commit, and either every run is
/// queued or none. It bypasses the group commit's channel on purpose: that bounds one transaction to a few
/// hundred runs so single submissions answer in steps, and a batch must not be split.
/// </summary>
public sealed class BatchStore(IDbContextFactory<RunwayDb> contexts)
{
    // Rows per DbBatch on PostgreSQL (one round trip each); SQLite reuses prepared statements whatever the size.
    private const int Chunk = 1000;

    /// <summary>True when stored; false when the owner already has a batch under its idempotency key.</summary>
    public async Task<bool> AddAsync(Batch batch, IReadOnlyList<Run> runs, AuditRecord audit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(runs);
        await using var db = await contexts.CreateDbContextAsync(ct);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            db.Batches.Add(batch);
            db.AuditEntries.Add(AuditEntry.From(audit));
            await db.SaveChangesAsync(ct);
            await using var inserts = new RunInserts(db.Database.GetDbConnection(), db.Database.IsSqlite());
            for (var i = 0; i < runs.Count; i += Chunk)
            {
                await inserts.InsertAsync([.. runs.Skip(i).Take(Chunk).Select(r => (r, (AuditEntry?)null))], tx.GetDbTransaction(), ct);
            }
            await tx.CommitAsync(ct);
            return true;
        }
        catch (DbUpdateException e) when (batch.IdempotencyKey is not null && StoreErrors.IsBatchIdempotencyConflict(e))
        {
            return false;
        }
    }

    public async Task<Batch?> FindByKeyAsync(string owner, string key, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.Batches.AsNoTracking().FirstOrDefaultAsync(b => b.Owner == owner && b.IdempotencyKey == key, ct);
    }
}
