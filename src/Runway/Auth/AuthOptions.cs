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

    /// <summary>Failed logins allowed per user name, then per client address, in each <see cref="FailedLoginWindow"/>.</summary>
    public int FailedLoginsPerUser { get; set; } = 10;

    public int FailedLoginsPerAddress { get; set; } = 50;

    public TimeSpan FailedLoginWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Requests to <c>POST /oauth/token</c> per client address per minute.</summary>
    public int TokenRequestsPerMinute { get; set; } = 60;
}
