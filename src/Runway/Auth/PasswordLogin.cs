namespace Runway.Auth;

/// <summary>What one password attempt came to: the user, or how long a throttled caller must wait, or neither (wrong).</summary>
public sealed record PasswordLoginResult(UserAccount? User, TimeSpan? RetryAfter);

/// <summary>
/// The one rule for a password sign-in, shared by HTTP Basic on the API and the web UI's /login form: a
/// throttled user or address tries nothing, right or wrong, until its window frees a slot (see
/// <see cref="LoginThrottle"/>); a wrong password counts against both, a right one clears its own pair.
/// </summary>
public sealed class PasswordLogin(Accounts accounts, LoginThrottle throttle)
{
    public async Task<PasswordLoginResult> TryAsync(string username, string password, string? address, CancellationToken ct)
    {
        if (throttle.RetryAfter(username, address) is { } wait)
        {
            return new PasswordLoginResult(null, wait);
        }
        if (await accounts.VerifyPasswordAsync(username, password, ct) is { } user)
        {
            throttle.RecordSuccess(username, address);
            return new PasswordLoginResult(user, null);
        }
        throttle.RecordFailure(username, address);
        return new PasswordLoginResult(null, null);
    }
}
