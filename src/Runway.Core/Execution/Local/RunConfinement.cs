namespace Runway.Execution.Local;

/// <summary>
/// What a local run is kept to beyond its isolation mode: its own network namespace (loopback only) unless the
/// pipeline says <c>network: true</c>, and the cgroups it joins before it execs (<see cref="RunCgroup.ProcsFiles"/>).
/// </summary>
public sealed record RunConfinement(bool Network, IReadOnlyList<string> CgroupProcs)
{
    /// <summary>The network, and no cgroup: as runs were started before either existed.</summary>
    public static readonly RunConfinement Open = new(true, []);
}
