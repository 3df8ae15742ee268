namespace Runway.Data;

/// <summary>
/// The executors of this node's process: its claims take only queued runs of these, so a node without
/// Slurm leaves Slurm runs to a node that has it. Without it (tests of the store alone) a claim takes any run.
/// With <see cref="Gpus"/>, a local run asking for GPUs is claimed only while that many of this node's are free,
/// and they are reserved for it as it is claimed (<see cref="RunStore"/>).
/// </summary>
public sealed record ClaimableExecutors(IReadOnlyList<string> Names, Execution.Local.GpuPool? Gpus = null);
