using System.Diagnostics;

namespace Runway.Bench;

internal sealed record LoadResult(int Done, int Failed, TimeSpan Elapsed, double[] LatenciesMs, string? FirstError)
{
    public double PerSecond => Done / Elapsed.TotalSeconds;
}

/// <summary>
/// A closed loop: a fixed number of workers, each sending its next request as soon as the last one is
/// answered, until <c>total</c> requests are done or <c>limit</c> has passed, whichever is first.
/// </summary>
internal static class Load
{
    public static async Task<LoadResult> RunAsync(int workers, int total, TimeSpan limit, Func<int, CancellationToken, Task> operation, CancellationToken ct)
    {
        var next = -1;
        var failed = 0;
        string? firstError = null;
        var latencies = new double[total];
        var started = Stopwatch.GetTimestamp();
        async Task WorkerAsync()
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < total && Stopwatch.GetElapsedTime(started) < limit)
            {
                var begin = Stopwatch.GetTimestamp();
                try
                {
                    await operation(index, ct);
                    latencies[index] = Stopwatch.GetElapsedTime(begin).TotalMilliseconds;
                }
                catch (HttpRequestException e)
                {
                    latencies[index] = double.NaN;
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, e.Message, null);
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(WorkerAsync, ct)));
        var elapsed = Stopwatch.GetElapsedTime(started);
        var done = latencies.Where(l => l > 0).ToArray();
        return new LoadResult(done.Length, failed, elapsed, done, firstError);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; throws after <paramref name="limit"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan every, TimeSpan limit, string what, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        while (!await condition())
        {
            if (Stopwatch.GetElapsedTime(started) > limit)
            {
                throw new TimeoutException($"timed out after {limit.TotalSeconds:0} s waiting for {what}");
            }
            await Task.Delay(every, ct);
        }
    }
}
