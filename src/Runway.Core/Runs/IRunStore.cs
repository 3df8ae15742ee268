namespace Runway.Runs;

/// <summary>
/// The durable queue: the runs table and its events, named after queue operations. Every state change goes
/// through <see cref="TryTransitionAsync"/> (one writer per fact). Implementations live in the server's
/// Data/ folder (EF Core on SQLite or PostgreSQL); reads for lists and pages query the DbContext directly.
/// </summary>
public interface IRunStore
{
    /// <summary>
    /// Stores a new queued run and its first event. When the owner already has a run with the same
    /// idempotency key, returns that run instead and <c>Created</c> is false. Returns only once the run is durable.
    /// </summary>
    Task<(Run Run, bool Created)> AddAsync(Run run, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="AddAsync(Run, CancellationToken)"/>, and stores <paramref name="audit"/> in the run's own
    /// transaction: neither is ever stored without the other. No entry is stored when the run was not created.
    /// </summary>
    Task<(Run Run, bool Created)> AddAsync(Run run, AuditRecord? audit, CancellationToken cancellationToken);

    Task<Run?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Atomically moves up to <paramref name="max"/> queued runs, by priority (high first) then age, to
    /// running on <paramref name="node"/>, and returns them. Two nodes never claim the same run.
    /// </summary>
    Task<IReadOnlyList<Run>> ClaimAsync(string node, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Compare-and-set: moves the run to <see cref="RunTransition.To"/> only if its state is one of
    /// <see cref="RunTransition.From"/> and the move is allowed, appending a run event in the same
    /// transaction. Sets started_at when entering running and finished_at when entering a final state.
    /// A run with a cancel request is never moved back to queued (see <see cref="RunHandBack"/>).
    /// A lost race or an invalid move returns false; it never throws for those.
    /// </summary>
    Task<bool> TryTransitionAsync(RunTransition transition, CancellationToken cancellationToken);

    /// <summary>
    /// Records the executor's id (pid, Slurm job id) of a running run. Not necessarily durable at once
    /// (the next durable write makes it so): a restart that finds it missing asks the executor
    /// (<see cref="Execution.IStartedRunFinder"/>), so it need not wait for the disk on every start.
    /// </summary>
    Task SetNativeIdAsync(string id, string nativeId, CancellationToken cancellationToken);

    /// <summary>
    /// Shows what the executor says of a running run in its message (Slurm: "waiting in Slurm: Resources");
    /// null clears it. Only while it runs: a final state's message is never overwritten.
    /// </summary>
    Task SetNoteAsync(string id, string? message, CancellationToken cancellationToken);

    /// <summary>
    /// Records that a user asked to cancel a running run (so the request survives a restart). Returns
    /// false when the run is not running. Idempotent.
    /// </summary>
    Task<bool> RequestCancelAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="TryTransitionAsync"/> of a run's end, then <see cref="ClaimAsync"/> of the runs to take
    /// its place: a worker's steady state. A store may do both in one transaction (one durable commit
    /// instead of two); this default does them one after the other.
    /// </summary>
    async Task<(bool Transitioned, IReadOnlyList<Run> Claimed)> FinishAndClaimAsync(
        RunTransition final, string node, int max, CancellationToken cancellationToken)
    {
        var transitioned = await TryTransitionAsync(final, cancellationToken);
        return (transitioned, await ClaimAsync(node, max, cancellationToken));
    }

    /// <summary>
    /// <see cref="FinishAndClaimAsync"/> for several runs that ended at once: each end (in order; whether each
    /// moved), then the claim, in one transaction where the store can (one durable commit for them all).
    /// </summary>
    async Task<(IReadOnlyList<bool> Transitioned, IReadOnlyList<Run> Claimed)> FinishManyAndClaimAsync(
        IReadOnlyList<RunTransition> finals, string node, int max, CancellationToken cancellationToken)
    {
        var transitioned = new List<bool>();
        foreach (var final in finals)
        {
            transitioned.Add(await TryTransitionAsync(final, cancellationToken));
        }
        return (transitioned, await ClaimAsync(node, max, cancellationToken));
    }

    /// <summary>
    /// Extends this node's leases on the given running runs by the lease timeout (the heartbeat). Returns those of
    /// them whose lease this node no longer holds: another node took them over while this one was silent.
    /// A store without leases returns none.
    /// </summary>
    Task<IReadOnlyList<string>> RenewLeasesAsync(IReadOnlyCollection<string> runIds, CancellationToken cancellationToken);

    /// <summary>
    /// Takes over up to <paramref name="max"/> running runs, of this node's executors, whose lease expired (their
    /// node is lost, or a claim's acknowledgement never reached it): each is leased to this node, and comes back
    /// with the node it was on. Two nodes never rescue the same run.
    /// </summary>
    Task<IReadOnlyList<RescuedRun>> RescueExpiredAsync(string node, int max, CancellationToken cancellationToken);

    /// <summary>The running runs claimed by <paramref name="node"/>.</summary>
    Task<IReadOnlyList<Run>> ListRunningAsync(string node, CancellationToken cancellationToken);

    /// <summary>
    /// The running runs of <paramref name="node"/>, leased to this process: what a node takes back when it starts
    /// (the name is this process's alone, <c>NodeRegistry</c>). A store without leases lists them.
    /// </summary>
    Task<IReadOnlyList<Run>> TakeBackAsync(string node, CancellationToken cancellationToken) => ListRunningAsync(node, cancellationToken);

    Task<IReadOnlyList<RunEvent>> ListEventsAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Bulk cancel: each queued run of <paramref name="ids"/> moves to canceled, each running one not yet asked to stop
    /// gets a cancel request (<see cref="RequestCancelAsync"/>; its node stops it), each with an event whose reason is
    /// <paramref name="reason"/> (who asked). Runs in other states, and running ones already asked to stop, are left
    /// alone and not returned. A store may do it in a few set-based statements; this default does it one run at a time.
    /// </summary>
    async Task<(IReadOnlyList<string> Canceled, IReadOnlyList<string> Requested)> CancelManyAsync(
        IReadOnlyCollection<string> ids, string reason, CancellationToken cancellationToken)
    {
        var canceled = new List<string>();
        var requested = new List<string>();
        foreach (var id in ids)
        {
            var toCanceled = new RunTransition(id, [RunState.Queued], RunState.Canceled, reason) { Message = Execution.RunOutcome.CanceledByUser };
            if (await TryTransitionAsync(toCanceled, cancellationToken))
            {
                canceled.Add(id);
            }
            else if (await GetAsync(id, cancellationToken) is { State: RunState.Running, CancelRequestedAt: null } && await RequestCancelAsync(id, cancellationToken))
            {
                requested.Add(id);
            }
        }
        return (canceled, requested);
    }
}

public sealed record RunTransition(string RunId, IReadOnlyList<RunState> From, RunState To, string Reason)
{
    public int? ExitCode { get; init; }

    /// <summary>When a final state was reached, if earlier than the store's now (the run's exit record): finished_at and the event's time.</summary>
    public DateTimeOffset? EndedAt { get; init; }
    public string? Message { get; init; }

    /// <summary>What a run that ends here used: stored with its final state.</summary>
    public RunUsage? Usage { get; init; }

    /// <summary>The size of the run directory of a run that ends here (<see cref="Run.FilesBytes"/>): stored with its final state.</summary>
    public long? FilesBytes { get; init; }

    /// <summary>Back to queued for another attempt (a lost node's run whose pipeline allows retries): attempt + 1.</summary>
    public bool Retry { get; init; }

    /// <summary>
    /// The native id of a run that ends here, stored with its final state where none is stored yet: a run that ends
    /// within <see cref="RunLauncher.NativeIdGrace"/> of its start has its id written by its end's commit, not one of its own.
    /// </summary>
    public string? NativeId { get; init; }
}

/// <summary>A running run this node took over, and the node whose lease on it expired.</summary>
public sealed record RescuedRun(Run Run, string? PreviousNode);
