namespace Runway.Runs;

/// <summary>How this node's <see cref="RunScheduler"/> claims and stops runs.</summary>
public sealed record SchedulerOptions
{
    /// <summary>The name this node claims runs under; its runs are taken back after a restart by this name.</summary>
    public string Node { get; init; } = Environment.MachineName;

    /// <summary>How many runs this node executes at once.</summary>
    public int Concurrency { get; init; } = Environment.ProcessorCount;

    /// <summary>How long a cancelled or timed-out run gets between TERM and KILL.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The longest the loop sleeps without a <see cref="RunScheduler.Wake"/>: it then claims runs submitted
    /// through another node and notices cancel requests made there.
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often this node renews its runs' leases and takes over runs whose lease expired (<see cref="IRunStore.RenewLeasesAsync"/>,
    /// <see cref="IRunStore.RescueExpiredAsync"/>); null for a store without leases.
    /// </summary>
    public TimeSpan? LeaseInterval { get; init; }

    /// <summary>
    /// Several nodes (runs can be taken over): how long a run's process may go on after its lease was last renewed,
    /// the lease timeout plus two lease intervals (time for a taking node on the same machine to adopt the very
    /// process); the executors stop it after that (<see cref="Execution.IExecutor.KeepLeases"/>). Null on a single
    /// node, whose runs outlive a server restart of any length.
    /// </summary>
    public TimeSpan? EnforcedLease { get; init; }
}
