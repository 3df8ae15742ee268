using System.Text;
using Runway.Execution;
using Runway.Tests.Fakes;

namespace Runway.Tests.Execution;

public sealed class RunTreeTests : IDisposable
{
    private static readonly Func<IReadOnlyList<string>, IReadOnlySet<string>> All = paths => paths.ToHashSet();
    private readonly TempDirectory directory = new();

    public void Dispose() => directory.Dispose();

    [Fact]
    public void List_StopsAtMaxEntries_AndSaysSo()
    {
        for (var i = 0; i < 10; i++)
        {
            File.WriteAllText(directory.Combine($"f{i}"), "x");
        }
        using var tree = RunTree.Open(directory.Path)!;

        var listing = tree.List(All, _ => true, includeLinks: false, new RunTreeLimits(MaxEntries: 4));

        Assert.Equal(4, listing.Entries.Count);
        Assert.True(listing.Truncated);
    }

    [Fact]
    public void List_StopsAtMaxVisited_EvenWhenNothingIsWanted()
    {
        for (var i = 0; i < 10; i++)
        {
            File.WriteAllText(directory.Combine($"f{i}"), "x");
        }
        using var tree = RunTree.Open(directory.Path)!;

        var listing = tree.List(_ => new HashSet<string>(), _ => true, includeLinks: false, new RunTreeLimits(MaxVisited: 5));

        Assert.Empty(listing.Entries);
        Assert.True(listing.Truncated);
    }

    [Fact]
    public void List_IsWhole_WhenWithinTheLimits()
    {
        Directory.CreateDirectory(directory.Combine("a/b"));
        File.WriteAllText(directory.Combine("a/b/c.txt"), "abc");
        File.CreateSymbolicLink(directory.Combine("a/link"), "/etc/passwd");
        using var tree = RunTree.Open(directory.Path)!;

        var listing = tree.List(All, _ => true, includeLinks: true);

        Assert.False(listing.Truncated);
        Assert.Equal(3, listing.Entries.Single(e => e.Path == "a/b/c.txt").Size);
        Assert.Equal("/etc/passwd", listing.Entries.Single(e => e.Path == "a/link").LinkTarget);
    }

    [Fact]
    public void OpenFile_RefusesAPathThroughALink_EvenOneThatStaysInside()
    {
        Directory.CreateDirectory(directory.Combine("sub"));
        File.WriteAllText(directory.Combine("sub/x.txt"), "x");
        Directory.CreateSymbolicLink(directory.Combine("alias"), "sub");
        using var tree = RunTree.Open(directory.Path)!;

        using var direct = tree.OpenFile("sub/x.txt");
        using var through = tree.OpenFile("alias/x.txt");

        Assert.NotNull(direct);
        Assert.Null(through);
        Assert.Null(tree.OpenFile("sub/../sub/x.txt"));
    }

    [Fact]
    public void Open_RefusesARunDirectoryThatIsALink()
    {
        var link = directory.Combine("run");
        Directory.CreateSymbolicLink(link, "/etc");

        Assert.Null(RunTree.Open(link));
    }

    [Fact]
    public void OpenFile_ReadsTheLengthTheFileHadWhenOpened()
    {
        var path = directory.Combine("growing.log");
        File.WriteAllText(path, "0123456789");
        using var tree = RunTree.Open(directory.Path)!;
        using var file = tree.OpenFile("growing.log")!;
        File.AppendAllText(path, "more that came later");

        using var reader = new StreamReader(file, Encoding.UTF8);

        Assert.Equal("0123456789", reader.ReadToEnd());
    }

    [Fact]
    public void OpenFile_FillsWithZeros_WhenTheFileShrinksWhileRead()
    {
        var path = directory.Combine("shrinking.log");
        File.WriteAllText(path, "0123456789");
        using var tree = RunTree.Open(directory.Path)!;
        using var file = tree.OpenFile("shrinking.log")!;
        using (var truncate = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            truncate.SetLength(4);
        }

        using var copy = new MemoryStream();
        file.CopyTo(copy);

        Assert.Equal("0123\0\0\0\0\0\0"u8.ToArray(), copy.ToArray());
    }
}
