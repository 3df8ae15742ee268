using Microsoft.AspNetCore.Http.HttpResults;
using Runway.Auth;

namespace Runway.Api;

/// <summary>Administration: users, OAuth clients and the audit trail. Every route needs the admin scope.</summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/admin").WithTags("Admin").RequireAuthorization(Scopes.Admin);
        api.MapGet("/users", ListUsersAsync).WithSummary("Users by name; ?limit= (1-1000, default 100), then ?cursor=next_cursor");
        api.MapPost("/users", AddUserAsync).WithSummary("Add a user; without a password one is generated and answered once");
        api.MapGet("/users/{username}", GetUserAsync).WithSummary("One user");
        api.MapPatch("/users/{username}", UpdateUserAsync).WithSummary("Change a user: display_name, email, role, groups, enabled, password");
        api.MapGet("/clients", ListClientsAsync).WithSummary("OAuth clients by id; ?limit= (1-1000, default 100), then ?cursor=next_cursor");
        api.MapPost("/clients", AddClientAsync).WithSummary("Register an OAuth client acting for a user; its secret is in this answer only");
        api.MapDelete("/clients/{clientId}", RevokeClientAsync).WithSummary("Revoke a client and the tokens issued to it");
        api.MapGet("/audit", AuditAsync).WithSummary("The audit trail, newest first (?actor=, ?action=, ?target=, ?since=, ?until= (ISO 8601), ?limit=, then ?cursor=next_cursor)");
        return app;
    }

    public static async Task<Results<Ok<UserListResponse>, ProblemHttpResult>> ListUsersAsync(int? limit, string? cursor, UserAdmin users, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        return await users.PageAsync(limit, cursor, errors, ct) is { } page
            ? TypedResults.Ok(new UserListResponse(page.Users.Select(UserResponse.From).ToList(), page.NextCursor))
            : Problems.Invalid(errors);
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetUserAsync(string username, Accounts accounts, CancellationToken ct) =>
        await accounts.FindAsync(username, ct) is { } user ? TypedResults.Ok(UserResponse.From(user)) : Problems.NotFound($"no user named '{username}'");

    public static async Task<Results<Created<AddedUserResponse>, ProblemHttpResult>> AddUserAsync(
        AddUserRequest? request, HttpContext http, UserAdmin users, CancellationToken ct) =>
        await users.AddAsync(http.User, request, Audit.AddressOf(http), ct) switch
        {
            { User: { } added } change => TypedResults.Created($"/api/v1/admin/users/{added.Username}", new AddedUserResponse(UserResponse.From(added), change.GeneratedPassword)),
            { Errors: { } errors } => Problems.Invalid(errors),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: $"a user named '{request?.Username}' exists"),
        };

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> UpdateUserAsync(
        string username, UpdateUserRequest? request, HttpContext http, UserAdmin users, CancellationToken ct) =>
        await users.UpdateAsync(http.User, username, request, generatePassword: false, Audit.AddressOf(http), ct) switch
        {
            { User: { } updated } => TypedResults.Ok(UserResponse.From(updated)),
            { Errors: { } errors } => Problems.Invalid(errors),
            _ => Problems.NotFound($"no user named '{username}'"),
        };

    public static async Task<Results<Ok<ClientListResponse>, ProblemHttpResult>> ListClientsAsync(int? limit, string? cursor, ClientAdmin clients, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        return await clients.PageAsync(limit, cursor, errors, ct) is { } page
            ? TypedResults.Ok(new ClientListResponse(page.Clients.Select(ClientResponse.From).ToList(), page.NextCursor))
            : Problems.Invalid(errors);
    }

    public static async Task<Results<Created<AddedClientResponse>, ProblemHttpResult>> AddClientAsync(
        AddClientRequest? request, HttpContext http, ClientAdmin clients, CancellationToken ct)
    {
        var added = await clients.AddAsync(http.User, request, Audit.AddressOf(http), ct);
        return added is { Client: { } client, Secret: { } secret }
            ? TypedResults.Created($"/api/v1/admin/clients/{client.ClientId}", new AddedClientResponse(ClientResponse.From(client), secret))
            : Problems.Invalid(added.Errors!);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeClientAsync(string clientId, HttpContext http, ClientAdmin clients, CancellationToken ct) =>
        await clients.RevokeAsync(http.User, clientId, Audit.AddressOf(http), ct) ? TypedResults.NoContent() : Problems.NotFound($"no client with id '{clientId}'");

    public static async Task<Results<Ok<AuditListResponse>, ProblemHttpResult>> AuditAsync(
        string? actor, string? action, string? target, DateTimeOffset? since, DateTimeOffset? until, long? before, int? limit, string? cursor,
        AuditQuery audit, CancellationToken ct)
    {
        // next_cursor pages as every other list does; next_before, the older way, stays for the clients that use it.
        var errors = new Dictionary<string, string[]>();
        return await audit.PageAsync(new AuditFilter(actor, action, target, since, until), before, limit, cursor, errors, ct) is { } page
            ? TypedResults.Ok(new AuditListResponse(page.Entries, page.NextBefore, page.NextCursor))
            : Problems.Invalid(errors);
    }
}

public sealed record AddUserRequest(string? Username, string? Password, string? Role, string? DisplayName, string? Email, IReadOnlyList<string>? Groups);

public sealed record UpdateUserRequest(string? DisplayName, string? Email, string? Role, IReadOnlyList<string>? Groups, bool? Enabled, string? Password);

public sealed record UserResponse(string Username, string? DisplayName, string? Email, string Role, IReadOnlyList<string> Groups, bool Enabled, DateTimeOffset CreatedAt)
{
    public static UserResponse From(UserAccount u) => new(u.Username, u.DisplayName, u.Email, u.Role, u.GroupList, u.Enabled, u.CreatedAt);
}

public sealed record UserListResponse(IReadOnlyList<UserResponse> Users, string? NextCursor);

public sealed record AddedUserResponse(UserResponse User, string? GeneratedPassword);

public sealed record AddClientRequest(string? Name, string? Owner, IReadOnlyList<string>? Scopes);

public sealed record ClientResponse(string ClientId, string Name, string Owner, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    public static ClientResponse From(OAuthClient c) => new(c.ClientId, c.Name, c.Owner, Auth.Scopes.Parse(c.Scopes), c.CreatedAt, c.RevokedAt);
}

public sealed record ClientListResponse(IReadOnlyList<ClientResponse> Clients, string? NextCursor);

public sealed record AddedClientResponse(ClientResponse Client, string ClientSecret);

public sealed record AuditListResponse(IReadOnlyList<AuditEntry> Entries, long? NextBefore, string? NextCursor);
