using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;
using Runway.Runs;

namespace Runway.Api;

/// <summary>
/// Cancelling a batch, for POST /api/v1/batches/{id}/cancel and the batch page's button: each queued or running run
/// through <see cref="RunCancel"/> (its own audit entry names the caller), a page of ids at a time, so a run that ends
/// meanwhile is left as it ended and a 10,000-run batch is never one list in memory.
/// </summary>
public sealed class BatchCancel(IDbContextFactory<RunwayDb> databases, RunCancel cancel, AuditTrail audit)
{
    private const int Page = 500;

    /// <summary>False when there is no such batch the caller may see.</summary>
    public async Task<bool> CancelAsync(string id, HttpContext http, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        if (await BatchQuery.FindAsync(db, http.User, id, ct) is null)
        {
            return false;
        }
        await audit.RecordAsync(http, "batch.cancel", id, ct);
        string? after = null;
        while (true)
        {
            var active = db.Runs.AsNoTracking().Where(r => r.BatchId == id && (r.State == RunState.Queued || r.State == RunState.Running));
            if (after is not null)
            {
                active = active.Where(r => r.Id.CompareTo(after) > 0);
            }
            var ids = await active.OrderBy(r => r.Id).Select(r => r.Id).Take(Page).ToListAsync(ct);
            foreach (var runId in ids)
            {
                await cancel.CancelAsync(runId, http, ct);
            }
            if (ids.Count < Page)
            {
                return true;
            }
            after = ids[^1];
        }
    }
}
