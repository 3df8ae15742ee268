using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Logging;

namespace Runway.Auth;

/// <summary>
/// Appends who did what to which thing. Entries name ids and user names, never a secret. It knows no
/// HTTP: the API names the caller (Api/Audit.cs), and a run's submission is audited by the run store.
/// </summary>
public sealed class AuditTrail(IDbContextFactory<RunwayDb> databases, TimeProvider clock, AuditSyslog syslog)
{
    public async Task RecordAsync(string actor, string action, string? target, string? address, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var at = clock.GetUtcNow();
        db.AuditEntries.Add(new AuditEntry { At = at, Actor = actor, Action = action, Target = target, Address = address });
        await db.SaveChangesAsync(ct);
        syslog.Send(new AuditRecord(at, actor, action, target, address)); // once stored, never waiting
    }
}
