using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;

namespace Runway.Api;

public sealed record ClientPage(IReadOnlyList<OAuthClient> Clients, string? NextCursor);

/// <summary>A client added with its secret (shown once), or the per-field errors.</summary>
public sealed record ClientAddition(OAuthClient? Client = null, string? Secret = null, Dictionary<string, string[]>? Errors = null);

/// <summary>An admin's work on OAuth clients, for /api/v1/admin/clients and the admin pages alike, each change audited.</summary>
public sealed class ClientAdmin(IDbContextFactory<RunwayDb> databases, Accounts accounts, Clients clients, AuditTrail audit)
{
    // In client id order, the one unique key: ids are random, so this order says nothing, but pages never overlap.
    public async Task<ClientPage?> PageAsync(int? limit, string? cursor, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        var size = Keyset.Limit(limit, errors);
        var after = Keyset.After(cursor, id => id.StartsWith("rwc_", StringComparison.Ordinal), errors);
        if (errors.Count > 0)
        {
            return null;
        }
        await using var db = await databases.CreateDbContextAsync(ct);
        var query = db.OAuthClients.AsNoTracking();
        query = after is null ? query : query.Where(c => c.ClientId.CompareTo(after) > 0);
        var page = await query.OrderBy(c => c.ClientId).Take(size + 1).ToListAsync(ct);
        return new ClientPage(page.Take(size).ToList(), Keyset.Next(page, size, c => c.ClientId));
    }

    public async Task<ClientAddition> AddAsync(ClaimsPrincipal caller, AddClientRequest? request, string? address, CancellationToken ct)
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
            return new ClientAddition(Errors: errors);
        }
        var (client, secret) = await clients.AddAsync(request!.Name!.Trim(), owner!.Username, scopes, ct);
        await audit.RecordAsync(Caller.NameOf(caller), "client.create", client.ClientId, address, ct);
        return new ClientAddition(client, secret);
    }

    public async Task<bool> RevokeAsync(ClaimsPrincipal caller, string clientId, string? address, CancellationToken ct)
    {
        if (!await clients.RevokeAsync(clientId, ct))
        {
            return false;
        }
        await audit.RecordAsync(Caller.NameOf(caller), "client.revoke", clientId, address, ct);
        return true;
    }
}
