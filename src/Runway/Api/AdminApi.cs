using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;

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
        api.MapGet("/audit", AuditAsync).WithSummary("The audit trail, newest first (?actor=, ?action=, ?target=, ?limit=, then ?cursor=next_cursor)");
        return app;
    }

    public static async Task<Results<Ok<UserListResponse>, ProblemHttpResult>> ListUsersAsync(int? limit, string? cursor, RunwayDb db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var size = Keyset.Limit(limit, errors);
        var after = Keyset.After(cursor, name => name.Length > 0, errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var query = db.Users.AsNoTracking();
        query = after is null ? query : query.Where(u => u.Username.CompareTo(after) > 0);
        var page = await query.OrderBy(u => u.Username).Take(size + 1).ToListAsync(ct);
        return TypedResults.Ok(new UserListResponse(page.Take(size).Select(UserResponse.From).ToList(), Keyset.Next(page, size, u => u.Username)));
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetUserAsync(string username, Accounts accounts, CancellationToken ct) =>
        await accounts.FindAsync(username, ct) is { } user ? TypedResults.Ok(UserResponse.From(user)) : Problems.NotFound($"no user named '{username}'");

    public static async Task<Results<Created<AddedUserResponse>, ProblemHttpResult>> AddUserAsync(
        AddUserRequest? request, HttpContext http, Accounts accounts, AuditTrail audit, CancellationToken ct)
    {
        var user = new NewUser(request?.Username ?? "", request?.Password, request?.Role ?? Roles.User, request?.DisplayName, request?.Email, request?.Groups);
        var errors = Accounts.Validate(user);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var password = user.Password ?? Secrets.NewPassword();
        if (await accounts.AddAsync(user, password, ct) is not { } added)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: $"a user named '{user.Username}' exists");
        }
        await audit.RecordAsync(http, "user.create", added.Username, ct);
        return TypedResults.Created($"/api/v1/admin/users/{added.Username}", new AddedUserResponse(UserResponse.From(added), user.Password is null ? password : null));
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> UpdateUserAsync(
        string username, UpdateUserRequest? request, HttpContext http, ClaimsPrincipal caller, Accounts accounts, Passwords passwords, AuditTrail audit, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (request?.Role is { } role && !Roles.IsValid(role))
        {
            errors["role"] = [$"must be {Roles.Admin} or {Roles.User}"];
        }
        if (request?.Password is { } newPassword && Passwords.Problem(newPassword) is { } weak)
        {
            errors["password"] = [weak];
        }
        if (username == Caller.NameOf(caller) && (request?.Enabled == false || request?.Role == Roles.User))
        {
            errors["enabled"] = ["an admin cannot disable or demote their own account; ask another admin"];
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var hash = request?.Password is { } p ? passwords.Hash(p) : null;
        var updated = await accounts.UpdateAsync(username, u =>
        {
            u.DisplayName = request?.DisplayName ?? u.DisplayName;
            u.Email = request?.Email ?? u.Email;
            u.Role = request?.Role ?? u.Role;
            u.Groups = request?.Groups is { } groups ? string.Join(' ', groups) : u.Groups;
            u.Enabled = request?.Enabled ?? u.Enabled;
            u.PasswordHash = hash ?? u.PasswordHash;
        }, ct);
        if (updated is null)
        {
            return Problems.NotFound($"no user named '{username}'");
        }
        await audit.RecordAsync(http, hash is null ? "user.update" : "user.reset_password", username, ct);
        return TypedResults.Ok(UserResponse.From(updated));
    }

    // In client id order, the one unique key: ids are random, so this order says nothing, but pages never overlap.
    public static async Task<Results<Ok<ClientListResponse>, ProblemHttpResult>> ListClientsAsync(int? limit, string? cursor, RunwayDb db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var size = Keyset.Limit(limit, errors);
        var after = Keyset.After(cursor, id => id.StartsWith("rwc_", StringComparison.Ordinal), errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var query = db.OAuthClients.AsNoTracking();
        query = after is null ? query : query.Where(c => c.ClientId.CompareTo(after) > 0);
        var page = await query.OrderBy(c => c.ClientId).Take(size + 1).ToListAsync(ct);
        return TypedResults.Ok(new ClientListResponse(page.Take(size).Select(ClientResponse.From).ToList(), Keyset.Next(page, size, c => c.ClientId)));
    }

    public static async Task<Results<Created<AddedClientResponse>, ProblemHttpResult>> AddClientAsync(
        AddClientRequest? request, HttpContext http, Accounts accounts, Clients clients, AuditTrail audit, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request?.Name) || request.Name.Length > 100)
        {
            errors["name"] = ["is required, at most 100 characters"];
        }
        var owner = string.IsNullOrEmpty(request?.Owner) ? null : await accounts.FindAsync(request.Owner, ct);
        if (owner is null)
        {
            errors["owner"] = ["must name an existing user"];
        }
        var scopes = request?.Scopes ?? (owner is null ? [] : Scopes.OfRole(owner.Role));
        if (scopes.Count == 0 || Scopes.Unknown(scopes) is { Count: > 0 })
        {
            errors["scopes"] = [$"choose among {Scopes.Format(Scopes.All)}"];
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var (client, secret) = await clients.AddAsync(request!.Name!.Trim(), owner!.Username, scopes, ct);
        await audit.RecordAsync(http, "client.create", client.ClientId, ct);
        return TypedResults.Created($"/api/v1/admin/clients/{client.ClientId}", new AddedClientResponse(ClientResponse.From(client), secret));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeClientAsync(string clientId, HttpContext http, Clients clients, AuditTrail audit, CancellationToken ct)
    {
        if (!await clients.RevokeAsync(clientId, ct))
        {
            return Problems.NotFound($"no client with id '{clientId}'");
        }
        await audit.RecordAsync(http, "client.revoke", clientId, ct);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<AuditListResponse>, ProblemHttpResult>> AuditAsync(
        string? actor, string? action, string? target, long? before, int? limit, string? cursor, RunwayDb db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var size = Keyset.Limit(limit, errors);
        // next_cursor pages as every other list does; next_before, the older way, stays for the clients that use it.
        if (Keyset.After(cursor, id => long.TryParse(id, System.Globalization.CultureInfo.InvariantCulture, out _), errors) is { } after)
        {
            before = long.Parse(after, System.Globalization.CultureInfo.InvariantCulture);
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var query = db.AuditEntries.AsNoTracking();
        query = string.IsNullOrEmpty(actor) ? query : query.Where(a => a.Actor == actor);
        query = string.IsNullOrEmpty(action) ? query : query.Where(a => a.Action == action);
        query = string.IsNullOrEmpty(target) ? query : query.Where(a => a.Target == target);
        query = before is { } b ? query.Where(a => a.Id < b) : query;
        var page = await query.OrderByDescending(a => a.Id).Take(size + 1).ToListAsync(ct);
        var next = page.Count > size ? page[size - 1].Id : (long?)null;
        return TypedResults.Ok(new AuditListResponse(page.Take(size).ToList(), next,
            Keyset.Next(page, size, a => a.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))));
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
