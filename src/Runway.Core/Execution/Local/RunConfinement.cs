namespace Runway.Execution.Local;

/// <summary>
/// What a local run is kept to beyond its isolation mode: a loopback-only network namespace unless the pipeline
/// says <c>network: true</c>, and the cgroups it joins before it execs (<see cref="RunCgroup.ProcsFiles"/>).
/// With <paramref name="NetworkOwner"/> (the run's owner) and a supervisor running as root, that namespace is
/// the one the supervisor keeps for the owner's runs, not a new one per run (README, "Run isolation").
/// </summary>
public sealed record RunConfinement(bool Network, IReadOnlyList<string> CgroupProcs, string? NetworkOwner = null)
{
    /// <summary>The network, and no cgroup: as runs were started before either existed.</summary>
    public static readonly RunConfinement Open = new(true, []);
}
