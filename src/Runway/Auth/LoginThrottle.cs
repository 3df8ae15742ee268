using System.Threading.RateLimiting;

namespace Runway.Auth;

/// <summary>
/// Counts failed logins per user name and per client address in fixed windows (System.Threading.RateLimiting,
/// the limiter under ASP.NET Core's rate-limiting middleware). Only failures spend permits: a user who
/// types the right password is never slowed, and a guesser runs out after a few tries, whichever names
/// or addresses it rotates.
/// </summary>
public sealed class LoginThrottle(AuthOptions options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> failures = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetFixedWindowLimiter(key, k => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, k.StartsWith("user:", StringComparison.Ordinal) ? options.FailedLoginsPerUser : options.FailedLoginsPerAddress),
            Window = options.FailedLoginWindow,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public TimeSpan Window => options.FailedLoginWindow;

    /// <summary>True when the user or the address has spent its failures for this window.</summary>
    public bool IsBlocked(string? username, string? address) =>
        Keys(username, address).Any(k => failures.GetStatistics(k)?.CurrentAvailablePermits == 0);

    public void RecordFailure(string? username, string? address)
    {
        foreach (var key in Keys(username, address))
        {
            using var lease = failures.AttemptAcquire(key);
        }
    }

    public void Dispose() => failures.Dispose();

    private static IEnumerable<string> Keys(string? username, string? address)
    {
        if (!string.IsNullOrEmpty(username))
        {
            yield return "user:" + username;
        }
        yield return "address:" + (address ?? "unknown");
    }
}
