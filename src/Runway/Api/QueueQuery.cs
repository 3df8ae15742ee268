using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Runs;

namespace Runway.Api;

/// <summary>Active runs of one pipeline or one owner.</summary>
public sealed record QueueGroup(string Key, int Queued, int Running);

/// <summary>Running runs on one node with one executor.</summary>
public sealed record NodeLoad(string Node, string Executor, int Running);

/// <summary>One GPU of a live node, and the run that holds it (null: free).</summary>
public sealed record GpuUse(string Node, string Id, string? Run);

/// <summary>A run that failed (failed, timed out, system error) in the window, with its message.</summary>
public sealed record QueueFailure(string Id, string? Name, string Pipeline, string Owner, RunState State, string? Message, int? ExitCode, DateTimeOffset? FinishedAt);

/// <summary>
/// What operators used Flower and <c>rabbitmqctl list_queues</c> for, at one moment. Counts above
/// <see cref="QueueQuery.CountCap"/> show as the cap; the groups cover the oldest <see cref="QueueQuery.GroupWindow"/>
/// queued and running runs (<see cref="GroupsCut"/> says when there are more).
/// </summary>
public sealed record QueueStatus(
    DateTimeOffset At,
    TimeSpan Window,
    int Queued,
    int Running,
    IReadOnlyDictionary<RunState, int> FinishedInWindow,
    (string Id, DateTimeOffset SubmittedAt)? OldestQueued,
    IReadOnlyList<QueueGroup> ByPipeline,
    IReadOnlyList<QueueGroup> ByOwner,
    bool GroupsCut,
    IReadOnlyList<NodeLoad> Nodes,
    IReadOnlyList<GpuUse> Gpus,
    IReadOnlyList<QueueFailure> Failures);

/// <summary>
/// The admin page's queue view, bounded whatever the table holds: each count is one index range cut at
/// <see cref="CountCap"/> rows (queued and running through the (state, id) index; what finished in the window
/// through (state, finished_at)); the groups per pipeline, owner and node read at most <see cref="GroupWindow"/>
/// active runs per state; the failures are the newest <see cref="MaxFailures"/> of each failure state, read
/// backwards along (state, finished_at). Nothing scans the million finished runs. GPUs are the live nodes' own
/// account (<see cref="NodeGpus"/>).
/// </summary>
public sealed class QueueQuery(IDbContextFactory<RunwayDb> databases, TimeProvider clock, NodeRegistry nodes)
{
    public const int CountCap = 10_000;
    public const int GroupWindow = 10_000;
    public const int MaxFailures = 50;

    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(1);

    public static readonly RunState[] FailureStates = [RunState.Failed, RunState.TimedOut, RunState.SystemError];

    public async Task<QueueStatus> StatusAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var since = now - DefaultWindow;
        await using var db = await databases.CreateDbContextAsync(ct);
        var runs = db.Runs.AsNoTracking();

        var queued = await runs.Where(r => r.State == RunState.Queued).Take(CountCap + 1).CountAsync(ct);
        var running = await runs.Where(r => r.State == RunState.Running).Take(CountCap + 1).CountAsync(ct);
        var finished = new Dictionary<RunState, int>();
        foreach (var state in RunStates.All.Where(s => s.IsFinal()))
        {
            finished[state] = await runs.Where(r => r.State == state && r.FinishedAt >= since).Take(CountCap + 1).CountAsync(ct);
        }
        var oldest = await runs.Where(r => r.State == RunState.Queued).OrderBy(r => r.Id)
            .Select(r => new { r.Id, r.SubmittedAt }).FirstOrDefaultAsync(ct);

        // The oldest active runs of each state: what waits longest and what has run longest.
        var active = new List<ActiveRun>();
        foreach (var state in (RunState[])[RunState.Queued, RunState.Running])
        {
            active.AddRange(await runs.Where(r => r.State == state).OrderBy(r => r.Id).Take(GroupWindow)
                .Select(r => new ActiveRun(r.Pipeline, r.Owner, r.State, r.Node, r.Executor)).ToListAsync(ct));
        }

        var failures = new List<QueueFailure>();
        foreach (var state in FailureStates)
        {
            failures.AddRange(await runs.Where(r => r.State == state && r.FinishedAt >= since).OrderByDescending(r => r.FinishedAt).Take(MaxFailures)
                .Select(r => new QueueFailure(r.Id, r.Name, r.Pipeline, r.Owner, r.State, r.Message, r.ExitCode, r.FinishedAt))
                .ToListAsync(ct));
        }

        var live = (await nodes.ListAsync(ct)).Where(n => n.State != NodeStates.Lost && n.Gpus.Length > 0).ToList();
        var gpus = await NodeGpus.CurrentAsync(db, live, ct);

        return new QueueStatus(
            now, DefaultWindow, queued, running, finished,
            oldest is null ? null : (oldest.Id, oldest.SubmittedAt),
            Groups(active, r => r.Pipeline), Groups(active, r => r.Owner),
            queued > GroupWindow || running > GroupWindow,
            active.Where(r => r.State == RunState.Running)
                .GroupBy(r => (Node: r.Node ?? "(none)", r.Executor))
                .Select(g => new NodeLoad(g.Key.Node, g.Key.Executor, g.Count()))
                .OrderBy(n => n.Node, StringComparer.Ordinal).ThenBy(n => n.Executor, StringComparer.Ordinal).ToList(),
            [.. live.SelectMany(n => gpus[n.Name].Select(g => new GpuUse(n.Name, g.Id, g.Run)))],
            failures.OrderByDescending(f => f.FinishedAt).Take(MaxFailures).ToList());
    }

    private sealed record ActiveRun(string Pipeline, string Owner, RunState State, string? Node, string Executor);

    /// <summary>Busiest first: most queued, then most running.</summary>
    private static List<QueueGroup> Groups(List<ActiveRun> active, Func<ActiveRun, string> key) =>
        active.GroupBy(key, StringComparer.Ordinal)
            .Select(g => new QueueGroup(g.Key, g.Count(r => r.State == RunState.Queued), g.Count(r => r.State == RunState.Running)))
            .OrderByDescending(g => g.Queued).ThenByDescending(g => g.Running).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
}
