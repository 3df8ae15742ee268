using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Runs;

namespace Runway.Api;

/// <summary>
/// Why a queued run waits, when it is its owner's cap (<see cref="UserRunLimits"/>): read when the run is shown,
/// not written on every queued run each time a cap is reached or left.
/// </summary>
public sealed class QueueReason(IDbContextFactory<RunwayDb> contexts, UserRunLimits limits)
{
    public async Task<string?> WhyAsync(Run run, CancellationToken ct)
    {
        if (run.State != RunState.Queued || run.Message is not null || !limits.Any)
        {
            return run.Message;
        }
        await using var db = await contexts.CreateDbContextAsync(ct);
        var groups = await db.Users.AsNoTracking().Where(u => u.Username == run.Owner).Select(u => u.Groups).FirstOrDefaultAsync(ct) ?? "";
        if (limits.CapOf(groups.Split(' ', StringSplitOptions.RemoveEmptyEntries)) is not { } cap)
        {
            return null;
        }
        var running = await db.Runs.CountAsync(r => r.Owner == run.Owner && r.State == RunState.Running, ct);
        return running >= cap
            ? $"waiting: {run.Owner} has {running} runs running, the most allowed ({UserRunLimits.Section}:MaxRunningPerUser = {cap})"
            : null;
    }
}
