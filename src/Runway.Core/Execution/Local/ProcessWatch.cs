namespace Runway.Execution.Local;

/// <summary>
/// Watches processes this server did not start (runs taken back after a restart), which it cannot wait
/// for: one timer checks all of them, instead of one sleeping thread per run.
/// </summary>
internal sealed class ProcessWatch(TimeProvider clock, TimeSpan interval) : IDisposable
{
    private readonly Lock gate = new();
    private readonly List<Entry> entries = [];
    private ITimer? timer;
    private int ticking;

    public int Count
    {
        get
        {
            lock (gate)
            {
                return entries.Count;
            }
        }
    }

    /// <summary>Completes once <paramref name="pid"/> is gone or is no longer the process that started at <paramref name="startTime"/>.</summary>
    public Task WhenGoneAsync(int pid, long? startTime)
    {
        var entry = new Entry(pid, startTime, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (gate)
        {
            entries.Add(entry);
            timer ??= clock.CreateTimer(_ => Tick(), null, interval, interval);
        }
        return entry.Gone.Task;
    }

    public void Dispose()
    {
        lock (gate)
        {
            timer?.Dispose();
            timer = null;
        }
    }

    private void Tick()
    {
        // A slow /proc read must not let ticks pile up.
        if (Interlocked.Exchange(ref ticking, 1) == 1)
        {
            return;
        }
        try
        {
            Entry[] snapshot;
            lock (gate)
            {
                snapshot = [.. entries];
            }
            var gone = snapshot.Where(e => !ProcessTable.IsAlive(e.Pid, e.StartTime)).ToList();
            lock (gate)
            {
                entries.RemoveAll(gone.Contains);
                if (entries.Count == 0)
                {
                    timer?.Dispose();
                    timer = null;
                }
            }
            foreach (var entry in gone)
            {
                entry.Gone.TrySetResult();
            }
        }
        finally
        {
            Volatile.Write(ref ticking, 0);
        }
    }

    private sealed record Entry(int Pid, long? StartTime, TaskCompletionSource Gone);
}
