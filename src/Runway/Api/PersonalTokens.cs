using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;

namespace Runway.Api;

/// <summary>What creating a token came to: the token and its secret, or why not (a 403's detail, or per-field errors).</summary>
public sealed record TokenCreation(ApiToken? Token = null, string? Secret = null, string? Forbidden = null, Dictionary<string, string[]>? Errors = null);

/// <summary>One page of personal tokens, newest first; or why not: a 403's detail, or the bad paging fields.</summary>
public sealed record TokenPage(IReadOnlyList<ApiToken> Tokens, string? NextCursor, string? Forbidden = null, Dictionary<string, string[]>? Errors = null);

public enum TokenRevocation
{
    Revoked,
    NotFound,
    Forbidden,
}

/// <summary>
/// The rules of personal API tokens, for /api/v1/tokens and the Account page alike: who may create one and with
/// what scopes and expiry, whose tokens a caller may list, which a caller may revoke; each change audited.
/// </summary>
public sealed class PersonalTokens(IDbContextFactory<RunwayDb> databases, Tokens tokens, AuditTrail audit, TimeProvider clock)
{
    public async Task<TokenCreation> CreateAsync(ClaimsPrincipal user, CreateTokenRequest? request, string? address, CancellationToken ct)
    {
        if (user.HasClaim(c => c.Type == "client_id"))
        {
            return new TokenCreation(Forbidden: "a token issued to an OAuth client cannot create tokens; ask for a new one at /oauth/token");
        }
        if (!Caller.MayManageTokens(user))
        {
            return new TokenCreation(Forbidden: "creating tokens takes your password or a token with all your scopes; this token carries only " + Scopes.Format(Caller.ScopesOf(user)));
        }
        var mine = Caller.ScopesOf(user);
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request?.Name) || request.Name.Length > 100)
        {
            errors["name"] = ["is required, at most 100 characters"];
        }
        var scopes = request?.Scopes is { } asked ? asked.Distinct(StringComparer.Ordinal).ToList() : mine.ToList();
        if (scopes.Count == 0 || scopes.Except(mine, StringComparer.Ordinal).Any())
        {
            errors["scopes"] = [$"a token can only narrow your rights: choose among {Scopes.Format(mine)}"];
        }
        DateTimeOffset? expires = request?.ExpiresInDays is { } days ? clock.GetUtcNow().AddDays(days) : request?.ExpiresAt;
        var expiryField = request?.ExpiresInDays is null && request?.ExpiresAt is not null ? "expires_at" : "expires_in_days";
        if (request?.ExpiresInDays is <= 0 or > 3650 || (expires is { } e && e <= clock.GetUtcNow()))
        {
            errors[expiryField] = ["must lie in the future, within ten years"];
        }
        // A token cannot outlive the token that made it: asked for no expiry, it gets its maker's; asked for a
        // later one, it is refused rather than silently shortened, so the caller learns what it got.
        else if (Caller.TokenExpiryOf(user) is { } ceiling)
        {
            if (expires > ceiling)
            {
                errors[expiryField] = [$"must not be later than this token's own expiry, {ceiling:O}"];
            }
            expires ??= ceiling;
        }
        if (errors.Count > 0)
        {
            return new TokenCreation(Errors: errors);
        }
        var username = Caller.NameOf(user);
        var (token, secret) = await tokens.IssueAsync(username, request!.Name!.Trim(), scopes, expires, null, ct);
        await audit.RecordAsync(username, "token.create", token.Id, address, ct);
        return new TokenCreation(token, secret);
    }

    /// <summary>The caller's tokens, or another user's (<paramref name="whose"/>; "*" for all) for an admin.</summary>
    public async Task<TokenPage> PageAsync(ClaimsPrincipal caller, string? whose, int? limit, string? cursor, CancellationToken ct)
    {
        var owner = Caller.NameOf(caller);
        if (!string.IsNullOrEmpty(whose) && whose != owner)
        {
            if (!Caller.IsAdmin(caller))
            {
                return new TokenPage([], null, Forbidden: "only an admin may list another user's tokens");
            }
            owner = whose == "*" ? null : whose;
        }
        var errors = new Dictionary<string, string[]>();
        var size = Keyset.Limit(limit, errors);
        var after = Keyset.After(cursor, id => id.StartsWith("tok_", StringComparison.Ordinal), errors);
        if (errors.Count > 0)
        {
            return new TokenPage([], null, Errors: errors);
        }
        await using var db = await databases.CreateDbContextAsync(ct);
        // Personal tokens only: those issued to OAuth clients are listed and revoked with their client.
        var query = db.ApiTokens.AsNoTracking().Where(t => t.ClientId == null);
        query = owner is null ? query : query.Where(t => t.Username == owner);
        query = after is null ? query : query.Where(t => t.Id.CompareTo(after) < 0);
        var page = await query.OrderByDescending(t => t.Id).Take(size + 1).ToListAsync(ct);
        return new TokenPage(page.Take(size).ToList(), Keyset.Next(page, size, t => t.Id));
    }

    public async Task<TokenRevocation> RevokeAsync(ClaimsPrincipal user, string id, string? address, CancellationToken ct)
    {
        // Any token may revoke itself (`runway logout`); other tokens take a full credential (see Caller.MayManageTokens).
        if (id != Caller.TokenIdOf(user) && !Caller.MayManageTokens(user))
        {
            return TokenRevocation.Forbidden;
        }
        if (!await tokens.RevokeAsync(id, Caller.IsAdmin(user) ? null : Caller.NameOf(user), ct))
        {
            return TokenRevocation.NotFound;
        }
        await audit.RecordAsync(Caller.NameOf(user), "token.revoke", id, address, ct);
        return TokenRevocation.Revoked;
    }
}
