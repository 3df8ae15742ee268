using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>
/// A run may leave anything in its directory. These runs are made by a real pipeline, then the test plants
/// what a hostile or careless command could: links out and in loops, FIFOs, growing files, hard links.
/// Every request gets a deadline: blocking or spinning fails the test instead of hanging it.
/// </summary>
public sealed class RunFilesApiTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private readonly RunwayApp app = new();
    private readonly List<string> fifos = [];
    private HttpClient client = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => client = await app.CreateUserClientAsync();

    public async ValueTask DisposeAsync()
    {
        // A reader stuck opening a FIFO is let go by a writer appearing; O_RDWR opens a FIFO without blocking.
        foreach (var fifo in fifos.Where(File.Exists))
        {
            new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite).Dispose();
        }
        client.Dispose();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Outputs_LeaveOutLinksAndWhatLiesBehindThem()
    {
        var (id, directory) = await FinishedRunAsync("sleep");
        Directory.CreateSymbolicLink(Path.Combine(directory, "etc"), "/etc");
        File.CreateSymbolicLink(Path.Combine(directory, "passwd"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(directory, "alias.txt"), "result.txt");
        await File.WriteAllTextAsync(Path.Combine(directory, "result.txt"), "42\n", Ct);

        var listing = await WithinDeadlineAsync(t => client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}/outputs", t));

        Assert.Equal(["result.txt"], Paths(listing));
        Assert.False(listing.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task Outputs_Finish_WhenLinksLoop()
    {
        var (id, directory) = await FinishedRunAsync("sleep");
        File.CreateSymbolicLink(Path.Combine(directory, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(directory, "b"), "a");
        Directory.CreateDirectory(Path.Combine(directory, "sub"));
        Directory.CreateSymbolicLink(Path.Combine(directory, "sub", "parent"), "..");
        Directory.CreateSymbolicLink(Path.Combine(directory, "self"), ".");
        await File.WriteAllTextAsync(Path.Combine(directory, "sub", "result.txt"), "42\n", Ct);

        var listing = await WithinDeadlineAsync(t => client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}/outputs", t));

        Assert.Equal(["sub/result.txt"], Paths(listing));
    }

    [Fact]
    public async Task Outputs_SayTheyWereCut_WhenTheTreeIsTooDeep()
    {
        var (id, directory) = await FinishedRunAsync("sleep");
        var deep = Path.Combine([directory, .. Enumerable.Repeat("d", 100)]);
        Directory.CreateDirectory(deep);
        await File.WriteAllTextAsync(Path.Combine(deep, "bottom.txt"), "x", Ct);
        await File.WriteAllTextAsync(Path.Combine(directory, "top.txt"), "x", Ct);

        var listing = await WithinDeadlineAsync(t => client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}/outputs", t));

        Assert.Equal(["top.txt"], Paths(listing));
        Assert.True(listing.GetProperty("truncated").GetBoolean());
    }

    [Theory]
    [InlineData("passwd")]          // a link to a file outside
    [InlineData("etc/passwd")]      // a file behind a link to a directory outside
    [InlineData("alias.txt")]       // a link to an output: the output is fetched by its own name
    [InlineData("fifo")]            // opening a FIFO for reading would wait for a writer forever
    [InlineData("a")]               // a link loop
    public async Task Output_Answers404_ForLinksAndSpecialFiles(string path)
    {
        var (id, directory) = await FinishedRunAsync("sleep");
        Directory.CreateSymbolicLink(Path.Combine(directory, "etc"), "/etc");
        File.CreateSymbolicLink(Path.Combine(directory, "passwd"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(directory, "alias.txt"), "result.txt");
        File.CreateSymbolicLink(Path.Combine(directory, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(directory, "b"), "a");
        await File.WriteAllTextAsync(Path.Combine(directory, "result.txt"), "42\n", Ct);
        MakeFifo(Path.Combine(directory, "fifo"));

        using var response = await WithinDeadlineAsync(t => client.GetAsync($"/api/v1/runs/{id}/outputs/{path}", t));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("root:", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pid")]
    [InlineData("pid_start")]
    [InlineData("exit_code")]
    [InlineData("not-declared.txt")]
    [InlineData("tmp/scratch.txt")]
    [InlineData("inputs/input/words.txt")]
    public async Task Output_Answers404_ForFilesThatAreNotOutputsLogsOrTheScript(string path)
    {
        var (id, directory) = await FinishedRunAsync("checksum", new { input = await UploadAsync("words.txt") });
        await File.WriteAllTextAsync(Path.Combine(directory, "not-declared.txt"), "x", Ct);
        Directory.CreateDirectory(Path.Combine(directory, "tmp"));
        await File.WriteAllTextAsync(Path.Combine(directory, "tmp", "scratch.txt"), "x", Ct);
        Assert.True(File.Exists(Path.Combine(directory, path)), $"the run left no {path}");

        using var response = await WithinDeadlineAsync(t => client.GetAsync($"/api/v1/runs/{id}/outputs/{path}", t));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("checksum.txt")]
    [InlineData("run.sh")]
    [InlineData("stdout.log")]
    public async Task Output_ServesDeclaredOutputsLogsAndTheScript(string path)
    {
        var (id, directory) = await FinishedRunAsync("checksum", new { input = await UploadAsync("words.txt") });

        var bytes = await WithinDeadlineAsync(t => client.GetByteArrayAsync($"/api/v1/runs/{id}/outputs/{path}", t));

        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(directory, path), Ct), bytes);
    }

    [Fact]
    public async Task Files_LeaveOutAHardLinkToSomeoneElsesFile()
    {
        if (Environment.UserName != "root")
        {
            Requires.Skip("giving a file to another owner needs root");
        }
        var (id, directory) = await FinishedRunAsync("sleep");
        using var outside = new Fakes.TempDirectory();
        var secret = outside.Combine("secret.txt");
        await File.WriteAllTextAsync(secret, "not the run's to read\n", Ct);
        Run("chown", "4242:4242", secret);
        Assert.True(Posix.Link(secret, Path.Combine(directory, "linked.txt")));

        var listing = await WithinDeadlineAsync(t => client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}/outputs", t));
        using var download = await WithinDeadlineAsync(t => client.GetAsync($"/api/v1/runs/{id}/outputs/linked.txt", t));
        var archive = await ArchiveAsync(id);

        Assert.DoesNotContain("linked.txt", Paths(listing));
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
        Assert.DoesNotContain($"{id}/linked.txt", archive.Select(e => e.Name));
    }

    [Fact]
    public async Task Archive_HoldsLinksAsLinks_AndNoByteBehindThem()
    {
        var (id, directory) = await FinishedRunAsync("sleep");
        Directory.CreateSymbolicLink(Path.Combine(directory, "etc"), "/etc");
        File.CreateSymbolicLink(Path.Combine(directory, "passwd"), "/etc/passwd");
        await File.WriteAllTextAsync(Path.Combine(directory, "result.txt"), "42\n", Ct);

        var tar = await ArchiveBytesAsync(id);

        var firstLine = File.ReadLines("/etc/passwd").First();
        Assert.DoesNotContain(firstLine, Encoding.UTF8.GetString(tar), StringComparison.Ordinal);
        var entries = Entries(tar);
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
        var (id, directory) = await FinishedRunAsync("sleep");
        File.CreateSymbolicLink(Path.Combine(directory, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(directory, "b"), "a");
        Directory.CreateDirectory(Path.Combine(directory, "sub"));
        Directory.CreateSymbolicLink(Path.Combine(directory, "sub", "parent"), "..");
        MakeFifo(Path.Combine(directory, "fifo"));
        var growing = Path.Combine(directory, "growing.log");
        using var stopWriting = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var writer = KeepWritingAsync(growing, stopWriting.Token);
        await Eventually.TrueAsync(() => File.Exists(growing) && new FileInfo(growing).Length > 0, Deadline, "the growing file to start");

        var entries = await ArchiveAsync(id);
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
        var (id, directory) = await FinishedRunAsync("sleep");
        var deep = Path.Combine([directory, .. Enumerable.Repeat("d", 100)]);
        Directory.CreateDirectory(deep);
        await File.WriteAllTextAsync(Path.Combine(deep, "bottom.txt"), "x", Ct);

        var entries = await ArchiveAsync(id);

        Assert.DoesNotContain(entries, e => e.Name.EndsWith("/bottom.txt", StringComparison.Ordinal));
        Assert.Equal($"{id}/ARCHIVE-INCOMPLETE.txt", entries[^1].Name);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Log_ServesNothingBehindALink(bool follow)
    {
        var (id, directory) = await FinishedRunAsync("sleep");
        File.Delete(Path.Combine(directory, "stdout.log"));
        File.CreateSymbolicLink(Path.Combine(directory, "stdout.log"), "/etc/passwd");

        var log = await WithinDeadlineAsync(t => client.GetStringAsync($"/api/v1/runs/{id}/log?follow={follow}", t));

        Assert.DoesNotContain("root:", log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Log_DoesNotWait_OnAFifo(bool follow)
    {
        var (id, directory) = await FinishedRunAsync("sleep");
        File.Delete(Path.Combine(directory, "stderr.log"));
        MakeFifo(Path.Combine(directory, "stderr.log"));

        var log = await WithinDeadlineAsync(t => client.GetStringAsync($"/api/v1/runs/{id}/log?stream=stderr&follow={follow}", t));

        Assert.Equal("", log);
    }

    private async Task<(string Id, string Directory)> FinishedRunAsync(string pipeline, object? parameters = null)
    {
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline, @params = parameters ?? new { seconds = 0 } })).GetProperty("id").GetString()!;
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(client, id)).GetProperty("state").GetString());
        return (id, Path.Combine(app.DataDirectory, "runs", id));
    }

    private async Task<string> UploadAsync(string name)
    {
        using var content = new MultipartFormDataContent { { new ByteArrayContent("some words\n"u8.ToArray()), "file", name } };
        using var response = await client.PostAsync("/api/v1/files", content, Ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
    }

    private sealed record Entry(string Name, TarEntryType Type, string LinkName, byte[] Data);

    private async Task<List<Entry>> ArchiveAsync(string id) => Entries(await ArchiveBytesAsync(id));

    /// <summary>The archive as tar, un-gzipped, read to its end within the deadline.</summary>
    private Task<byte[]> ArchiveBytesAsync(string id) => WithinDeadlineAsync(async t =>
    {
        await using var body = await client.GetStreamAsync($"/api/v1/runs/{id}/archive", t);
        await using var gzip = new GZipStream(body, CompressionMode.Decompress);
        using var tar = new MemoryStream();
        await gzip.CopyToAsync(tar, t);
        return tar.ToArray();
    });

    /// <summary>Reads every entry: a tar that is cut, or has more bytes than its headers say, fails here.</summary>
    private static List<Entry> Entries(byte[] tar)
    {
        using var stream = new MemoryStream(tar);
        using var reader = new TarReader(stream);
        var entries = new List<Entry>();
        while (reader.GetNextEntry() is { } entry)
        {
            using var data = new MemoryStream();
            entry.DataStream?.CopyTo(data);
            entries.Add(new Entry(entry.Name, entry.EntryType, entry.LinkName, data.ToArray()));
        }
        Assert.True(tar.AsSpan((int)stream.Position).IndexOfAnyExcept((byte)0) < 0, "bytes follow the end of the tar");
        return entries;
    }

    /// <summary>
    /// The request runs on its own task: a server that blocks a thread in open(2) or spins in a loop would
    /// not see the token, and the test must still fail at the deadline rather than hang.
    /// </summary>
    private static async Task<T> WithinDeadlineAsync<T>(Func<CancellationToken, Task<T>> request)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Deadline);
        try
        {
            return await Task.Run(() => request(deadline.Token), Ct).WaitAsync(Deadline, Ct);
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && deadline.IsCancellationRequested && !Ct.IsCancellationRequested))
        {
            Assert.Fail($"the request did not finish within {Deadline.TotalSeconds} s");
            throw;
        }
    }

    private static List<string> Paths(JsonElement listing) =>
        listing.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("path").GetString()!).ToList();

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

    private void MakeFifo(string path)
    {
        Run("mkfifo", path);
        fifos.Add(path);
    }

    private static void Run(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} failed: {error}");
    }
}
