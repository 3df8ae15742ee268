using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Runway.Api;
using Runway.Data;

namespace Runway.Auth;

/// <summary>Appends who did what to which thing. Entries name ids and user names, never a secret.</summary>
public sealed class AuditTrail(IDbContextFactory<RunwayDb> databases, TimeProvider clock)
{
    public Task RecordAsync(HttpContext http, string action, string? target, CancellationToken ct) =>
        RecordAsync(Caller.NameOf(http.User), action, target, http.Connection.RemoteIpAddress?.ToString(), ct);

    public Task RecordAsync(ClaimsPrincipal user, HttpContext http, string action, string? target, CancellationToken ct) =>
        RecordAsync(Caller.NameOf(user), action, target, http.Connection.RemoteIpAddress?.ToString(), ct);

    /// <summary>An entry not yet written, for a caller that stores it in its own transaction.</summary>
    public AuditEntry Entry(HttpContext http, string action, string? target) =>
        new() { At = clock.GetUtcNow(), Actor = Caller.NameOf(http.User), Action = action, Target = target, Address = http.Connection.RemoteIpAddress?.ToString() };

    public async Task RecordAsync(string actor, string action, string? target, string? address, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        db.AuditEntries.Add(new AuditEntry { At = clock.GetUtcNow(), Actor = actor, Action = action, Target = target, Address = address });
        await db.SaveChangesAsync(ct);
    }
}
