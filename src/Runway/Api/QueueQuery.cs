using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Runs;

namespace Runway.Api;

/// <summary>Active runs of one pipeline or one owner, and its failures in the window.</summary>
public sealed record QueueGroup(string Key, int Queued, int Running, int Failed);

/// <summary>Running runs on one node with one executor.</summary>
public sealed record NodeLoad(string Node, string Executor, int Running);

/// <summary>A run that failed (failed, timed out, system error) in the window, with its message.</summary>
public sealed record QueueFailure(string Id, string? Name, string Pipeline, string Owner, RunState State, string? Message, int? ExitCode, DateTimeOffset? FinishedAt);

/// <summary>What operators used Flower and <c>rabbitmqctl list_queues</c> for, at one moment.</summary>
public sealed record QueueStatus(
    DateTimeOffset At,
    TimeSpan Window,
    int Queued,
    int Running,
    IReadOnlyDictionary<RunState, int> FinishedInWindow,
    (string Id, DateTimeOffset SubmittedAt)? OldestQueued,
    IReadOnlyList<QueueGroup> ByPipeline,
    IReadOnlyList<QueueGroup> ByOwner,
    IReadOnlyList<NodeLoad> Nodes,
    IReadOnlyList<QueueFailure> Failures);

/// <summary>
/// The queue view of the admin page. Bounded with a million runs: every query is an index range over the active
/// runs (queued, running: the (state, id) index) or over what finished in the window (the (state, finished_at)
/// index), never the whole table; the failures list is cut at <see cref="MaxFailures"/>.
/// </summary>
public sealed class QueueQuery(IDbContextFactory<RunwayDb> databases, TimeProvider clock)
{
    public const int MaxFailures = 50;
    public const int MaxGroups = 50;

    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(1);

    public static readonly RunState[] FailureStates = [RunState.Failed, RunState.TimedOut, RunState.SystemError];

    private static readonly RunState[] ActiveStates = [RunState.Queued, RunState.Running];

    public async Task<QueueStatus> StatusAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var since = now - DefaultWindow;
        await using var db = await databases.CreateDbContextAsync(ct);
        var runs = db.Runs.AsNoTracking();

        var finished = new Dictionary<RunState, int>();
        foreach (var state in RunStates.All.Where(s => s.IsFinal()))
        {
            finished[state] = await runs.CountAsync(r => r.State == state && r.FinishedAt >= since, ct);
        }
        var oldest = await runs.Where(r => r.State == RunState.Queued).OrderBy(r => r.Id)
            .Select(r => new { r.Id, r.SubmittedAt }).FirstOrDefaultAsync(ct);

        var active = runs.Where(r => ActiveStates.Contains(r.State));
        var failed = runs.Where(r => FailureStates.Contains(r.State) && r.FinishedAt >= since);
        var byPipeline = Groups(
            await active.GroupBy(r => new { r.Pipeline, r.State }).Select(g => new GroupCount(g.Key.Pipeline, g.Key.State, g.Count())).ToListAsync(ct),
            await failed.GroupBy(r => r.Pipeline).Select(g => new GroupCount(g.Key, RunState.Failed, g.Count())).ToListAsync(ct));
        var byOwner = Groups(
            await active.GroupBy(r => new { r.Owner, r.State }).Select(g => new GroupCount(g.Key.Owner, g.Key.State, g.Count())).ToListAsync(ct),
            await failed.GroupBy(r => r.Owner).Select(g => new GroupCount(g.Key, RunState.Failed, g.Count())).ToListAsync(ct));
        var nodes = await runs.Where(r => r.State == RunState.Running)
            .GroupBy(r => new { r.Node, r.Executor })
            .Select(g => new NodeLoad(g.Key.Node ?? "(none)", g.Key.Executor, g.Count()))
            .ToListAsync(ct);
        var failures = await failed.OrderByDescending(r => r.FinishedAt).Take(MaxFailures)
            .Select(r => new QueueFailure(r.Id, r.Name, r.Pipeline, r.Owner, r.State, r.Message, r.ExitCode, r.FinishedAt))
            .ToListAsync(ct);

        return new QueueStatus(
            now, DefaultWindow,
            // Summed before the lists are cut to MaxGroups rows, so the totals are whole.
            byPipeline.Sum(g => g.Queued),
            byPipeline.Sum(g => g.Running),
            finished,
            oldest is null ? null : (oldest.Id, oldest.SubmittedAt),
            byPipeline.Take(MaxGroups).ToList(), byOwner.Take(MaxGroups).ToList(),
            nodes.OrderBy(n => n.Node, StringComparer.Ordinal).ThenBy(n => n.Executor, StringComparer.Ordinal).ToList(),
            failures);
    }

    private sealed record GroupCount(string Key, RunState State, int Count);

    /// <summary>Busiest first: most queued, then running, then failed. The failed counts come in as <see cref="RunState.Failed"/>.</summary>
    private static List<QueueGroup> Groups(List<GroupCount> active, List<GroupCount> failed)
    {
        var groups = new Dictionary<string, QueueGroup>(StringComparer.Ordinal);
        foreach (var (key, state, count) in active.Concat(failed))
        {
            var group = groups.GetValueOrDefault(key) ?? new QueueGroup(key, 0, 0, 0);
            groups[key] = state switch
            {
                RunState.Queued => group with { Queued = group.Queued + count },
                RunState.Running => group with { Running = group.Running + count },
                _ => group with { Failed = group.Failed + count },
            };
        }
        return groups.Values
            .OrderByDescending(g => g.Queued).ThenByDescending(g => g.Running).ThenByDescending(g => g.Failed).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
    }
}
