using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Runs;

namespace Runway.Auth;

/// <summary>A valid bearer credential and the user it acts for, with the scopes it carries today.</summary>
public sealed record TokenGrant(ApiToken Token, UserAccount User, IReadOnlyList<string> Scopes);

/// <summary>Personal API tokens and the access tokens issued to OAuth clients: one table, one check.</summary>
public sealed class Tokens(IDbContextFactory<RunwayDb> databases, GrantCache cache, TimeProvider clock)
{
    /// <summary>Stores the hash of a new token and returns the token with its secret, which is never readable again.</summary>
    public async Task<(ApiToken Token, string Secret)> IssueAsync(
        string username, string name, IEnumerable<string> scopes, DateTimeOffset? expiresAt, string? clientId, CancellationToken ct)
    {
        var secret = Secrets.NewToken();
        // Whole microseconds, as the databases store them: the answer then shows exactly the expiry that a later
        // check (and a token this one makes) reads back.
        expiresAt = expiresAt is { } at ? new DateTimeOffset(at.UtcTicks - at.UtcTicks % 10, TimeSpan.Zero) : null;
        var token = new ApiToken
        {
            Id = "tok_" + Ids.NewUlid(clock.GetUtcNow()),
            Username = username,
            Name = name,
            TokenHash = Secrets.Hash(secret),
            Scopes = Scopes.Format(scopes),
            ClientId = clientId,
            CreatedAt = clock.GetUtcNow(),
            ExpiresAt = expiresAt,
        };
        await using var db = await databases.CreateDbContextAsync(ct);
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(ct);
        return (token, secret);
    }

    /// <summary>The grant for a presented secret, or null when it is unknown, revoked, expired, or its user or client is gone.</summary>
    public async Task<TokenGrant?> ValidateAsync(string secret, CancellationToken ct)
    {
        var hash = Secrets.Hash(secret);
        if (cache.Find(hash) is { } recent)
        {
            return recent;
        }
        var generation = cache.Generation;
        await using var db = await databases.CreateDbContextAsync(ct);
        // Every request with a token comes here.
        var found = await FindByHash(db, hash, ct);
        // The lookup is by hash, so timing reveals at most the hash's prefix; compare the whole in constant time anyway.
        if (found is not { Token: var token, User: var user, ClientLive: true } || !Secrets.Matches(secret, token.TokenHash)
            || token.RevokedAt is not null || (token.ExpiresAt is { } expires && expires <= clock.GetUtcNow()) || !user.Enabled)
        {
            return null;
        }
        var grant = new TokenGrant(token, user, Scopes.Effective(token.Scopes, user.Role));
        cache.Keep(hash, grant, generation);
        return grant;
    }

    private sealed record Found(ApiToken Token, UserAccount User, bool ClientLive);

    // One query, not one per table: the token with its user and whether its client (if any) is still live.
    private static Task<Found?> FindByHash(RunwayDb db, string hash, CancellationToken ct) =>
        (from t in db.ApiTokens.AsNoTracking()
         where t.TokenHash == hash
         join u in db.Users.AsNoTracking() on t.Username equals u.Username
         select new Found(t, u, t.ClientId == null || db.OAuthClients.Any(c => c.ClientId == t.ClientId && c.RevokedAt == null)))
        .FirstOrDefaultAsync(ct);

    /// <summary>Revokes the token when it belongs to <paramref name="username"/> (any user's when null); false when there is none.</summary>
    public async Task<bool> RevokeAsync(string id, string? username, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var matched = await db.ApiTokens
            .Where(t => t.Id == id && (username == null || t.Username == username))
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, t => t.RevokedAt ?? now), ct);
        cache.Clear();
        return matched > 0;
    }
}
