using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Execution.Local;
using Runway.Runs;

namespace Runway.Api;

/// <summary>
/// Why a queued run waits, read when the run is shown, not written on every queued run each time a cap or a GPU is
/// taken or freed: its GPUs (no active node has that many, <c>Runway:Gpus</c>; or none has that many free), or its
/// owner's cap (<see cref="UserRunLimits"/>). A list asks for the page's queued runs at once: one query over the
/// nodes when one of them wants GPUs, one over their owners when a cap is configured, none when nothing is queued.
/// </summary>
public sealed class QueueReason(IDbContextFactory<RunwayDb> contexts, UserRunLimits limits, NodeRegistry nodes)
{
    public async Task<string?> WhyAsync(Run run, CancellationToken ct) =>
        run.State != RunState.Queued || run.Message is not null ? run.Message : (await WhyAsync([run], ct)).GetValueOrDefault(run.Id);

    /// <summary>The reason each queued run among these waits, by run id; runs that wait for nothing in particular are absent.</summary>
    public async Task<IReadOnlyDictionary<string, string>> WhyAsync(IReadOnlyList<Run> runs, CancellationToken ct)
    {
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        var queued = runs.Where(r => r.State == RunState.Queued && r.Message is null).ToList();
        if (queued.Count == 0)
        {
            return reasons;
        }
        await using var db = await contexts.CreateDbContextAsync(ct);
        var gpuRuns = queued.Select(r => (Run: r, Gpus: GpuPool.Asked(r))).Where(r => r.Gpus > 0).ToList();
        if (gpuRuns.Count > 0)
        {
            var live = (await nodes.ListAsync(ct))
                .Where(n => n.State == NodeStates.Active && n.Executors.Split(' ').Contains(LocalExecutor.ExecutorName)).ToList();
            var gpus = await NodeGpus.CurrentAsync(db, live, ct);
            var most = live.Select(n => gpus[n.Name].Count).DefaultIfEmpty(0).Max();
            var mostFree = live.Select(n => gpus[n.Name].Count(g => g.Run is null)).DefaultIfEmpty(0).Max();
            foreach (var (run, asked) in gpuRuns)
            {
                if (asked > most)
                {
                    reasons[run.Id] = $"waiting: no active node has {asked} GPU(s) (the most one has is {most}, Runway:Gpus); it runs once such a node joins";
                }
                else if (asked > mostFree)
                {
                    reasons[run.Id] = $"waiting for {asked} GPU(s); " + (mostFree == 0 ? "none free" : $"no node has more than {mostFree} free");
                }
            }
        }
        var owners = queued.Where(r => !reasons.ContainsKey(r.Id)).Select(r => r.Owner).Distinct(StringComparer.Ordinal).ToList();
        if (!limits.Any || owners.Count == 0)
        {
            return reasons;
        }
        var atCap = new Dictionary<string, string>(StringComparer.Ordinal);
        var users = await db.Users.AsNoTracking().Where(u => owners.Contains(u.Username))
            .Select(u => new { u.Username, u.Groups, Running = db.Runs.Count(r => r.Owner == u.Username && r.State == RunState.Running) })
            .ToListAsync(ct);
        foreach (var user in users)
        {
            if (limits.CapOf(user.Groups.Split(' ', StringSplitOptions.RemoveEmptyEntries)) is { } cap && user.Running >= cap)
            {
                atCap[user.Username] = $"waiting: {user.Username} has {user.Running} runs running, the most allowed ({UserRunLimits.Section}:MaxRunningPerUser = {cap})";
            }
        }
        foreach (var run in queued.Where(r => !reasons.ContainsKey(r.Id) && atCap.ContainsKey(r.Owner)))
        {
            reasons[run.Id] = atCap[run.Owner];
        }
        return reasons;
    }
}
