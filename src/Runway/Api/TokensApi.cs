using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Runway.Auth;

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
        CreateTokenRequest? request, HttpContext http, PersonalTokens tokens, CancellationToken ct)
    {
        var created = await tokens.CreateAsync(http.User, request, Audit.AddressOf(http), ct);
        if (created is { Token: { } token, Secret: { } secret })
        {
            return TypedResults.Created($"/api/v1/tokens/{token.Id}", new CreatedTokenResponse(token.Id, token.Name, secret, Scopes.Parse(token.Scopes), token.ExpiresAt));
        }
        return created.Forbidden is { } detail ? Problems.Forbidden(detail) : Problems.Invalid(created.Errors!);
    }

    public static async Task<Results<Ok<TokenListResponse>, ProblemHttpResult>> ListAsync(
        string? user, int? limit, string? cursor, ClaimsPrincipal caller, PersonalTokens tokens, CancellationToken ct)
    {
        var page = await tokens.PageAsync(caller, user, limit, cursor, ct);
        return page switch
        {
            { Forbidden: { } detail } => Problems.Forbidden(detail),
            { Errors: { } errors } => Problems.Invalid(errors),
            _ => TypedResults.Ok(new TokenListResponse(page.Tokens.Select(TokenResponseItem.From).ToList(), page.NextCursor)),
        };
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string id, HttpContext http, PersonalTokens tokens, CancellationToken ct) =>
        await tokens.RevokeAsync(http.User, id, Audit.AddressOf(http), ct) switch
        {
            TokenRevocation.Revoked => TypedResults.NoContent(),
            TokenRevocation.Forbidden => Problems.Forbidden("revoking other tokens takes your password or a token with all your scopes; a token may always revoke itself"),
            _ => Problems.NotFound($"no token with id '{id}'"),
        };
}

public sealed record MeResponse(string Username, string? DisplayName, string? Email, string Role, IReadOnlyList<string> Groups, IReadOnlyList<string> Scopes, string AuthMethod);

public sealed record CreateTokenRequest(string? Name, IReadOnlyList<string>? Scopes, int? ExpiresInDays, DateTimeOffset? ExpiresAt);

public sealed record CreatedTokenResponse(string Id, string Name, string Token, IReadOnlyList<string> Scopes, DateTimeOffset? ExpiresAt);

public sealed record TokenResponseItem(string Id, string Username, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt)
{
    public static TokenResponseItem From(ApiToken t) => new(t.Id, t.Username, t.Name, Auth.Scopes.Parse(t.Scopes), t.CreatedAt, t.ExpiresAt, t.RevokedAt);
}

public sealed record TokenListResponse(IReadOnlyList<TokenResponseItem> Tokens, string? NextCursor);
