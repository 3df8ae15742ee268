using Runway.Runs;

namespace Runway.Tests.Fakes;

/// <summary>
/// An <see cref="IRunStore"/> in memory that keeps the real store's contract: compare-and-set moves obeying
/// <see cref="RunTransitions"/>, an event per move, claims by priority then age, and copies in and out
/// (callers never share the stored object, as with a database). Records the most runs ever running at once.
/// </summary>
public sealed class InMemoryRunStore(TimeProvider clock) : IRunStore
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, Run> runs = new(StringComparer.Ordinal);
    private readonly List<RunEvent> events = [];
    private int maxRunning;

    /// <summary>The audit entries stored with new runs (read it once the writes are done).</summary>
    public List<AuditRecord> Audits { get; } = [];

    public InMemoryRunStore() : this(TimeProvider.System)
    {
    }

    public int MaxRunning
    {
        get
        {
            lock (gate)
            {
                return maxRunning;
            }
        }
    }

    public Task<(Run Run, bool Created)> AddAsync(Run run, CancellationToken cancellationToken) => AddAsync(run, null, cancellationToken);

    public Task<(Run Run, bool Created)> AddAsync(Run run, AuditRecord? audit, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var existing = run.IdempotencyKey is null ? null
                : runs.Values.FirstOrDefault(r => r.Owner == run.Owner && r.IdempotencyKey == run.IdempotencyKey);
            if (existing is not null)
            {
                return Task.FromResult((Copy(existing), false));
            }
            if (audit is not null)
            {
                Audits.Add(audit);
            }
            var stored = Copy(run);
            stored.State = RunState.Queued;
            runs[run.Id] = stored;
            Append(run.Id, null, RunState.Queued, "submitted");
            return Task.FromResult((Copy(stored), true));
        }
    }

    public Task<Run?> GetAsync(string id, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return Task.FromResult(runs.TryGetValue(id, out var run) ? Copy(run) : null);
        }
    }

    public Task<IReadOnlyList<Run>> ClaimAsync(string node, int max, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var claimed = runs.Values
                .Where(r => r.State == RunState.Queued)
                .OrderByDescending(r => r.Priority).ThenBy(r => r.SubmittedAt).ThenBy(r => r.Id, StringComparer.Ordinal)
                .Take(max)
                .ToList();
            foreach (var run in claimed)
            {
                run.State = RunState.Running;
                run.Node = node;
                run.StartedAt = clock.GetUtcNow();
                Append(run.Id, RunState.Queued, RunState.Running, $"claimed by {node}");
            }
            CountRunning();
            return Task.FromResult<IReadOnlyList<Run>>([.. claimed.Select(Copy)]);
        }
    }

    /// <summary>How long each recording of ends takes (as a durable commit does), so that ends arriving meanwhile batch up.</summary>
    public TimeSpan FinishDelay { get; set; }

    /// <summary>How many ends each recording held, in order.</summary>
    public List<int> FinishBatches { get; } = [];

    public async Task<(bool Transitioned, IReadOnlyList<Run> Claimed)> FinishAndClaimAsync(
        RunTransition final, string node, int max, CancellationToken cancellationToken)
    {
        var (transitioned, claimed) = await FinishManyAndClaimAsync([final], node, max, cancellationToken);
        return (transitioned[0], claimed);
    }

    public async Task<(IReadOnlyList<bool> Transitioned, IReadOnlyList<Run> Claimed)> FinishManyAndClaimAsync(
        IReadOnlyList<RunTransition> finals, string node, int max, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            FinishBatches.Add(finals.Count);
        }
        await Task.Delay(FinishDelay, cancellationToken);
        var transitioned = new List<bool>();
        foreach (var final in finals)
        {
            transitioned.Add(await TryTransitionAsync(final, cancellationToken));
        }
        return (transitioned, await ClaimAsync(node, max, cancellationToken));
    }

    public Task<bool> TryTransitionAsync(RunTransition transition, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (!runs.TryGetValue(transition.RunId, out var run)
                || !transition.From.Contains(run.State)
                || !RunTransitions.IsAllowed(run.State, transition.To)
                || (transition.To == RunState.Queued && run.CancelRequestedAt is not null))
            {
                return Task.FromResult(false);
            }
            var from = run.State;
            run.State = transition.To;
            run.Message = transition.Message ?? (transition.To.IsFinal() ? null : run.Message);
            run.ExitCode = transition.ExitCode ?? run.ExitCode;
            if (transition.To == RunState.Running)
            {
                run.StartedAt = clock.GetUtcNow();
            }
            if (transition.To == RunState.Queued)
            {
                run.Node = null;
                run.NativeId = null;
                run.StartedAt = null;
            }
            var at = clock.GetUtcNow();
            if (transition.To.IsFinal())
            {
                // As RunStore: a run that ended before anyone noticed (its exit record says when) ended then.
                at = transition.EndedAt is { } ended && ended < at ? ended : at;
                run.FinishedAt = at;
                run.WallSeconds = transition.Usage?.WallSeconds ?? run.WallSeconds;
                run.CpuSeconds = transition.Usage?.CpuSeconds ?? run.CpuSeconds;
                run.PeakMemoryBytes = transition.Usage?.PeakMemoryBytes ?? run.PeakMemoryBytes;
                run.FilesBytes = transition.FilesBytes ?? run.FilesBytes;
                run.NativeId ??= transition.NativeId;
            }
            Append(run.Id, from, transition.To, transition.Reason, at);
            CountRunning();
            return Task.FromResult(true);
        }
    }

    public Task SetNoteAsync(string id, string? message, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (runs.TryGetValue(id, out var run) && run.State == RunState.Running)
            {
                run.Message = message;
            }
            return Task.CompletedTask;
        }
    }

    /// <summary>Native ids written on their own (<see cref="SetNativeIdAsync"/>), not with a run's end.</summary>
    public int NativeIdWrites { get; private set; }

    public Task SetNativeIdAsync(string id, string nativeId, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            NativeIdWrites++;
            if (runs.TryGetValue(id, out var run) && run.State == RunState.Running)
            {
                run.NativeId = nativeId;
            }
            return Task.CompletedTask;
        }
    }

    /// <summary>Runs just before each <see cref="RequestCancelAsync"/>: lets a test land a move in the middle of a cancel.</summary>
    public Func<string, Task>? BeforeRequestCancel { get; set; }

    public async Task<bool> RequestCancelAsync(string id, CancellationToken cancellationToken)
    {
        if (BeforeRequestCancel is { } hook)
        {
            await hook(id);
        }
        return RequestCancel(id);
    }

    private bool RequestCancel(string id)
    {
        lock (gate)
        {
            if (!runs.TryGetValue(id, out var run) || run.State != RunState.Running)
            {
                return false;
            }
            run.CancelRequestedAt ??= clock.GetUtcNow();
            return true;
        }
    }

    // Leases are the database store's (RunStoreContract, LeaseContract); this store has none, as RunStore without a NodeLease.
    public Task<IReadOnlyList<string>> RenewLeasesAsync(IReadOnlyCollection<string> runIds, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);

    public Task<IReadOnlyList<RescuedRun>> RescueExpiredAsync(string node, int max, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<RescuedRun>>([]);

    public Task<IReadOnlyList<Run>> ListRunningAsync(string node, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return Task.FromResult<IReadOnlyList<Run>>([.. runs.Values.Where(r => r.State == RunState.Running && r.Node == node).Select(Copy)]);
        }
    }

    public Task<IReadOnlyList<RunEvent>> ListEventsAsync(string id, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return Task.FromResult<IReadOnlyList<RunEvent>>([.. events.Where(e => e.RunId == id)]);
        }
    }

    /// <summary>Puts a run in any state, as a crashed node would have left it (test set-up only).</summary>
    public void Put(Run run)
    {
        lock (gate)
        {
            runs[run.Id] = Copy(run);
            CountRunning();
        }
    }

    private void Append(string id, RunState? from, RunState to, string reason, DateTimeOffset? at = null) =>
        events.Add(new RunEvent { Id = events.Count + 1, RunId = id, From = from, To = to, Reason = reason, At = at ?? clock.GetUtcNow() });

    private void CountRunning() => maxRunning = Math.Max(maxRunning, runs.Values.Count(r => r.State == RunState.Running));

    private static Run Copy(Run run) => new()
    {
        Id = run.Id,
        Pipeline = run.Pipeline,
        PipelineVersion = run.PipelineVersion,
        Name = run.Name,
        ParamsJson = run.ParamsJson,
        TagsJson = run.TagsJson,
        Priority = run.Priority,
        Owner = run.Owner,
        State = run.State,
        Message = run.Message,
        ExitCode = run.ExitCode,
        Executor = run.Executor,
        NativeId = run.NativeId,
        Node = run.Node,
        SubmittedAt = run.SubmittedAt,
        StartedAt = run.StartedAt,
        FinishedAt = run.FinishedAt,
        CancelRequestedAt = run.CancelRequestedAt,
        SpecJson = run.SpecJson,
        IdempotencyKey = run.IdempotencyKey,
        IdempotencyFingerprint = run.IdempotencyFingerprint,
        WallSeconds = run.WallSeconds,
        CpuSeconds = run.CpuSeconds,
        PeakMemoryBytes = run.PeakMemoryBytes,
    };
}
