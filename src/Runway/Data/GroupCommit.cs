using System.Data.Common;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Runway.Runs;

namespace Runway.Data;

/// <summary>
/// Group commit for new runs, and on SQLite for the runs' moves too: concurrent submissions, and the ends and claims
/// of runs (<see cref="WriteAsync{T}"/>), wait in a channel while the one transaction before them commits, then are
/// written together in the next one. A durable commit (synchronous=FULL) costs the same for one row or a hundred, so
/// under load each caller pays a fraction of it; an idle server commits a lone submission at once, with no batching
/// delay. Each caller's task completes only after the transaction holding its write has committed.
/// </summary>
/// <remarks>
/// SQLite has one write lock. When submissions and the runs' moves each committed on their own connection, a writer
/// that found the lock taken slept in SQLite's busy handler (1, 2, 5, 10, 15… ms between tries) and woke long after
/// it was free: in issue 10's burst the group commit waited 8, 18, 33 and 53 ms at its BEGIN, every client's
/// submission with it, and that was the burst's submission p99 (README, "Performance"). One writer for both has
/// nothing to wait for, and one fsync where there were two.
/// </remarks>
internal sealed class GroupCommit(IDbContextFactory<RunwayDb> contexts, ILogger logger) : IAsyncDisposable
{
    // Bounds one transaction, so a huge backlog still commits (and answers) in steps.
    private const int MaxBatch = 512;

    private readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock gate = new();
    private Task? writer;

    // Only the writer task touches these.
    private RunwayDb? writerDb;
    private RunInserts? writerInserts;

    /// <summary>
    /// True when the run (and its audit entry, when given: in the same transaction, so neither is ever
    /// stored without the other) was inserted; false when an existing run holds its owner's idempotency key.
    /// </summary>
    public Task<bool> AddAsync(Run run, Auth.AuditEntry? audit)
    {
        var pending = new Insert(run, audit);
        Enqueue(pending);
        return pending.Done.Task;
    }

    /// <summary>
    /// <paramref name="write"/> run in the writer's next transaction, on its context, after that transaction's new
    /// runs (so a claim there may take them): its result once that transaction has committed. It may run twice: a
    /// transaction that fails is rolled back and each of its writes tried again alone, so only the one at fault fails.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<RunwayDb, Task<T>> write)
    {
        var pending = new Write<T>(write);
        Enqueue(pending);
        return pending.Done.Task;
    }

    /// <summary>Writes waiting for the writer's next transaction (tests).</summary>
    internal int Waiting => Volatile.Read(ref waiting);

    private int waiting;

    private void Enqueue(Pending pending)
    {
        Interlocked.Increment(ref waiting);
        if (!queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref waiting);
            throw new ObjectDisposedException(nameof(GroupCommit));
        }
        lock (gate)
        {
            writer ??= Task.Run(WriteAsync);
        }
    }

    private async Task WriteAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
                Interlocked.Decrement(ref waiting);
            }
            try
            {
                await CommitAsync(batch);
                foreach (var pending in batch)
                {
                    pending.Committed();
                }
            }
            catch (Exception) when (batch.Count > 1)
            {
                // One of them (an idempotency conflict, most likely) failed the whole transaction: commit
                // each on its own, so only that one learns of it.
                await OneByOneAsync(batch);
            }
            catch (Exception e)
            {
                Fail(batch[0], e);
            }
            batch.Clear();
        }
    }

    private async Task CommitAsync(IReadOnlyList<Pending> batch)
    {
        var (db, inserts) = await WriterAsync();
        try
        {
            // One transaction: all rows or none.
            await using var tx = await db.Database.BeginTransactionAsync();
            var rows = batch.OfType<Insert>().Select(p => (p.Run, p.Audit)).ToList();
            if (rows.Count > 0)
            {
                await inserts.InsertAsync(rows, tx.GetDbTransaction(), CancellationToken.None);
            }
            foreach (var write in batch)
            {
                await write.RunAsync(db);
            }
            await tx.CommitAsync();
        }
        catch
        {
            // A broken connection must not stay the writer's; an idempotency conflict costs a new one, rarely.
            await CloseWriterAsync();
            throw;
        }
    }

    /// <summary>
    /// The writer's own connection, kept across batches so its prepared statements are parsed once. It is
    /// opened through EF Core, so it gets its pragmas (synchronous=FULL: a 201 is on disk).
    /// </summary>
    private async Task<(RunwayDb Db, RunInserts Inserts)> WriterAsync()
    {
        if (writerDb is null || writerInserts is null)
        {
            writerDb = await contexts.CreateDbContextAsync();
            await writerDb.Database.OpenConnectionAsync();
            writerInserts = new RunInserts(writerDb.Database.GetDbConnection(), writerDb.Database.IsSqlite());
        }
        return (writerDb, writerInserts);
    }

    private async Task CloseWriterAsync()
    {
        if (writerInserts is not null)
        {
            await writerInserts.DisposeAsync();
            writerInserts = null;
        }
        if (writerDb is not null)
        {
            await writerDb.DisposeAsync();
            writerDb = null;
        }
    }

    private async Task OneByOneAsync(IReadOnlyList<Pending> batch)
    {
        foreach (var pending in batch)
        {
            try
            {
                await CommitAsync([pending]);
                pending.Committed();
            }
            catch (Exception e)
            {
                Fail(pending, e);
            }
        }
    }

    private void Fail(Pending pending, Exception e)
    {
        if (pending is Insert insert)
        {
            if (e is DbException db && ((insert.Run.IdempotencyKey is not null && StoreErrors.IsIdempotencyConflict(db))
                || (insert.Run.ScheduleId is not null && StoreErrors.IsScheduleFireConflict(db))))
            {
                insert.Done.TrySetResult(false);
                return;
            }
            logger.LogWarning(e, "Could not store run {RunId}", insert.Run.Id);
        }
        pending.Failed(e);
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        Task? running;
        lock (gate)
        {
            running = writer;
        }
        if (running is not null)
        {
            await running;
        }
        await CloseWriterAsync();
    }

    private abstract class Pending
    {
        /// <summary>The write's statements, in the writer's transaction (nothing for an insert: those go in together).</summary>
        public virtual Task RunAsync(RunwayDb db) => Task.CompletedTask;

        public abstract void Committed();

        public abstract void Failed(Exception e);
    }

    private sealed class Insert(Run run, Auth.AuditEntry? audit) : Pending
    {
        public Run Run { get; } = run;

        public Auth.AuditEntry? Audit { get; } = audit;

        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Committed() => Done.TrySetResult(true);

        public override void Failed(Exception e) => Done.TrySetException(e);
    }

    private sealed class Write<T>(Func<RunwayDb, Task<T>> write) : Pending
    {
        private T? result;

        public TaskCompletionSource<T> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task RunAsync(RunwayDb db) => result = await write(db);

        public override void Committed() => Done.TrySetResult(result!);

        public override void Failed(Exception e) => Done.TrySetException(e);
    }
}
