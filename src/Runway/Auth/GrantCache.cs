using System.Collections.Concurrent;

namespace Runway.Auth;

/// <summary>
/// Bearer tokens this server validated in the last <see cref="Lifetime"/>, so that a busy client (a script
/// polling, a notebook submitting in a loop) costs no database query per request. Any change to tokens,
/// users or clients made through this server empties it at once; another server sharing the database
/// (PostgreSQL) sees a revocation or a disabled user within <see cref="Lifetime"/>, as Kubernetes' token
/// webhook cache or a JWT's short lifetime would.
/// </summary>
public sealed class GrantCache(TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);
    private const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, Entry> grants = new(StringComparer.Ordinal);
    private long generation;

    /// <summary>Read before validating against the database, and passed back to <see cref="Keep"/>.</summary>
    public long Generation => Interlocked.Read(ref generation);

    /// <summary>The grant of a token (by its hash) seen valid within <see cref="Lifetime"/> and not expired since.</summary>
    public TokenGrant? Find(string hash)
    {
        var now = clock.GetUtcNow();
        return grants.TryGetValue(hash, out var entry) && entry.Until > now && !(entry.Grant.Token.ExpiresAt <= now) ? entry.Grant : null;
    }

    /// <summary>Keeps a grant read from the database, unless something changed since <paramref name="seenGeneration"/>.</summary>
    public void Keep(string hash, TokenGrant grant, long seenGeneration)
    {
        if (Generation != seenGeneration)
        {
            return;
        }
        if (grants.Count >= MaxEntries)
        {
            grants.Clear();
        }
        grants[hash] = new Entry(grant, clock.GetUtcNow() + Lifetime);
        // A Clear between the check above and this write must not leave a stale grant behind.
        if (Generation != seenGeneration)
        {
            grants.TryRemove(hash, out _);
        }
    }

    /// <summary>Forgets every grant: called on every change to tokens, users or clients.</summary>
    public void Clear()
    {
        Interlocked.Increment(ref generation);
        grants.Clear();
    }

    private sealed record Entry(TokenGrant Grant, DateTimeOffset Until);
}
