using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Runway.Auth;

/// <summary>
/// Random secrets and their stored form. Tokens and client secrets carry 256 random bits, so one SHA-256
/// is a safe stored form (nothing to brute-force); passwords, chosen by people, go through
/// <see cref="Passwords"/> instead.
/// </summary>
public static class Secrets
{
    public const string TokenPrefix = "rwt_";
    public const string ClientSecretPrefix = "rwcs_";

    public static string NewToken() => TokenPrefix + Random(32);

    public static string NewClientSecret() => ClientSecretPrefix + Random(32);

    public static string NewClientId() => "rwc_" + Random(12);

    /// <summary>A password for a generated account: 128 bits, in characters a terminal copies whole.</summary>
    public static string NewPassword() => Random(16);

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Compares a presented secret with a stored hash in time independent of where they differ.</summary>
    public static bool Matches(string secret, string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(secret)), Encoding.ASCII.GetBytes(storedHash));

    public static bool LooksLikeToken(string secret) => secret.StartsWith(TokenPrefix, StringComparison.Ordinal);

    private static string Random(int bytes) => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(bytes));
}
