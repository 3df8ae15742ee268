using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Runway.Auth;

/// <summary>Password hashing with ASP.NET Core Identity's <see cref="PasswordHasher{TUser}"/> (PBKDF2, salted, versioned).</summary>
public sealed class Passwords(AuthOptions options)
{
    private readonly PasswordHasher<UserAccount> hasher = new(Options.Create(new PasswordHasherOptions
    {
        CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3,
        IterationCount = options.PasswordIterations,
    }));

    public const int MinimumLength = 8;

    public string Hash(string password) => hasher.HashPassword(null!, password);

    /// <summary>The verdict, and a fresh hash when the stored one used fewer iterations than configured now.</summary>
    public (bool Ok, string? Rehashed) Verify(string storedHash, string password)
    {
        var result = hasher.VerifyHashedPassword(null!, storedHash, password);
        return result switch
        {
            PasswordVerificationResult.Success => (true, null),
            PasswordVerificationResult.SuccessRehashNeeded => (true, Hash(password)),
            _ => (false, null),
        };
    }

    public static string? Problem(string? password) =>
        password is null || password.Length < MinimumLength ? $"must be at least {MinimumLength} characters" : null;
}
