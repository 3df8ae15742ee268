namespace Runway.Auth;

/// <summary>
/// What a credential may do. A user's password grants every scope of the user's role; a token carries a
/// subset chosen when it was made, so it can only narrow its owner's rights, never widen them.
/// </summary>
public static class Scopes
{
    public const string RunsRead = "runs:read";
    public const string RunsWrite = "runs:write";
    public const string FilesRead = "files:read";
    public const string FilesWrite = "files:write";
    public const string Admin = "admin";

    /// <summary>The claim type carrying one scope each.</summary>
    public const string ClaimType = "scope";

    public static readonly IReadOnlyList<string> All = [RunsRead, RunsWrite, FilesRead, FilesWrite, Admin];

    public static IReadOnlyList<string> OfRole(string role) => role == Roles.Admin ? All : [RunsRead, RunsWrite, FilesRead, FilesWrite];

    public static IReadOnlyList<string> Parse(string? text) =>
        (text ?? "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();

    public static string Format(IEnumerable<string> scopes) => string.Join(' ', scopes.Order(StringComparer.Ordinal));

    /// <summary>The unknown names in <paramref name="requested"/>, so an error can name them.</summary>
    public static IReadOnlyList<string> Unknown(IEnumerable<string> requested) => requested.Where(s => !All.Contains(s)).ToList();

    /// <summary>What a token of <paramref name="tokenScopes"/> may do today: its owner may have lost the admin role since.</summary>
    public static IReadOnlyList<string> Effective(string tokenScopes, string role) =>
        Parse(tokenScopes).Intersect(OfRole(role), StringComparer.Ordinal).ToList();
}
