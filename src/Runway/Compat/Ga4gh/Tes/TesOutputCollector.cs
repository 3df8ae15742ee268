using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Runway.Data;

namespace Runway.Compat.Ga4gh.Tes;

/// <summary>
/// Collects each ended TES task's outputs once, on whichever node gets to it first, whether or not anyone reads the
/// task (before, they were copied at the first read: two readers raced, and retention could remove the run directory
/// before anyone read it). Steps, per task:
/// <list type="number">
/// <item>Due: a TES run that has ended, without a <c>tes_outputs</c> row that is collected or held by someone.</item>
/// <item>Claim by compare-and-set: <c>UPDATE tes_outputs SET locked_by, locked_until WHERE run_id AND collected_at IS
/// NULL AND locked_until &lt;= now</c>, or, with no row yet, insert it locked (a duplicate key: another node made it
/// first). A holder that dies (a restart) loses it when <c>locked_until</c> passes; the next one collects again.</item>
/// <item>Collect (<see cref="TesOutputs"/>): each file's id is derived from run and path, so a second attempt stores
/// nothing twice.</item>
/// <item>Record the output file logs and <c>collected_at</c>, only while still the holder.</item>
/// </list>
/// Until then the task shows RUNNING (<see cref="TesStates"/>): TES's COMPLETE says the outputs are uploaded. Retention
/// keeps a TES run's directory until its outputs are collected (Retention/RunFilesPurge).
/// </summary>
public sealed class TesOutputCollector(IDbContextFactory<RunwayDb> databases, TesOutputs outputs, TimeProvider clock, ILogger<TesOutputCollector> logger)
{
    public static readonly TimeSpan Hold = TimeSpan.FromMinutes(5);
    private const int Batch = 16;

    /// <summary>This process, as the holder of the rows it takes (a restarted node is a new holder).</summary>
    private readonly string holder = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>Collects what is due now; how many tasks it collected.</summary>
    public async Task<int> CollectDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        List<string> due;
        await using (var db = await databases.CreateDbContextAsync(ct))
        {
            due = await db.Runs.AsNoTracking()
                .Where(r => r.Pipeline == TesTaskCheck.Pipeline && r.FinishedAt != null
                    && !db.TesOutputs.Any(o => o.RunId == r.Id && (o.CollectedAt != null || o.LockedUntil > now)))
                .OrderBy(r => r.Id).Select(r => r.Id).Take(Batch).ToListAsync(ct);
        }
        var collected = 0;
        foreach (var id in due)
        {
            try
            {
                if (await TryClaimAsync(id, ct) && await CollectAsync(id, ct))
                {
                    collected++;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Held until the lock passes, then tried again (by this node or another).
                logger.LogError(e, "Collecting the outputs of TES task {RunId} failed; trying again after {Hold}", id, Hold);
            }
        }
        return collected;
    }

    private async Task<bool> TryClaimAsync(string runId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var until = now + Hold;
        await using var db = await databases.CreateDbContextAsync(ct);
        var claimed = await db.TesOutputs
            .Where(o => o.RunId == runId && o.CollectedAt == null && (o.LockedUntil == null || o.LockedUntil <= now))
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.LockedBy, holder).SetProperty(o => o.LockedUntil, until), ct);
        if (claimed == 1)
        {
            return true;
        }
        if (await db.TesOutputs.AnyAsync(o => o.RunId == runId, ct))
        {
            return false;
        }
        try
        {
            db.TesOutputs.Add(new TesOutputRecord { RunId = runId, LockedBy = holder, LockedUntil = until });
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException)
        {
            // Another node made the row first (or the run's record is gone).
            return false;
        }
    }

    private async Task<bool> CollectAsync(string runId, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        if (await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct) is not { } run)
        {
            return false;
        }
        var logs = await outputs.CollectAsync(run, ct);
        var json = JsonSerializer.Serialize(logs, TesJson.Options);
        var now = clock.GetUtcNow();
        var recorded = await db.TesOutputs.Where(o => o.RunId == runId && o.LockedBy == holder && o.CollectedAt == null)
            .ExecuteUpdateAsync(s => s
                .SetProperty(o => o.CollectedAt, now)
                .SetProperty(o => o.OutputsJson, json)
                .SetProperty(o => o.LockedBy, (string?)null)
                .SetProperty(o => o.LockedUntil, (DateTimeOffset?)null), ct);
        if (recorded == 1)
        {
            logger.LogInformation("Collected {Count} output file(s) of TES task {RunId}", logs.Count, runId);
        }
        return recorded == 1;
    }

    /// <summary>The output file logs a collected task shows; empty while not collected.</summary>
    public static List<TesOutputFileLog> Logs(TesOutputRecord? record) =>
        record?.OutputsJson is { } json ? JsonSerializer.Deserialize<List<TesOutputFileLog>>(json, TesJson.Options) ?? [] : [];
}

/// <summary>
/// Every node collects what is due, every <see cref="Interval"/>, or every <see cref="OffInterval"/> where TES is off: then
/// nobody can read a task, only those that ended before TES was turned off are left to collect, and an idle server need
/// not ask its database each second. A pass that fails is logged and the loop goes on.
/// </summary>
public sealed class TesOutputWorker(TesOutputCollector collector, TesOptions options, TimeProvider clock, ILogger<TesOutputWorker> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan OffInterval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // A full batch: more may be due at once.
                while (await collector.CollectDueAsync(stoppingToken) > 0 && !stoppingToken.IsCancellationRequested)
                {
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Collecting TES outputs failed; trying again at the next turn");
            }
            try
            {
                await Task.Delay(options.Enabled ? Interval : OffInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
