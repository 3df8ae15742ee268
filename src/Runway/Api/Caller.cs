using System.Security.Claims;
using Runway.Auth;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Api;

/// <summary>
/// Who is calling, as the authentication handler put it in the principal. Every endpoint but the health
/// checks, the OpenAPI document and the token endpoint requires a caller, so the name is always a user's.
/// </summary>
public static class Caller
{
    public const string Anonymous = "anonymous";

    public static string NameOf(ClaimsPrincipal user) => user.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : Anonymous;

    /// <summary>Sees and acts on everyone's runs and files: an admin whose credential carries the admin scope.</summary>
    public static bool IsAdmin(ClaimsPrincipal user) => user.IsInRole(Roles.Admin) && user.HasClaim(Scopes.ClaimType, Scopes.Admin);

    /// <summary>
    /// Creating tokens and revoking other tokens take a full credential: the password, or a token carrying every
    /// scope of its owner's role (what a token made without choosing scopes gets), or the admin scope. A narrower
    /// token does only the work it was made for, so a leaked <c>runs:read</c> token cannot mint or revoke others.
    /// Tokens issued to OAuth clients never manage tokens.
    /// </summary>
    public static bool MayManageTokens(ClaimsPrincipal user) =>
        !user.HasClaim(c => c.Type == "client_id")
        && (IsAdmin(user) || Scopes.OfRole(user.FindFirstValue(ClaimTypes.Role) ?? "").All(s => user.HasClaim(Scopes.ClaimType, s)));

    /// <summary>The id of the presented token; null for a password login.</summary>
    public static string? TokenIdOf(ClaimsPrincipal user) => user.FindFirstValue("token_id");

    /// <summary>When the presented token expires; null for a password login or a token that never expires.</summary>
    public static DateTimeOffset? TokenExpiryOf(ClaimsPrincipal user) =>
        user.FindFirstValue(RunwayAuthenticationHandler.TokenExpiresClaim) is { } text
            ? DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind)
            : null;

    public static IReadOnlyList<string> ScopesOf(ClaimsPrincipal user) => user.FindAll(Scopes.ClaimType).Select(c => c.Value).ToList();

    /// <summary>Whether the caller may see a thing owned by <paramref name="owner"/>; when not, the API answers 404, not 403.</summary>
    public static bool CanSee(ClaimsPrincipal user, string owner) => owner == NameOf(user) || IsAdmin(user);

    /// <summary>Who submits a run, for <see cref="Submissions"/>: from the API and from the web UI's forms alike.</summary>
    public static Submitter SubmitterOf(HttpContext http) => new(
        NameOf(http.User),
        IsAdmin(http.User),
        http.User.FindAll("group").Select(g => g.Value).ToList(),
        Audit.AddressOf(http));

    /// <summary>A pipeline restricted to groups is visible to their members and to admins only.</summary>
    public static bool MayUse(ClaimsPrincipal user, Pipeline pipeline) =>
        pipeline.AllowedGroups.Count == 0 || IsAdmin(user) || user.FindAll("group").Any(g => pipeline.AllowedGroups.Contains(g.Value));
}
