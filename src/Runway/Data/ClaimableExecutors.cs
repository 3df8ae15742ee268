namespace Runway.Data;

/// <summary>
/// The executors of this node's process: its claims take only queued runs of these, so a node without
/// Slurm leaves Slurm runs to a node that has it. Without it (tests of the store alone) a claim takes any run.
/// </summary>
public sealed record ClaimableExecutors(IReadOnlyList<string> Names);
