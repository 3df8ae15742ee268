namespace Runway.Auth;

/// <summary>
/// Counts failed logins in fixed windows per (name, address), per address, and per name from all addresses,
/// with a far higher ceiling for the last. Whoever guesses from one address exhausts that address, or that
/// name from that address, before the name itself: the owner of the name still logs in from elsewhere, and
/// only a guesser with many addresses can block a name everywhere. Only guessable secrets (passwords) are
/// counted: tokens and client secrets are 256 random bits, and a valid token is never refused.
/// <para>
/// One instance counts user logins and another (<see cref="Clients"/>) client logins at /oauth/token, so
/// neither kind spends the other's budget. Memory is bounded by <see cref="AuthOptions.FailedLoginTrackedKeys"/>:
/// when full, expired counters go first, then those with the fewest failures, which is what a flood of
/// made-up names or addresses leaves behind; counters that block stay.
/// </para>
/// </summary>
public sealed class LoginThrottle(AuthOptions options, TimeProvider clock)
{
    /// <summary>The service key of the instance for OAuth client logins.</summary>
    public const string Clients = "clients";

    private readonly Dictionary<string, Counter> counters = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    private sealed class Counter(DateTimeOffset start)
    {
        public DateTimeOffset Start { get; } = start;

        public int Failures { get; set; }
    }

    public int TrackedKeys
    {
        get
        {
            lock (gate)
            {
                return counters.Count;
            }
        }
    }

    /// <summary>How long until a failure slot frees for this name and address, or null when a login may be tried now.</summary>
    public TimeSpan? RetryAfter(string? name, string? address)
    {
        var now = clock.GetUtcNow();
        TimeSpan? wait = null;
        lock (gate)
        {
            foreach (var (key, limit) in Keys(name, address))
            {
                if (counters.TryGetValue(key, out var counter) && counter.Start + options.FailedLoginWindow > now && counter.Failures >= Math.Max(1, limit))
                {
                    var left = counter.Start + options.FailedLoginWindow - now;
                    wait = wait is { } w && w > left ? w : left;
                }
            }
        }
        return wait;
    }

    public void RecordFailure(string? name, string? address)
    {
        var now = clock.GetUtcNow();
        lock (gate)
        {
            foreach (var (key, _) in Keys(name, address))
            {
                if (!counters.TryGetValue(key, out var counter) || counter.Start + options.FailedLoginWindow <= now)
                {
                    MakeRoom(now);
                    counters[key] = counter = new Counter(now);
                }
                counter.Failures++;
            }
        }
    }

    /// <summary>A right password clears its own (name, address) count; never the address's or the name's, which others spent.</summary>
    public void RecordSuccess(string name, string? address)
    {
        lock (gate)
        {
            counters.Remove(PairKey(name, address));
        }
    }

    /// <summary>Whole seconds for a Retry-After header, rounded up so a client that waits them is let in.</summary>
    public static int Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));

    private IEnumerable<(string Key, int Limit)> Keys(string? name, string? address)
    {
        yield return ("address:" + (address ?? "unknown"), options.FailedLoginsPerAddress);
        if (!string.IsNullOrEmpty(name))
        {
            yield return (PairKey(name, address), options.FailedLoginsPerUserAndAddress);
            yield return ("name:" + name, options.FailedLoginsPerUser);
        }
    }

    // The separator cannot occur in an address, so no name makes two pairs collide.
    private static string PairKey(string name, string? address) => $"pair:{address ?? "unknown"} {name}";

    private void MakeRoom(DateTimeOffset now)
    {
        var capacity = Math.Max(16, options.FailedLoginTrackedKeys);
        if (counters.Count < capacity)
        {
            return;
        }
        foreach (var (key, counter) in counters)
        {
            if (counter.Start + options.FailedLoginWindow <= now)
            {
                counters.Remove(key);
            }
        }
        if (counters.Count < capacity * 3 / 4)
        {
            return;
        }
        // Down to half at once, so a flood pays for this sort once per capacity/2 new keys, not per key.
        foreach (var (key, _) in counters.OrderBy(c => c.Value.Failures).ThenBy(c => c.Value.Start).Take(counters.Count - capacity / 2).ToList())
        {
            counters.Remove(key);
        }
    }
}
