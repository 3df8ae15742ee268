using System.Collections.Concurrent;
using Runway.Execution.Local;

[assembly: AssemblyFixture(typeof(Runway.Tests.Fixtures.LeftCgroups))]

namespace Runway.Tests.Fixtures;

/// <summary>
/// Once every test has run, removes what the runs of killed server processes left in their nodes' cgroup folders.
/// A killed server's runs go on by design, so the folders of one still running when its <see cref="RunwayProcess"/> is
/// disposed stay, and the run ends a moment later with nobody to remove them: a full suite left one node folder with
/// one run in each hierarchy. Each folder left is one more group the kernel walks on every later CPU-quota write.
/// </summary>
public sealed class LeftCgroups : IDisposable
{
    private static readonly ConcurrentDictionary<string, byte> Nodes = new(StringComparer.Ordinal);

    /// <summary>A node whose server was killed: its folders are looked at again at the end.</summary>
    public static void Remember(string node) => Nodes.TryAdd(node, 0);

    public void Dispose()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        // Removes the node's empty run folders, then its own where none is left; a run still running keeps both.
        foreach (var node in Nodes.Keys)
        {
            RunCgroups.Probe(pidsLimit: 1, node).Dispose();
        }
    }
}
