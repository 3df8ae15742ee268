using System.Collections.Concurrent;

namespace Runway.Runs;

/// <summary>
/// The runs this node is starting or running, shared by the scheduler's pieces; the lock under which
/// claims fill the free slots; and the signal that wakes the scheduler's loop.
/// </summary>
internal sealed class ActiveRuns : IDisposable
{
    private readonly SemaphoreSlim signal = new(0, 1);
    private readonly ConcurrentDictionary<string, ActiveRun> runs = new(StringComparer.Ordinal);
    // Claims come from the loop and from runs that end (RunFinisher): one at a time, so that together
    // they never take more runs than the free slots.
    private readonly SemaphoreSlim claiming = new(1, 1);

    public int Count => runs.Count;

    public bool IsEmpty => runs.IsEmpty;

    public ICollection<ActiveRun> All => runs.Values;

    /// <summary>Ends what waits on this node's runs when the server stops; set once, when the loop starts.</summary>
    public CancellationToken Stopping { get; set; }

    public bool TryGet(string runId, out ActiveRun run) => runs.TryGetValue(runId, out run!);

    public void Add(ActiveRun run) => runs[run.Run.Id] = run;

    public void Remove(string runId) => runs.TryRemove(runId, out _);

    public List<ActiveRun> Track(IReadOnlyList<Run> claimed)
    {
        var tracked = claimed.Select(c => new ActiveRun(c)).ToList();
        foreach (var run in tracked)
        {
            Add(run);
        }
        return tracked;
    }

    public Task LockClaimsAsync(CancellationToken cancellationToken) => claiming.WaitAsync(cancellationToken);

    public void UnlockClaims() => claiming.Release();

    public void Wake()
    {
        try
        {
            if (signal.CurrentCount == 0)
            {
                signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Another wake got there first: one pending wake is enough.
        }
        catch (ObjectDisposedException)
        {
            // A run that ended after shutdown: nobody is left to wake.
        }
    }

    public Task<bool> WaitForWakeAsync(TimeSpan timeout, CancellationToken cancellationToken) => signal.WaitAsync(timeout, cancellationToken);

    // Not the claim lock: a run ending during shutdown may still release it; it holds no OS handle.
    public void Dispose() => signal.Dispose();
}
