using Microsoft.EntityFrameworkCore;
using Runway.Data;

namespace Runway.Auth;

/// <summary>OAuth 2.0 confidential clients, registered by an admin and acting for a user.</summary>
public sealed class Clients(IDbContextFactory<RunwayDb> databases, GrantCache cache, TimeProvider clock)
{
    public async Task<(OAuthClient Client, string Secret)> AddAsync(string name, string owner, IEnumerable<string> scopes, CancellationToken ct)
    {
        var secret = Secrets.NewClientSecret();
        var client = new OAuthClient
        {
            ClientId = Secrets.NewClientId(),
            Name = name,
            Owner = owner,
            SecretHash = Secrets.Hash(secret),
            Scopes = Scopes.Format(scopes),
            CreatedAt = clock.GetUtcNow(),
        };
        await using var db = await databases.CreateDbContextAsync(ct);
        db.OAuthClients.Add(client);
        await db.SaveChangesAsync(ct);
        return (client, secret);
    }

    public async Task<IReadOnlyList<OAuthClient>> ListAsync(CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        return await db.OAuthClients.AsNoTracking().OrderBy(c => c.CreatedAt).ToListAsync(ct);
    }

    /// <summary>The active client with this id and secret, or null. Unknown ids are compared too, so timing tells nothing.</summary>
    public async Task<OAuthClient?> VerifyAsync(string clientId, string secret, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var client = await db.OAuthClients.AsNoTracking().FirstOrDefaultAsync(c => c.ClientId == clientId, ct);
        var matches = Secrets.Matches(secret, client?.SecretHash ?? new string('0', 64));
        return client is { RevokedAt: null } && matches ? client : null;
    }

    /// <summary>Revokes the client and every token issued to it; false when there is no such client.</summary>
    public async Task<bool> RevokeAsync(string clientId, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        try
        {
            // One transaction: the client and its tokens are revoked together or not at all.
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var matched = await db.OAuthClients.Where(c => c.ClientId == clientId)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.RevokedAt, c => c.RevokedAt ?? now), ct);
            await db.ApiTokens.Where(t => t.ClientId == clientId && t.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
            await tx.CommitAsync(ct);
            return matched > 0;
        }
        finally
        {
            cache.Clear();
        }
    }
}
