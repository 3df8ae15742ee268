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

    public async Task RecordAsync(string actor, string action, string? target, string? address, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        db.AuditEntries.Add(new AuditEntry { At = clock.GetUtcNow(), Actor = actor, Action = action, Target = target, Address = address });
        await db.SaveChangesAsync(ct);
    }
}
