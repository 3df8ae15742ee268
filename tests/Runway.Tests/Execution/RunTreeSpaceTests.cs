using Runway.Execution;
using Runway.Tests.Fakes;

namespace Runway.Tests.Execution;

/// <summary>Measuring and removing a hostile run directory (<see cref="RunTree.Measure"/>, <see cref="RunTree.Remove"/>).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RunTreeSpaceTests : IDisposable
{
    private readonly TempDirectory directory = new();
    private readonly TempDirectory outside = new();

    private string Run => directory.Combine("run");

    public RunTreeSpaceTests() => Directory.CreateDirectory(Run);

    public void Dispose()
    {
        directory.Dispose();
        outside.Dispose();
    }

    [Fact]
    public void Remove_DeletesLinksAsLinks_AndLeavesWhatTheyPointAtIntact()
    {
        var secret = outside.Combine("secret.txt");
        File.WriteAllText(secret, "not the run's");
        Directory.CreateDirectory(outside.Combine("dir"));
        File.WriteAllText(outside.Combine("dir/kept.txt"), "kept");
        File.CreateSymbolicLink(Path.Combine(Run, "to-file"), secret);
        File.CreateSymbolicLink(Path.Combine(Run, "to-dir"), outside.Combine("dir"));
        Directory.CreateDirectory(Path.Combine(Run, "sub"));
        File.CreateSymbolicLink(Path.Combine(Run, "sub/up"), outside.Path);
        // A hard link to an outside file: removing the run's name leaves the other name and its bytes.
        Assert.True(Posix.Link(outside.Combine("dir/kept.txt"), Path.Combine(Run, "hard")));
        File.WriteAllText(Path.Combine(Run, "stdout.log"), "log");

        var removal = RunTree.Remove(Run);

        Assert.True(removal.Complete);
        Assert.False(Path.Exists(Run));
        Assert.Equal("not the run's", File.ReadAllText(secret));
        Assert.Equal("kept", File.ReadAllText(outside.Combine("dir/kept.txt")));
        Assert.True(File.Exists(outside.Combine("dir/kept.txt")));
    }

    [Fact]
    public void Remove_EmptiesATreeDeeperThanTheDepthLimit_InPasses()
    {
        var deepest = Run;
        for (var i = 0; i < 12; i++)
        {
            deepest = Path.Combine(deepest, $"d{i}");
        }
        Directory.CreateDirectory(deepest);
        File.WriteAllText(Path.Combine(deepest, "bottom.txt"), "x");

        var removal = RunTree.Remove(Run, new RunTreeLimits(MaxDepth: 3));

        Assert.True(removal.Complete, $"removed {removal.Removed} entries");
        Assert.False(Path.Exists(Run));
    }

    [Fact]
    public void Remove_StopsAtTheEntryLimit_AndSaysItIsNotDone()
    {
        for (var i = 0; i < 50; i++)
        {
            File.WriteAllText(Path.Combine(Run, $"f{i}"), "x");
        }

        var removal = RunTree.Remove(Run, new RunTreeLimits(MaxVisited: 2));

        // Ten passes of two entries each: bounded, and the rest is left for the next sweep.
        Assert.False(removal.Complete);
        Assert.Equal(20, removal.Removed);
        Assert.Equal(30, Directory.GetFiles(Run).Length);
    }

    [Fact]
    public void Remove_EmptiesADirectoryTheRunMadeReadOnly()
    {
        var locked = Path.Combine(Run, "locked");
        Directory.CreateDirectory(locked);
        File.WriteAllText(Path.Combine(locked, "file"), "x");
        File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserExecute);

        Assert.True(RunTree.Remove(Run).Complete);
        Assert.False(Path.Exists(Run));
    }

    [Fact]
    public void Remove_OfAMissingDirectory_IsComplete()
    {
        Directory.Delete(Run);

        var removal = RunTree.Remove(Run);

        Assert.Equal((true, false), (removal.Complete, removal.Existed));
    }

    [Fact]
    public void Remove_RefusesARunDirectoryThatIsALink()
    {
        Directory.Delete(Run);
        File.WriteAllText(outside.Combine("x"), "x");
        Directory.CreateSymbolicLink(Run, outside.Path);

        var removal = RunTree.Remove(Run);

        Assert.False(removal.Complete);
        Assert.True(File.Exists(outside.Combine("x")));
    }

    [Fact]
    public void Measure_CountsAllocatedBytes_WithoutFollowingLinks()
    {
        var big = outside.Combine("big");
        File.WriteAllBytes(big, new byte[4 << 20]);
        File.CreateSymbolicLink(Path.Combine(Run, "big-link"), big);
        File.WriteAllBytes(Path.Combine(Run, "own"), new byte[256 << 10]);
        // Sparse: a terabyte it claims, almost nothing it takes.
        using (var sparse = File.Create(Path.Combine(Run, "sparse")))
        {
            sparse.SetLength(1L << 40);
        }
        using var tree = RunTree.Open(Run)!;

        var usage = tree.Measure();

        Assert.False(usage.Truncated);
        Assert.Equal(3, usage.Entries);
        Assert.InRange(usage.Bytes, 256 << 10, (256 << 10) + (1 << 20));
    }

    [Fact]
    public void Measure_CountsAFileWithTwoNamesOnce()
    {
        File.WriteAllBytes(Path.Combine(Run, "a"), new byte[1 << 20]);
        Assert.True(Posix.Link(Path.Combine(Run, "a"), Path.Combine(Run, "b")));
        using var tree = RunTree.Open(Run)!;

        Assert.InRange(tree.Measure().Bytes, 1 << 20, (1 << 20) + (256 << 10));
    }
}
