using System.Collections.Concurrent;
using Runway.Auth;

namespace Runway.Storage;

/// <summary>A user's stored bytes against their quota.</summary>
public sealed record QuotaUse(long UsedBytes, long LimitBytes)
{
    public bool Exceeded => UsedBytes >= LimitBytes;

    public long LeftBytes => Math.Max(0, LimitBytes - UsedBytes);

    public string Detail => $"you store {UsedBytes} bytes (uploads and run directories) of your quota of {LimitBytes} bytes";
}

/// <summary>
/// The per-user storage quota (<see cref="QuotaOptions"/>) on the upload and submit paths. Cheap there: a user's total
/// comes from <see cref="StorageUse"/> (one index-only query) at most once per <see cref="QuotaOptions.CacheFor"/>, and
/// this node's own uploads are added to it at once. So another node's upload, or a run that just ended, counts here
/// within that time; a quota is a bound on growth, not an exact fence.
/// </summary>
public sealed class StorageQuota(QuotaOptions options, StorageUse use, Accounts accounts, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, (long Bytes, DateTimeOffset At)> cache = new(StringComparer.Ordinal);

    /// <summary>The user's use and quota, or null when they have no quota.</summary>
    public async Task<QuotaUse?> OfAsync(string user, IEnumerable<string> groups, CancellationToken ct)
    {
        if (!options.Any || options.LimitOf(groups) is not { } limit)
        {
            return null;
        }
        var now = clock.GetUtcNow();
        if (!cache.TryGetValue(user, out var known) || now - known.At >= options.CacheFor)
        {
            known = ((await use.OfAsync(user, ct)).Total, now);
            cache[user] = known;
        }
        return new QuotaUse(known.Bytes, limit);
    }

    /// <summary>As <see cref="OfAsync"/>, for a user known by name alone (an upload): their groups are looked up when a group has a quota.</summary>
    public async Task<QuotaUse?> OfUserAsync(string user, CancellationToken ct)
    {
        if (!options.Any)
        {
            return null;
        }
        var groups = options.Groups.Count > 0 && await accounts.FindAsync(user, ct) is { } account ? account.GroupList : [];
        return await OfAsync(user, groups, ct);
    }

    /// <summary>Counts an upload this node just stored, until the next read.</summary>
    public void Added(string user, long bytes)
    {
        if (options.Any)
        {
            cache.AddOrUpdate(user, _ => (bytes, DateTimeOffset.MinValue), (_, known) => (known.Bytes + bytes, known.At));
        }
    }

    /// <summary>Forgets what is known of the user (their run's files were purged): the next check reads again.</summary>
    public void Forget(string user) => cache.TryRemove(user, out _);
}

/// <summary>
/// An upload refused by the storage quota: <see cref="Full"/> when the user's quota was used up before it (507), else
/// it alone would have passed it (413).
/// </summary>
public sealed class StorageQuotaException(QuotaUse use, bool full)
    : Exception(full ? use.Detail : $"this upload would pass your storage quota: {use.Detail}, {use.LeftBytes} bytes left")
{
    public QuotaUse Use { get; } = use;
    public bool Full { get; } = full;
}
