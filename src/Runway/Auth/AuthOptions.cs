namespace Runway.Auth;

/// <summary>The "Runway:Auth" configuration section.</summary>
public sealed class AuthOptions
{
    public const string Section = "Runway:Auth";

    /// <summary>The first admin's password when the database has no user yet (RUNWAY_ADMIN_PASSWORD); generated and printed when empty.</summary>
    public string AdminPassword { get; set; } = "";

    /// <summary>
    /// PBKDF2 iterations for new password hashes. The default is ASP.NET Core Identity's; tests lower it
    /// through configuration only, so a production server is never weaker by accident.
    /// </summary>
    public int PasswordIterations { get; set; } = 100_000;

    /// <summary>How long an access token from <c>POST /oauth/token</c> lives.</summary>
    public TimeSpan ClientTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Failed password logins allowed in each <see cref="FailedLoginWindow"/> for one user from one address, from one
    /// address whatever the names, and for one user from all addresses (see <see cref="LoginThrottle"/>). The
    /// per-user ceiling is far above the others, so that one guesser cannot lock a user out everywhere. Failed
    /// client logins at /oauth/token have the same limits and counters of their own.
    /// </summary>
    public int FailedLoginsPerUserAndAddress { get; set; } = 10;

    public int FailedLoginsPerAddress { get; set; } = 100;

    public int FailedLoginsPerUser { get; set; } = 500;

    /// <summary>How many counters each throttle keeps at most; a flood of made-up names or addresses evicts the least used.</summary>
    public int FailedLoginTrackedKeys { get; set; } = 100_000;

    public TimeSpan FailedLoginWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Requests to <c>POST /oauth/token</c> per client address per minute.</summary>
    public int TokenRequestsPerMinute { get; set; } = 60;
}
