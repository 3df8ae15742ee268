using System.Formats.Tar;
using System.Text;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>The archive of a run whose directory holds what a hostile command could leave (see <see cref="PlantedRuns"/>).</summary>
public sealed class RunArchiveTests : IAsyncLifetime
{
    private readonly PlantedRuns runs = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => runs.InitializeAsync();

    public ValueTask DisposeAsync() => runs.DisposeAsync();

    [Fact]
    public async Task Archive_HoldsLinksAsLinks_AndNoByteBehindThem()
    {
        var (id, directory) = await runs.FinishedRunAsync("sleep");
        Directory.CreateSymbolicLink(Path.Combine(directory, "etc"), "/etc");
        File.CreateSymbolicLink(Path.Combine(directory, "passwd"), "/etc/passwd");
        await File.WriteAllTextAsync(Path.Combine(directory, "result.txt"), "42\n", Ct);

        var tar = await runs.ArchiveBytesAsync(id);

        var firstLine = File.ReadLines("/etc/passwd").First();
        Assert.DoesNotContain(firstLine, Encoding.UTF8.GetString(tar), StringComparison.Ordinal);
        var entries = PlantedRuns.Entries(tar);
        var passwd = Assert.Single(entries, e => e.Name == $"{id}/passwd");
        Assert.Equal((TarEntryType.SymbolicLink, "/etc/passwd"), (passwd.Type, passwd.LinkName));
        var etc = Assert.Single(entries, e => e.Name.StartsWith($"{id}/etc", StringComparison.Ordinal));
        Assert.Equal((TarEntryType.SymbolicLink, "/etc"), (etc.Type, etc.LinkName));
        Assert.All(entries, e => Assert.DoesNotContain(firstLine, Encoding.UTF8.GetString(e.Data), StringComparison.Ordinal));
        Assert.Equal("42\n", Encoding.UTF8.GetString(Assert.Single(entries, e => e.Name == $"{id}/result.txt").Data));
    }

    [Fact]
    public async Task Archive_Finishes_WithLoopsFifosAndAFileThatKeepsGrowing()
    {
        var (id, directory) = await runs.FinishedRunAsync("sleep");
        File.CreateSymbolicLink(Path.Combine(directory, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(directory, "b"), "a");
        Directory.CreateDirectory(Path.Combine(directory, "sub"));
        Directory.CreateSymbolicLink(Path.Combine(directory, "sub", "parent"), "..");
        runs.MakeFifo(Path.Combine(directory, "fifo"));
        var growing = Path.Combine(directory, "growing.log");
        using var stopWriting = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var writer = KeepWritingAsync(growing, stopWriting.Token);
        await Eventually.TrueAsync(() => File.Exists(growing) && new FileInfo(growing).Length > 0, PlantedRuns.Deadline, "the growing file to start");

        var entries = await runs.ArchiveAsync(id);
        await stopWriting.CancelAsync();
        await writer;

        Assert.Contains(entries, e => e.Name == $"{id}/growing.log" && e.Type == TarEntryType.RegularFile);
        Assert.DoesNotContain(entries, e => e.Name == $"{id}/fifo");
        Assert.DoesNotContain(entries, e => e.Name.StartsWith($"{id}/sub/parent/", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Name == $"{id}/sub/parent" && e.Type == TarEntryType.SymbolicLink);
    }

    [Fact]
    public async Task Archive_EndsWithANote_WhenTheTreeIsTooDeep()
    {
        var (id, directory) = await runs.FinishedRunAsync("sleep");
        var deep = Path.Combine([directory, .. Enumerable.Repeat("d", 100)]);
        Directory.CreateDirectory(deep);
        await File.WriteAllTextAsync(Path.Combine(deep, "bottom.txt"), "x", Ct);

        var entries = await runs.ArchiveAsync(id);

        Assert.DoesNotContain(entries, e => e.Name.EndsWith("/bottom.txt", StringComparison.Ordinal));
        Assert.Equal($"{id}/ARCHIVE-INCOMPLETE.txt", entries[^1].Name);
    }

    /// <summary>Appends to the file at a modest pace until stopped: fast enough that it grows during the archive.</summary>
    private static async Task KeepWritingAsync(string path, CancellationToken stop)
    {
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(1));
        var chunk = Encoding.UTF8.GetBytes(new string('x', 4095) + "\n");
        try
        {
            do
            {
                await file.WriteAsync(chunk, stop);
                await file.FlushAsync(stop);
            }
            while (await pace.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
