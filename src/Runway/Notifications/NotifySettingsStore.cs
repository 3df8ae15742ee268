using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Runway.Data;

namespace Runway.Notifications;

/// <summary>
/// Each user's notification defaults and webhook signing secret (the <c>notify_settings</c> row, made on first need).
/// A submission reads the defaults from a cache of <see cref="DefaultsFor"/>, not the database: a submission costs no
/// query more for them, and a change made on another node applies there within that time.
/// </summary>
public sealed class NotifySettingsStore(IDbContextFactory<RunwayDb> contexts, TimeProvider clock)
{
    public static readonly TimeSpan DefaultsFor = TimeSpan.FromSeconds(10);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (NotifyRequest? Defaults, DateTimeOffset Until)> cached = new(StringComparer.Ordinal);

    /// <summary>A new Standard Webhooks secret: <c>whsec_</c> and base64 of 32 random bytes.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public async Task<NotifySettings> GetOrCreateAsync(string username, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (await db.NotifySettings.AsNoTracking().FirstOrDefaultAsync(s => s.Username == username, cancellationToken) is { } found)
        {
            return found;
        }
        db.NotifySettings.Add(new NotifySettings { Username = username, WebhookSecret = NewSecret() });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Made at the same moment by another request or node: theirs stands.
        }
        await using var read = await contexts.CreateDbContextAsync(cancellationToken);
        return await read.NotifySettings.AsNoTracking().FirstAsync(s => s.Username == username, cancellationToken);
    }

    /// <summary>The user's defaults, or null when they set none.</summary>
    public async Task<NotifyRequest?> DefaultsAsync(string username, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (cached.TryGetValue(username, out var hit) && hit.Until > now)
        {
            return hit.Defaults;
        }
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var defaults = await db.NotifySettings.AsNoTracking().FirstOrDefaultAsync(s => s.Username == username, cancellationToken) is { } found
            ? Defaults(found)
            : null;
        cached[username] = (defaults, now + DefaultsFor);
        return defaults;
    }

    public static NotifyRequest Defaults(NotifySettings settings) =>
        new(JsonSerializer.Deserialize<List<string>>(settings.EmailJson) ?? [], settings.Webhook);

    /// <summary>Sets the defaults (already checked); the secret stays.</summary>
    public async Task<NotifySettings> SetDefaultsAsync(string username, NotifyRequest defaults, CancellationToken cancellationToken)
    {
        await GetOrCreateAsync(username, cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var json = NotifyTargets.EmailsJson(defaults.Email);
        var webhook = string.IsNullOrEmpty(defaults.Webhook) ? null : defaults.Webhook;
        await db.NotifySettings.Where(s => s.Username == username)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.EmailJson, json).SetProperty(x => x.Webhook, webhook), cancellationToken);
        cached.TryRemove(username, out _);
        return await GetOrCreateAsync(username, cancellationToken);
    }

    /// <summary>A new secret; webhooks sent from now on are signed with it (retries of earlier ones too).</summary>
    public async Task<NotifySettings> RotateSecretAsync(string username, CancellationToken cancellationToken)
    {
        await GetOrCreateAsync(username, cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var secret = NewSecret();
        await db.NotifySettings.Where(s => s.Username == username)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.WebhookSecret, secret), cancellationToken);
        return await GetOrCreateAsync(username, cancellationToken);
    }
}
