using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Http.Json;
using System.Text.Json;

namespace Runway.Tests.Fixtures;

/// <summary>
/// A server and a user's client whose finished runs a test then fills with what a hostile or careless
/// command could leave in its directory. Requests go through <see cref="WithinDeadlineAsync"/>.
/// </summary>
public sealed class PlantedRuns : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private readonly RunwayApp app = new();
    private readonly List<string> fifos = [];
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public HttpClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Client = await app.CreateUserClientAsync();

    public async ValueTask DisposeAsync()
    {
        // A reader stuck opening a FIFO is let go by a writer appearing; O_RDWR opens a FIFO without blocking.
        foreach (var fifo in fifos.Where(File.Exists))
        {
            new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite).Dispose();
        }
        Client.Dispose();
        await app.DisposeAsync();
    }

    public async Task<(string Id, string Directory)> FinishedRunAsync(string pipeline, object? parameters = null)
    {
        var id = (await RunwayApp.SubmitAsync(Client, new { pipeline, @params = parameters ?? new { seconds = 0 } })).GetProperty("id").GetString()!;
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(Client, id)).GetProperty("state").GetString());
        return (id, Path.Combine(app.DataDirectory, "runs", id));
    }

    public async Task<string> UploadAsync(string name)
    {
        using var content = new MultipartFormDataContent { { new ByteArrayContent("some words\n"u8.ToArray()), "file", name } };
        using var response = await Client.PostAsync("/api/v1/files", content, Ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
    }

    public sealed record Entry(string Name, TarEntryType Type, string LinkName, byte[] Data);

    public async Task<List<Entry>> ArchiveAsync(string id) => Entries(await ArchiveBytesAsync(id));

    /// <summary>The archive as tar, un-gzipped, read to its end within the deadline.</summary>
    public Task<byte[]> ArchiveBytesAsync(string id) => WithinDeadlineAsync(async t =>
    {
        await using var body = await Client.GetStreamAsync($"/api/v1/runs/{id}/archive", t);
        await using var gzip = new GZipStream(body, CompressionMode.Decompress);
        using var tar = new MemoryStream();
        await gzip.CopyToAsync(tar, t);
        return tar.ToArray();
    });

    /// <summary>Reads every entry: a tar that is cut, or has more bytes than its headers say, fails here.</summary>
    public static List<Entry> Entries(byte[] tar)
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
    public static async Task<T> WithinDeadlineAsync<T>(Func<CancellationToken, Task<T>> request)
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

    public static List<string> Paths(JsonElement listing) =>
        listing.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("path").GetString()!).ToList();

    public void MakeFifo(string path)
    {
        Run("mkfifo", path);
        fifos.Add(path);
    }

    public static void Run(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} failed: {error}");
    }
}
