using System.Data.Common;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Runway.Runs;

namespace Runway.Data;

/// <summary>
/// Group commit for new runs: concurrent submissions wait in a channel while the one transaction before
/// them commits, then are inserted together in the next one. A durable commit (synchronous=FULL) costs
/// the same for one row or a hundred, so under load each caller pays a fraction of it; an idle server
/// commits a lone submission at once, with no batching delay. Each caller's task completes only after
/// the transaction holding its run has committed.
/// </summary>
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
        var pending = new Pending(run, audit, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        ObjectDisposedException.ThrowIf(!queue.Writer.TryWrite(pending), this);
        lock (gate)
        {
            writer ??= Task.Run(WriteAsync);
        }
        return pending.Done.Task;
    }

    private async Task WriteAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            try
            {
                await InsertAsync(batch);
                foreach (var pending in batch)
                {
                    pending.Done.TrySetResult(true);
                }
            }
            catch (DbException)
            {
                // One of them (an idempotency conflict, most likely) failed the whole transaction: commit
                // each on its own, so only that one learns of it.
                await InsertOneByOneAsync(batch);
            }
            catch (Exception e)
            {
                foreach (var pending in batch)
                {
                    pending.Done.TrySetException(e);
                }
            }
            batch.Clear();
        }
    }

    private async Task InsertAsync(IReadOnlyList<Pending> batch)
    {
        var (db, inserts) = await WriterAsync();
        try
        {
            // One transaction: all rows or none.
            await using var tx = await db.Database.BeginTransactionAsync();
            await inserts.InsertAsync([.. batch.Select(p => (p.Run, p.Audit))], tx.GetDbTransaction(), CancellationToken.None);
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

    private async Task InsertOneByOneAsync(IReadOnlyList<Pending> batch)
    {
        foreach (var pending in batch)
        {
            try
            {
                await InsertAsync([pending]);
                pending.Done.TrySetResult(true);
            }
            catch (DbException e) when ((pending.Run.IdempotencyKey is not null && StoreErrors.IsIdempotencyConflict(e))
                || (pending.Run.ScheduleId is not null && StoreErrors.IsScheduleFireConflict(e)))
            {
                pending.Done.TrySetResult(false);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Could not store run {RunId}", pending.Run.Id);
                pending.Done.TrySetException(e);
            }
        }
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

    private sealed record Pending(Run Run, Auth.AuditEntry? Audit, TaskCompletionSource<bool> Done);
}
