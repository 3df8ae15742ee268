using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Execution.Local;
using Runway.Runs;

namespace Runway.Data;

/// <summary>
/// <see cref="IRunStore"/> on EF Core, for SQLite and PostgreSQL alike; only the claim statement differs
/// (<see cref="SqliteClaim"/>, <see cref="PostgresClaim"/>). A singleton: each call takes a short-lived
/// pooled context. Every write that changes a state runs in one transaction with its run_events row;
/// on SQLite that transaction is BEGIN IMMEDIATE (Microsoft.Data.Sqlite's default), so read-then-write
/// never deadlocks on a lock upgrade.
/// </summary>
/// <remarks>
/// With a <see cref="NodeLease"/> (a server's store; tests of the store alone have none), every claim leases its runs
/// to this process, and every write to a running run is conditioned on that lease (fencing): once another node has
/// rescued the run, this one cannot end it, hand it back or note anything on it.
/// </remarks>
public sealed class RunStore(
    IDbContextFactory<RunwayDb> contexts, DatabaseConnection database, TimeProvider clock, ILogger<RunStore> logger, ClaimableExecutors? executors = null,
    NodeLease? lease = null, UserRunLimits? limits = null) : IRunStore, IAsyncDisposable
{
    private readonly GroupCommit commits = new(contexts, logger);

    // Whether the runs' moves go through the group commit's writer: on SQLite, whose one write lock they would
    // otherwise take in turn with it (GroupCommit). PostgreSQL locks rows: its claims and ends commit on their own.
    private readonly bool onWriter = database.Provider == DatabaseProvider.Sqlite;

    /// <summary>Submissions and moves waiting for the group commit's next transaction (tests).</summary>
    internal int WaitingWrites => commits.Waiting;

    public Task<(Run Run, bool Created)> AddAsync(Run run, CancellationToken cancellationToken) => AddAsync(run, null, cancellationToken);

    public async Task<(Run Run, bool Created)> AddAsync(Run run, AuditRecord? audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.State != RunState.Queued)
        {
            throw new ArgumentException($"A new run must be queued, not {run.State.ToWire()}.", nameof(run));
        }
        // Group commit: concurrent submissions share one durable transaction (GroupCommit).
        if (await commits.AddAsync(run, audit is null ? null : AuditEntry.From(audit)).WaitAsync(cancellationToken))
        {
            logger.LogInformation("Run {RunId} submitted by {Owner} for {Pipeline}", run.Id, run.Owner, run.Pipeline);
            return (run, true);
        }
        // A retried submission (or a fire another node made first): the first one won, return it.
        await using var read = await contexts.CreateDbContextAsync(cancellationToken);
        var existing = run.ScheduleId is { } schedule
            ? await read.Runs.AsNoTracking().FirstAsync(r => r.ScheduleId == schedule && r.ScheduledFor == run.ScheduledFor, cancellationToken)
            : await read.Runs.AsNoTracking().FirstAsync(r => r.Owner == run.Owner && r.IdempotencyKey == run.IdempotencyKey, cancellationToken);
        return (existing, false);
    }

    private static readonly CompiledQuery<Func<RunwayDb, string, CancellationToken, Task<Run?>>> RunById =
        new(() => EF.CompileAsyncQuery((RunwayDb db, string id, CancellationToken ct) => db.Runs.AsNoTracking().FirstOrDefault(r => r.Id == id)));

    private static readonly CompiledQuery<Func<RunwayDb, string, IAsyncEnumerable<RunEvent>>> EventsOfRun =
        new(() => EF.CompileAsyncQuery<RunwayDb, string, RunEvent>((db, id) => db.RunEvents.AsNoTracking().Where(e => e.RunId == id).OrderBy(e => e.Id)));

    public async Task<Run?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await RunById.For(db)(db, id, cancellationToken);
    }

    public async Task<IReadOnlyList<Run>> ClaimAsync(string node, int max, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        if (max <= 0)
        {
            return [];
        }
        var now = clock.GetUtcNow();
        List<Run> claimed;
        if (onWriter)
        {
            // Not abandoned once asked: runs claimed for nobody would stay running until the next start takes them back.
            claimed = await commits.WriteAsync(db => ClaimInAsync(db, Scope(node, max, now), CancellationToken.None));
        }
        else
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            claimed = await ClaimInAsync(db, Scope(node, max, now), cancellationToken);
            if (claimed.Count == 0)
            {
                return [];
            }
            await tx.CommitAsync(cancellationToken);
        }
        return Claimed(claimed, node);
    }

    /// <summary>The end of one run and the claim of the next in one transaction: one durable commit, not two.</summary>
    public async Task<(bool Transitioned, IReadOnlyList<Run> Claimed)> FinishAndClaimAsync(
        RunTransition final, string node, int max, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(final);
        var (moved, claimed) = await FinishManyAndClaimAsync([final], node, max, cancellationToken);
        return (moved[0], claimed);
    }

    /// <summary>
    /// The ends of several runs and the claim of what takes their slots in one transaction: one durable commit for
    /// runs that ended together (RunFinisher batches them as GroupCommit batches submissions). Each end is the same
    /// compare-and-set as alone, fenced by this node's lease. On SQLite that transaction is the group commit's, shared
    /// with the submissions and other moves waiting then.
    /// </summary>
    public async Task<(IReadOnlyList<bool> Transitioned, IReadOnlyList<Run> Claimed)> FinishManyAndClaimAsync(
        IReadOnlyList<RunTransition> finals, string node, int max, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(finals);
        ArgumentException.ThrowIfNullOrEmpty(node);
        var now = clock.GetUtcNow();
        List<RunState?> moves;
        List<Run> claimed;
        if (onWriter)
        {
            (moves, claimed) = await commits.WriteAsync(db => EndAndClaimAsync(db, CancellationToken.None));
        }
        else
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            (moves, claimed) = await EndAndClaimAsync(db, cancellationToken);
            if (moves.Any(m => m is not null) && db.Database.IsNpgsql())
            {
                // A slot is free: nodes waiting on a user's cap may now claim (RunNotifications).
                await db.Database.ExecuteSqlRawAsync(RunNotifications.NotifySql, cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
        }
        for (var i = 0; i < finals.Count; i++)
        {
            if (moves[i] is { } moved)
            {
                LogMove(finals[i].RunId, moved, finals[i].To, finals[i].Reason);
            }
        }
        return ([.. moves.Select(m => m is not null)], Claimed(claimed, node));

        async Task<(List<RunState?> Moves, List<Run> Claimed)> EndAndClaimAsync(RunwayDb db, CancellationToken ct)
        {
            var ended = new List<RunState?>(finals.Count);
            foreach (var final in finals)
            {
                var allowed = Allowed(final);
                ended.Add(allowed.Length == 0 ? null : await TransitionInAsync(db, final, allowed, now, ct));
            }
            return (ended, max > 0 ? await ClaimInAsync(db, Scope(node, max, now), ct) : []);
        }
    }

    /// <summary>Claims inside the caller's transaction: the runs' UPDATE, and their events.</summary>
    private static async Task<List<Run>> ClaimInAsync(RunwayDb db, ClaimScope scope, CancellationToken ct)
    {
        var claimed = await ClaimRunsAsync(db, scope, ct);
        var reason = ClaimReason(scope.Node);
        foreach (var run in claimed)
        {
            await RunUpdates.InsertEventAsync(db, run.Id, RunState.Queued, RunState.Running, reason, scope.Now, ct);
        }
        return claimed;
    }

    /// <summary>
    /// With this node's GPUs: runs that ask for some first, one per statement, each within the GPUs still free (the
    /// node's claim lock keeps its claims one at a time, so the count cannot go stale); then the rest, which ask for none.
    /// </summary>
    private static async Task<List<Run>> ClaimRunsAsync(RunwayDb db, ClaimScope scope, CancellationToken ct)
    {
        if (scope.Executors?.Gpus is not { } pool)
        {
            return await RunRows.ClaimAsync(db, scope, ct);
        }
        var claimed = new List<Run>();
        for (var free = pool.Free; free > 0 && claimed.Count < scope.Max;)
        {
            var one = await RunRows.ClaimAsync(db, scope with { Max = 1, Gpus = (1, free) }, ct);
            if (one.Count == 0)
            {
                break;
            }
            free -= GpuPool.Asked(one[0]);
            claimed.Add(one[0]);
        }
        if (claimed.Count < scope.Max)
        {
            claimed.AddRange(await RunRows.ClaimAsync(db, scope with { Max = scope.Max - claimed.Count, Gpus = (0, 0) }, ct));
        }
        return claimed;
    }

    private ClaimScope Scope(string node, int max, DateTimeOffset now) => new(node, max, now, executors, lease, limits);

    public async Task<IReadOnlyList<string>> RenewLeasesAsync(IReadOnlyCollection<string> runIds, CancellationToken cancellationToken)
    {
        if (lease is null || runIds.Count == 0)
        {
            return [];
        }
        var expires = clock.GetUtcNow() + lease.Timeout;
        var ids = runIds.ToList();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Runs.Where(r => ids.Contains(r.Id) && r.State == RunState.Running && r.Lease == lease.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.LeaseExpiresAt, expires), cancellationToken);
        var held = await db.Runs.Where(r => ids.Contains(r.Id) && r.State == RunState.Running && r.Lease == lease.Id)
            .Select(r => r.Id).ToListAsync(cancellationToken);
        return [.. ids.Except(held, StringComparer.Ordinal)];
    }

    public async Task<IReadOnlyList<RescuedRun>> RescueExpiredAsync(string node, int max, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        if (lease is null || max <= 0)
        {
            return [];
        }
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var rescued = await RunRows.RescueAsync(db, Scope(node, max, clock.GetUtcNow()), cancellationToken);
        await tx.CommitAsync(cancellationToken);
        foreach (var (run, previous) in rescued)
        {
            logger.LogWarning("Run {RunId} taken over by node {Node}: its lease on node {Previous} expired", run.Id, node, previous);
        }
        return [.. rescued.Select(r => new RescuedRun(r.Run, r.PreviousNode))];
    }

    private Run[] Claimed(List<Run> claimed, string node)
    {
        foreach (var run in claimed)
        {
            LogMove(run.Id, RunState.Queued, RunState.Running, ClaimReason(node));
            // Committed: the run holds its GPUs from now until it ends (LocalExecutor releases them).
            if (executors?.Gpus is { } pool && GpuPool.Asked(run) is > 0 and var count && !pool.TryReserve(run.Id, count))
            {
                logger.LogError("Run {RunId} was claimed for {Count} GPUs that are not free; it will fail to start", run.Id, count);
            }
        }
        // RETURNING gives rows in no particular order; callers start them in claim order.
        return [.. claimed.OrderByDescending(r => r.Priority).ThenBy(r => r.SubmittedAt).ThenBy(r => r.Id, StringComparer.Ordinal)];
    }

    private static string ClaimReason(string node) => $"claimed by node {node}";

    public async Task<bool> TryTransitionAsync(RunTransition transition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transition);
        // Moves the state machine forbids never reach the database.
        var allowed = Allowed(transition);
        if (allowed.Length == 0)
        {
            return false;
        }
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await TransitionInAsync(db, transition, allowed, now, cancellationToken) is not { } from)
        {
            return false;
        }
        await tx.CommitAsync(cancellationToken);
        LogMove(transition.RunId, from, transition.To, transition.Reason);
        return true;
    }

    private static RunState[] Allowed(RunTransition transition) =>
        transition.From.Where(f => RunTransitions.IsAllowed(f, transition.To)).Distinct().ToArray();

    /// <summary>The compare-and-set inside the caller's transaction, with its event; the state it left, or null.</summary>
    private async Task<RunState?> TransitionInAsync(RunwayDb db, RunTransition transition, RunState[] allowed, DateTimeOffset now, CancellationToken ct)
    {
        // A run that ended while nobody watched (its exit record says when) ended then, never later than now.
        if (transition.To.IsFinal() && transition.EndedAt is { } ended && ended < now)
        {
            now = ended;
        }
        var from = await RunUpdates.CompareAndSetAsync(db, transition, allowed, now, lease?.Id, ct);
        if (from is not null)
        {
            await RunUpdates.InsertEventAsync(db, transition.RunId, from, transition.To, transition.Reason, now, ct);
        }
        return from;
    }

    public async Task SetNativeIdAsync(string id, string nativeId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // One fsync less per run: this commit is ordered before every later one, whose sync covers it.
        // SQLite: synchronous=NORMAL for this statement only (in WAL mode a crash loses, never corrupts,
        // an unsynced commit; the handle's next open runs SqlitePragmas again, so FULL is back even if the
        // reset below fails). PostgreSQL: the same by synchronous_commit = off, for this transaction only.
        await db.Database.OpenConnectionAsync(cancellationToken);
        if (db.Database.IsNpgsql())
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.Database.ExecuteSqlRawAsync("SET LOCAL synchronous_commit = off", cancellationToken);
            await UpdateAsync();
            await tx.CommitAsync(cancellationToken);
            return;
        }
        SqlitePragmas.Forget(db.Database.GetDbConnection());
        await db.Database.ExecuteSqlRawAsync("PRAGMA synchronous = NORMAL", cancellationToken);
        try
        {
            await UpdateAsync();
        }
        finally
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA synchronous = FULL", CancellationToken.None);
        }

        // Fenced: a node whose lease was taken over records nothing on the run.
        Task UpdateAsync() => lease is null
            ? db.Database.ExecuteSqlRawAsync("UPDATE runs SET native_id = {0} WHERE id = {1}", [nativeId, id], cancellationToken)
            : db.Database.ExecuteSqlRawAsync("UPDATE runs SET native_id = {0} WHERE id = {1} AND lease = {2}", [nativeId, id, lease.Id], cancellationToken);
    }

    public async Task SetNoteAsync(string id, string? message, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var leaseId = lease?.Id;
        await db.Runs.Where(r => r.Id == id && r.State == RunState.Running && (leaseId == null || r.Lease == leaseId))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Message, message), cancellationToken);
    }

    public async Task<bool> RequestCancelAsync(string id, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // COALESCE keeps the first request's time, so repeating the call changes nothing.
        var affected = await db.Runs.Where(r => r.Id == id && r.State == RunState.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.CancelRequestedAt, r => r.CancelRequestedAt ?? now), cancellationToken);
        if (affected > 0 && db.Database.IsNpgsql())
        {
            // The node running it may be another one: wake it rather than leave it to its poll.
            await db.Database.ExecuteSqlRawAsync(RunNotifications.NotifySql, cancellationToken);
        }
        return affected > 0;
    }

    public async Task<(IReadOnlyList<string> Canceled, IReadOnlyList<string> Requested)> CancelManyAsync(
        IReadOnlyCollection<string> ids, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return ([], []);
        }
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var canceled = await RunCancelRows.CancelQueuedAsync(db, ids, reason, now, cancellationToken);
        var requested = await RunCancelRows.RequestRunningAsync(db, ids, $"cancel requested: {reason}", now, cancellationToken);
        if (db.Database.IsNpgsql() && (canceled.Count > 0 || requested.Count > 0))
        {
            // Slots freed and stops asked of other nodes: wake them rather than leave it to their poll.
            await db.Database.ExecuteSqlRawAsync(RunNotifications.NotifySql, cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        foreach (var id in canceled)
        {
            LogMove(id, RunState.Queued, RunState.Canceled, reason);
        }
        return (canceled, requested);
    }

    public async Task<IReadOnlyList<Run>> ListRunningAsync(string node, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Runs.AsNoTracking()
            .Where(r => r.State == RunState.Running && r.Node == node)
            .OrderBy(r => r.Id)
            .ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<Run>> TakeBackAsync(string node, CancellationToken cancellationToken)
    {
        if (lease is null)
        {
            return await ListRunningAsync(node, cancellationToken);
        }
        var expires = clock.GetUtcNow() + lease.Timeout;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Runs.Where(r => r.State == RunState.Running && r.Node == node)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Lease, lease.Id).SetProperty(r => r.LeaseExpiresAt, expires), cancellationToken);
        return await db.Runs.AsNoTracking()
            .Where(r => r.State == RunState.Running && r.Node == node && r.Lease == lease.Id)
            .OrderBy(r => r.Id)
            .ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<RunEvent>> ListEventsAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await EventsOfRun.For(db)(db, id).ToListAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => commits.DisposeAsync();

    private void LogMove(string runId, RunState from, RunState to, string reason) =>
        logger.LogInformation("Run {RunId} {From} -> {To}: {Reason}", runId, from.ToWire(), to.ToWire(), reason);
}
