using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Runs;

namespace Runway.Notifications;

/// <summary>
/// The <c>notifications</c> table as a queue. A row is due when its run has ended and its back-off has passed; a
/// worker takes it by compare-and-set on its lock (<c>UPDATE … WHERE id AND state = 'pending' AND locked_until
/// &lt;= now</c>, decided by the affected-row count, as <see cref="JobLeases"/>), so of several nodes exactly one
/// sends each attempt. A worker that dies mid-attempt loses the lock when it expires, and the row is sent again
/// with the same <c>webhook-id</c>: delivery is at least once, and a receiver that keeps the ids it has seen
/// (as Standard Webhooks asks) gets it exactly once.
/// </summary>
public sealed class NotificationOutbox(IDbContextFactory<RunwayDb> contexts, TimeProvider clock)
{
    public async Task<IReadOnlyList<string>> DueAsync(int max, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await (
            from n in db.Notifications
            join r in db.Runs on n.RunId equals r.Id
            where n.State == Notification.Pending && r.FinishedAt != null
                && (n.NextAttemptAt == null || n.NextAttemptAt <= now)
                && (n.LockedUntil == null || n.LockedUntil <= now)
            orderby n.Id
            select n.Id).Take(max).ToListAsync(ct);
    }

    /// <summary>Takes the row for <paramref name="holder"/> for <paramref name="hold"/>; null when another has it or it is done.</summary>
    public async Task<(Notification Notification, Run Run)?> TryClaimAsync(string id, string holder, TimeSpan hold, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var until = now + hold;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var claimed = await db.Notifications
            .Where(n => n.Id == id && n.State == Notification.Pending && (n.LockedUntil == null || n.LockedUntil <= now))
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.LockedBy, holder).SetProperty(n => n.LockedUntil, until), ct);
        if (claimed != 1)
        {
            return null;
        }
        var notification = await db.Notifications.AsNoTracking().FirstAsync(n => n.Id == id, ct);
        var run = await db.Runs.AsNoTracking().FirstAsync(r => r.Id == notification.RunId, ct);
        return (notification, run);
    }

    /// <summary>Records an attempt and lets the row go; only its holder can (a lock lost to another worker records nothing).</summary>
    public async Task<bool> RecordAsync(string id, string holder, string state, DeliveryResult result, DateTimeOffset? next, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(result);
        var now = clock.GetUtcNow();
        DateTimeOffset? delivered = result.Delivered ? now : null;
        int? status = result.Status;
        var error = result.Error is { Length: > 1000 } text ? text[..1000] : result.Error;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var affected = await db.Notifications.Where(n => n.Id == id && n.LockedBy == holder && n.State == Notification.Pending)
            .ExecuteUpdateAsync(s => s
                .SetProperty(n => n.State, state)
                .SetProperty(n => n.Attempts, n => n.Attempts + (result.Skipped ? 0 : 1))
                .SetProperty(n => n.LastStatus, status)
                .SetProperty(n => n.LastError, error)
                .SetProperty(n => n.DeliveredAt, delivered)
                .SetProperty(n => n.NextAttemptAt, next)
                .SetProperty(n => n.LockedBy, (string?)null)
                .SetProperty(n => n.LockedUntil, (DateTimeOffset?)null), ct);
        return affected == 1;
    }

    private static readonly CompiledQuery<Func<RunwayDb, string, IAsyncEnumerable<Notification>>> OfRun =
        new(() => EF.CompileAsyncQuery<RunwayDb, string, Notification>((db, runId) => db.Notifications.AsNoTracking().Where(n => n.RunId == runId).OrderBy(n => n.Id)));

    public async Task<IReadOnlyList<Notification>> OfRunAsync(string runId, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await OfRun.For(db)(db, runId).ToListAsync(ct);
    }
}
