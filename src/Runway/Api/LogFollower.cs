using Runway.Execution;
using Runway.Runs;

namespace Runway.Api;

/// <summary>Copies a growing log to a response until its run reaches a final state and the file is drained.</summary>
public static class LogFollower
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    public static async Task CopyUntilFinalAsync(
        string runId, string runDirectory, string name, Stream body, IRunStore store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        RunFileStream? log = null;
        long offset = 0;
        long? end = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // Opened through RunTree: a link or a FIFO in the log's place counts as no log yet.
                log ??= Open(runDirectory, name);
                var wanted = log is null ? 0 : (int)Math.Min(buffer.Length, (end ?? long.MaxValue) - offset);
                var read = wanted <= 0 ? 0 : await RandomAccess.ReadAsync(log!.Handle, buffer.AsMemory(0, wanted), offset, cancellationToken);
                if (read > 0)
                {
                    offset += read;
                    await body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    await body.FlushAsync(cancellationToken);
                    continue;
                }
                if (end is not null)
                {
                    return;
                }
                var run = await store.GetAsync(runId, cancellationToken);
                if (run is null || run.State.IsFinal())
                {
                    // Drain once more after seeing the final state, as the last bytes may land just before it;
                    // but only up to the length now, or a process the run left behind could keep appending forever.
                    log ??= Open(runDirectory, name);
                    end = log is null ? 0 : RandomAccess.GetLength(log.Handle);
                    continue;
                }
                await Task.Delay(Interval, clock, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            if (log is not null)
            {
                await log.DisposeAsync();
            }
        }
    }

    private static RunFileStream? Open(string runDirectory, string name)
    {
        using var tree = RunTree.Open(runDirectory);
        return tree?.OpenFile(name);
    }
}
