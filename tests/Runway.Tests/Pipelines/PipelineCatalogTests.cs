using Microsoft.Extensions.Logging.Abstractions;
using Runway.Pipelines;

namespace Runway.Tests.Pipelines;

public sealed class PipelineCatalogTests : IDisposable
{
    private readonly ScratchDirectory scratch = new();

    private static string Yaml(string name, string version = "1") => $"name: {name}\nversion: '{version}'\ncommand: [/bin/true]\n";

    private PipelineCatalog Open() => new(scratch.Path, NullLogger<PipelineCatalog>.Instance);

    public void Dispose() => scratch.Dispose();

    [Fact]
    public void Constructor_LoadsTopLevelFilesAndPipelineFolders_SortedByName()
    {
        scratch.Write("zeta.yaml", Yaml("zeta"));
        scratch.Write("alpha.yml", Yaml("alpha"));
        scratch.Write("mid/pipeline.yaml", Yaml("mid"));
        scratch.Write("mid/lookup.yaml", "not: a pipeline\n");
        scratch.Write("notes.txt", "ignored");
        scratch.Write(".#zeta.yaml", "editor lock file");

        using var catalog = Open();

        Assert.Equal(["alpha", "mid", "zeta"], catalog.All.Select(p => p.Name));
        Assert.Empty(catalog.Errors);
        Assert.Equal(Path.Combine(scratch.Path, "mid"), catalog.Find("mid")!.Directory);
        Assert.Null(catalog.Find("lookup"));
    }

    [Fact]
    public void Constructor_ReportsBrokenFile_AndServesTheOthers()
    {
        scratch.Write("good.yaml", Yaml("good"));
        var broken = scratch.Write("broken.yaml", "name: broken\nversion: '1'\n");

        using var catalog = Open();

        Assert.Equal(["good"], catalog.All.Select(p => p.Name));
        Assert.Equal([broken], catalog.Errors.Keys);
        Assert.Contains("command: is required", catalog.Errors[broken], StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_KeepsFirstByPath_WhenTwoFilesDeclareOneName()
    {
        var first = scratch.Write("a.yaml", Yaml("same", "1"));
        var second = scratch.Write("b.yaml", Yaml("same", "2"));

        using var catalog = Open();

        Assert.Equal("1", catalog.Find("same")!.Version);
        Assert.Equal(first, catalog.Find("same")!.SourcePath);
        Assert.Contains($"already declared by {first}", catalog.Errors[second], StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ServesNothing_WhenDirectoryIsMissing()
    {
        using var catalog = new PipelineCatalog(Path.Combine(scratch.Path, "none"), NullLogger<PipelineCatalog>.Instance);

        Assert.Empty(catalog.All);
        Assert.Empty(catalog.Errors);
    }

    [Fact]
    public async Task Watcher_ReloadsAddedChangedBrokenAndRemovedFiles()
    {
        scratch.Write("keep.yaml", Yaml("keep"));
        using var catalog = Open();
        var changes = 0;
        catalog.Changed += () => Interlocked.Increment(ref changes);

        var added = scratch.Write("new/pipeline.yaml", Yaml("fresh", "1"));
        await Until(() => catalog.Find("fresh") is not null);
        Assert.True(Volatile.Read(ref changes) > 0);

        scratch.Write("new/pipeline.yaml", Yaml("fresh", "2"));
        await Until(() => catalog.Find("fresh")?.Version == "2");

        scratch.Write("new/pipeline.yaml", "name: fresh\n");
        await Until(() => catalog.Errors.ContainsKey(added));
        Assert.Null(catalog.Find("fresh"));
        Assert.NotNull(catalog.Find("keep"));

        File.Delete(added);
        await Until(() => catalog.Errors.Count == 0);
        Assert.Equal(["keep"], catalog.All.Select(p => p.Name));
    }

    [Fact]
    public void Reload_ReplacesTheSnapshot_WithoutTouchingEarlierOnes()
    {
        scratch.Write("one.yaml", Yaml("one"));
        using var catalog = Open();
        var before = catalog.All;

        scratch.Write("two.yaml", Yaml("two"));
        catalog.Reload();

        Assert.Equal(["one"], before.Select(p => p.Name));
        Assert.Equal(["one", "two"], catalog.All.Select(p => p.Name));
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = TimeProvider.System.GetTimestamp() + TimeProvider.System.TimestampFrequency * 10;
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetTimestamp() < deadline, "the catalog did not reload within 10 s");
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }
}
