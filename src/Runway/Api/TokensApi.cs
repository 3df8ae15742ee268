using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;

namespace Runway.Api;

/// <summary>The caller's own account and personal API tokens. Admins may list and revoke anyone's tokens.</summary>
public static class TokensApi
{
    public static IEndpointRouteBuilder MapMe(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/me", MeAsync).WithTags("Account").WithSummary("Who the credential belongs to, and the scopes it carries");
        return app;
    }

    public static IEndpointRouteBuilder MapTokens(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/tokens").WithTags("Account");
        api.MapPost("/", CreateAsync).WithSummary("Create a personal API token; its secret is in this answer only");
        api.MapGet("/", ListAsync).WithSummary("The caller's tokens, newest first (an admin may pass ?user=name, or ?user=* for all); ?limit=, ?cursor=next_cursor");
        api.MapDelete("/{id}", RevokeAsync).WithSummary("Revoke a token");
        return app;
    }

    public static async Task<Results<Ok<MeResponse>, ProblemHttpResult>> MeAsync(ClaimsPrincipal user, Accounts accounts, CancellationToken ct) =>
        await accounts.FindAsync(Caller.NameOf(user), ct) is { } account
            ? TypedResults.Ok(new MeResponse(account.Username, account.DisplayName, account.Email, account.Role, account.GroupList,
                Caller.ScopesOf(user), user.FindFirstValue("auth_method") ?? ""))
            : Problems.NotFound("no such user");

    public static async Task<Results<Created<CreatedTokenResponse>, ProblemHttpResult>> CreateAsync(
        CreateTokenRequest? request, ClaimsPrincipal user, HttpContext http, Tokens tokens, AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        if (user.HasClaim(c => c.Type == "client_id"))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: "a token issued to an OAuth client cannot create tokens; ask for a new one at /oauth/token");
        }
        if (!Caller.MayManageTokens(user))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: "creating tokens takes your password or a token with all your scopes; this token carries only " + Scopes.Format(Caller.ScopesOf(user)));
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
            return Problems.Invalid(errors);
        }
        var username = Caller.NameOf(user);
        var (token, secret) = await tokens.IssueAsync(username, request!.Name!.Trim(), scopes, expires, null, ct);
        await audit.RecordAsync(user, http, "token.create", token.Id, ct);
        return TypedResults.Created($"/api/v1/tokens/{token.Id}", new CreatedTokenResponse(token.Id, token.Name, secret, Scopes.Parse(token.Scopes), token.ExpiresAt));
    }

    public static async Task<Results<Ok<TokenListResponse>, ProblemHttpResult>> ListAsync(
        string? user, int? limit, string? cursor, ClaimsPrincipal caller, RunwayDb db, CancellationToken ct)
    {
        var whose = Caller.NameOf(caller);
        if (!string.IsNullOrEmpty(user) && user != whose)
        {
            if (!Caller.IsAdmin(caller))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: "only an admin may list another user's tokens");
            }
            whose = user == "*" ? null : user;
        }
        var errors = new Dictionary<string, string[]>();
        var size = Keyset.Limit(limit, errors);
        var after = Keyset.After(cursor, id => id.StartsWith("tok_", StringComparison.Ordinal), errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        // Personal tokens only: those issued to OAuth clients are listed and revoked with their client.
        var query = db.ApiTokens.AsNoTracking().Where(t => t.ClientId == null);
        query = whose is null ? query : query.Where(t => t.Username == whose);
        query = after is null ? query : query.Where(t => t.Id.CompareTo(after) < 0);
        var page = await query.OrderByDescending(t => t.Id).Take(size + 1).ToListAsync(ct);
        return TypedResults.Ok(new TokenListResponse(page.Take(size).Select(TokenResponseItem.From).ToList(), Keyset.Next(page, size, t => t.Id)));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        string id, ClaimsPrincipal user, HttpContext http, Tokens tokens, AuditTrail audit, CancellationToken ct)
    {
        // Any token may revoke itself (`runway logout`); other tokens take a full credential (see Caller.MayManageTokens).
        if (id != Caller.TokenIdOf(user) && !Caller.MayManageTokens(user))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: "revoking other tokens takes your password or a token with all your scopes; a token may always revoke itself");
        }
        if (!await tokens.RevokeAsync(id, Caller.IsAdmin(user) ? null : Caller.NameOf(user), ct))
        {
            return Problems.NotFound($"no token with id '{id}'");
        }
        await audit.RecordAsync(user, http, "token.revoke", id, ct);
        return TypedResults.NoContent();
    }
}

public sealed record MeResponse(string Username, string? DisplayName, string? Email, string Role, IReadOnlyList<string> Groups, IReadOnlyList<string> Scopes, string AuthMethod);

public sealed record CreateTokenRequest(string? Name, IReadOnlyList<string>? Scopes, int? ExpiresInDays, DateTimeOffset? ExpiresAt);

public sealed record CreatedTokenResponse(string Id, string Name, string Token, IReadOnlyList<string> Scopes, DateTimeOffset? ExpiresAt);

public sealed record TokenResponseItem(string Id, string Username, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt)
{
    public static TokenResponseItem From(ApiToken t) => new(t.Id, t.Username, t.Name, Auth.Scopes.Parse(t.Scopes), t.CreatedAt, t.ExpiresAt, t.RevokedAt);
}

public sealed record TokenListResponse(IReadOnlyList<TokenResponseItem> Tokens, string? NextCursor);
