using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;

namespace Runway.Api;

/// <summary>What the trail may be narrowed by; <see cref="Since"/> is inclusive, <see cref="Until"/> exclusive.</summary>
public sealed record AuditFilter(string? Actor = null, string? Action = null, string? Target = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null);

public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, long? NextBefore, string? NextCursor);

/// <summary>
/// The audit trail newest first, for GET /api/v1/admin/audit and the admin page. Entries are appended, so id
/// order is time order: a time range becomes an id range found by two seeks on the (at, id) index, and every
/// page is one id-ordered index range, however long the trail.
/// </summary>
public sealed class AuditQuery(IDbContextFactory<RunwayDb> databases)
{
    /// <summary>One page, or null with <paramref name="errors"/> filled. <paramref name="before"/> is the older way to page.</summary>
    public async Task<AuditPage?> PageAsync(AuditFilter filter, long? before, int? limit, string? cursor, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        var size = Keyset.Limit(limit, errors);
        if (Keyset.After(cursor, id => long.TryParse(id, CultureInfo.InvariantCulture, out _), errors) is { } after)
        {
            before = long.Parse(after, CultureInfo.InvariantCulture);
        }
        if (filter is { Since: { } s, Until: { } u } && s >= u)
        {
            errors["until"] = ["must be later than since"];
        }
        if (errors.Count > 0)
        {
            return null;
        }
        await using var db = await databases.CreateDbContextAsync(ct);
        var query = db.AuditEntries.AsNoTracking();
        if (filter.Since is { } since)
        {
            var first = await db.AuditEntries.Where(a => a.At >= since).OrderBy(a => a.At).ThenBy(a => a.Id).Select(a => (long?)a.Id).FirstOrDefaultAsync(ct);
            query = query.Where(a => a.Id >= (first ?? long.MaxValue));
        }
        if (filter.Until is { } until)
        {
            var last = await db.AuditEntries.Where(a => a.At < until).OrderByDescending(a => a.At).ThenByDescending(a => a.Id).Select(a => (long?)a.Id).FirstOrDefaultAsync(ct);
            query = query.Where(a => a.Id <= (last ?? 0));
        }
        query = string.IsNullOrEmpty(filter.Actor) ? query : query.Where(a => a.Actor == filter.Actor);
        query = string.IsNullOrEmpty(filter.Action) ? query : query.Where(a => a.Action == filter.Action);
        query = string.IsNullOrEmpty(filter.Target) ? query : query.Where(a => a.Target == filter.Target);
        query = before is { } b ? query.Where(a => a.Id < b) : query;
        var page = await query.OrderByDescending(a => a.Id).Take(size + 1).ToListAsync(ct);
        var next = page.Count > size ? page[size - 1].Id : (long?)null;
        return new AuditPage(page.Take(size).ToList(), next, Keyset.Next(page, size, a => a.Id.ToString(CultureInfo.InvariantCulture)));
    }
}
