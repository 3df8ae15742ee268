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
        await using var db = await contexts.CreateDbContextAsync();
        // Opened through EF Core, so the connection gets its pragmas (synchronous=FULL: a 201 is on disk).
        await db.Database.OpenConnectionAsync();
        // One transaction: all rows or none.
        await using var tx = await db.Database.BeginTransactionAsync();
        await new RunInserts(db.Database.GetDbConnection(), tx.GetDbTransaction(), db.Database.IsSqlite())
            .InsertAsync(batch.Select(p => (p.Run, p.Audit)).ToList(), CancellationToken.None);
        await tx.CommitAsync();
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
            catch (DbException e) when (pending.Run.IdempotencyKey is not null && StoreErrors.IsIdempotencyConflict(e))
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
    }

    private sealed record Pending(Run Run, Auth.AuditEntry? Audit, TaskCompletionSource<bool> Done);
}
