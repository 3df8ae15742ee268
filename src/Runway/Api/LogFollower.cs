using Runway.Runs;

namespace Runway.Api;

/// <summary>Copies a growing log to a response until its run reaches a final state and the file is drained.</summary>
public static class LogFollower
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    public static async Task CopyUntilFinalAsync(string runId, string path, Stream body, IRunStore store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        FileStream? file = null;
        try
        {
            var finalSeen = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                if (file is null && File.Exists(path))
                {
                    file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, buffer.Length, FileOptions.Asynchronous);
                }
                var read = file is null ? 0 : await file.ReadAsync(buffer, cancellationToken);
                if (read > 0)
                {
                    await body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    await body.FlushAsync(cancellationToken);
                    continue;
                }
                if (finalSeen)
                {
                    return;
                }
                // Drain once more after seeing the final state: the last bytes may land just before it.
                var run = await store.GetAsync(runId, cancellationToken);
                finalSeen = run is null || run.State.IsFinal();
                if (!finalSeen)
                {
                    await Task.Delay(Interval, clock, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            if (file is not null)
            {
                await file.DisposeAsync();
            }
        }
    }
}
