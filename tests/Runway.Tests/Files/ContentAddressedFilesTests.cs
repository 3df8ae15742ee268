using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Runway.Data;
using Runway.Files;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Files;

/// <summary>Uploaded bytes are stored once per sha256 (issue 14), through the real server.</summary>
public sealed class ContentAddressedFilesTests : IAsyncLifetime
{
    private readonly string pipelines = Directory.CreateTempSubdirectory("runway-cas-pipelines-").FullName;
    private RunwayApp app = null!;
    private HttpClient ana = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        File.WriteAllText(Path.Combine(pipelines, "show.yaml"), """
            name: show
            version: "1"
            parameters:
              input: {type: file, required: true}
              wait: {type: boolean, default: false}
            command: [/bin/sh, -c, 'while [ "$2" = true ] && [ ! -e "$3/go" ]; do sleep 0.05; done; cat -- "$1"', show, "{input}", "{wait}", "{run_dir}"]
            """);
        app = new RunwayApp(pipelines, concurrency: 1);
        ana = await app.CreateUserClientAsync("ana");
    }

    public async ValueTask DisposeAsync()
    {
        ana.Dispose();
        await app.DisposeAsync();
        Directory.Delete(pipelines, recursive: true);
    }

    [Fact]
    public async Task Upload_StoresTheBytesOnce_WhenUploadedTwice()
    {
        var bytes = RandomNumberGenerator.GetBytes(100_000);

        var first = await UploadAsync(ana, bytes, "a.bin");
        var second = await UploadAsync(ana, bytes, "b.bin");

        Assert.NotEqual(Id(first), Id(second));
        Assert.Equal("a.bin", first.GetProperty("name").GetString());
        Assert.Equal("b.bin", second.GetProperty("name").GetString());
        Assert.Equal(Sha(bytes), Assert.Single(Blobs()).Name);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(app.DataDirectory, "files")));
        Assert.Equal(bytes, await ana.GetByteArrayAsync($"/api/v1/files/{Id(first)}", Ct));
        Assert.Equal(bytes, await ana.GetByteArrayAsync($"/api/v1/files/{Id(second)}", Ct));
    }

    [Fact]
    public async Task Upload_MakesOneWholeBlob_WhenTheSameBytesArriveAtOnce()
    {
        var bytes = RandomNumberGenerator.GetBytes(512 * 1024);

        var uploads = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => UploadAsync(ana, bytes, $"copy{i}.bin")));

        Assert.Equal(8, uploads.Select(Id).Distinct().Count());
        var blob = Assert.Single(Blobs());
        Assert.Equal(Sha(bytes), blob.Name);
        Assert.Equal(Sha(bytes), Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(blob.FullName))));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(app.DataDirectory, "tmp")));
    }

    [Fact]
    public async Task Delete_KeepsTheBlob_UntilTheLastFileOfItGoes()
    {
        var bytes = Encoding.UTF8.GetBytes("shared words\n");
        var first = Id(await UploadAsync(ana, bytes, "a.txt"));
        var second = Id(await UploadAsync(ana, bytes, "b.txt"));

        await DeleteAsync(ana, first);

        Assert.Single(Blobs());
        Assert.Equal(bytes, await ana.GetByteArrayAsync($"/api/v1/files/{second}", Ct));

        await DeleteAsync(ana, second);

        Assert.Empty(Blobs());
    }

    [Fact]
    public async Task Delete_KeepsTheBlob_WhileAQueuedRunNeedsIt()
    {
        var file = Id(await UploadAsync(ana, "needed later\n"u8.ToArray(), "later.txt"));
        // The one slot is held by a run that waits for a file in its directory, so the second stays queued.
        var holder = await RunwayApp.SubmitAsync(ana, new { pipeline = "show", @params = new { input = file, wait = true } });
        var queued = await RunwayApp.SubmitAsync(ana, new { pipeline = "show", @params = new { input = file } });

        await DeleteAsync(ana, file);
        Assert.Single(Blobs());
        await Eventually.TrueAsync(async () =>
            (await ana.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{Id(holder)}", Ct)).GetProperty("state").GetString() == "running",
            TimeSpan.FromSeconds(30), "the holding run to start");
        File.WriteAllText(Path.Combine(app.DataDirectory, "runs", Id(holder), "go"), "");

        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(ana, Id(holder))).GetProperty("state").GetString());
        var run = await RunwayApp.WaitFinalAsync(ana, Id(queued));
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal("needed later\n", await ana.GetStringAsync($"/api/v1/runs/{Id(queued)}/log?stream=stdout", Ct));
    }

    [Fact]
    public async Task Sweep_RemovesABlobARunKept_OnceTheRunEnded()
    {
        var bytes = "needed a while\n"u8.ToArray();
        var file = Id(await UploadAsync(ana, bytes, "while.txt"));
        var run = await RunwayApp.SubmitAsync(ana, new { pipeline = "show", @params = new { input = file, wait = true } });
        await DeleteAsync(ana, file);
        await SweepAsync();
        Assert.Single(Blobs());

        File.WriteAllText(Path.Combine(await RunDirectoryAsync(run), "go"), "");
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(ana, Id(run))).GetProperty("state").GetString());
        await SweepAsync();

        Assert.Empty(Blobs());
        using var admin = app.CreateAdminClient();
        Assert.Contains(Sha(bytes), await admin.GetStringAsync("/api/v1/admin/audit?limit=50", Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sweep_KeepsABlobARunKept_WhenAnotherFileHasTheSameBytes()
    {
        var bytes = "needed twice\n"u8.ToArray();
        var file = Id(await UploadAsync(ana, bytes, "twice.txt"));
        var run = await RunwayApp.SubmitAsync(ana, new { pipeline = "show", @params = new { input = file, wait = true } });
        await DeleteAsync(ana, file);
        var again = Id(await UploadAsync(ana, bytes, "again.txt"));

        File.WriteAllText(Path.Combine(await RunDirectoryAsync(run), "go"), "");
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(ana, Id(run))).GetProperty("state").GetString());
        await SweepAsync();

        Assert.Equal(Sha(bytes), Assert.Single(Blobs()).Name);
        Assert.Equal(bytes, await ana.GetByteArrayAsync($"/api/v1/files/{again}", Ct));
    }

    [Fact]
    public async Task Sweep_PutsBackABlobAStoppedNodeLeftAside_WhenAFileStillHasIt()
    {
        var bytes = "stored again meanwhile\n"u8.ToArray();
        var file = Id(await UploadAsync(ana, bytes, "again.txt"));
        // A node set the blob aside to remove it; meanwhile an upload of the same bytes stored its row and, finding the
        // blob still in place, kept no bytes of its own; the node stopped before it looked for rows again.
        var blob = Assert.Single(Blobs()).FullName;
        File.Move(blob, Aside(blob, TimeProvider.System.GetUtcNow() - Runway.Files.Blobs.LeftAside - TimeSpan.FromMinutes(1)));
        using (var lost = await ana.GetAsync($"/api/v1/files/{file}", Ct))
        {
            Assert.Equal(HttpStatusCode.Gone, lost.StatusCode);
        }

        await SweepAsync();

        Assert.Equal(Sha(bytes), Assert.Single(Blobs()).Name);
        Assert.Equal(bytes, await ana.GetByteArrayAsync($"/api/v1/files/{file}", Ct));
    }

    [Fact]
    public async Task Sweep_RemovesWhatAStoppedNodeLeftAside_ButNotARemovalInProgress()
    {
        var old = TimeProvider.System.GetUtcNow() - Runway.Files.Blobs.LeftAside - TimeSpan.FromMinutes(1);
        var left = PlaceAside("left by a stopped node\n"u8.ToArray(), sha => Aside(sha, old));
        var before = PlaceAside("left by a version without the time\n"u8.ToArray(), sha => $"{sha}.gone-{Guid.NewGuid():N}");
        var inProgress = PlaceAside("another node is removing it\n"u8.ToArray(), sha => Aside(sha, TimeProvider.System.GetUtcNow()));

        await SweepAsync();

        Assert.False(File.Exists(left.Path));
        Assert.False(File.Exists(before.Path));
        Assert.True(File.Exists(inProgress.Path));
        using var admin = app.CreateAdminClient();
        var audit = await admin.GetStringAsync("/api/v1/admin/audit?limit=50", Ct);
        Assert.Contains(left.Sha256, audit, StringComparison.Ordinal);
        Assert.Contains(before.Sha256, audit, StringComparison.Ordinal);
        Assert.DoesNotContain(inProgress.Sha256, audit, StringComparison.Ordinal);
    }

    private static string Aside(string blob, DateTimeOffset at) => $"{blob}.gone-{at.ToUnixTimeSeconds()}-{Guid.NewGuid():N}";

    /// <summary>Bytes no file row holds, set aside under the name <paramref name="aside"/> makes of the blob's path.</summary>
    private (string Sha256, string Path) PlaceAside(byte[] bytes, Func<string, string> aside)
    {
        var sha256 = Sha(bytes);
        var shard = Directory.CreateDirectory(Path.Combine(app.DataDirectory, "blobs", sha256[..2])).FullName;
        var path = aside(Path.Combine(shard, sha256));
        File.WriteAllBytes(path, bytes);
        return (sha256, path);
    }

    [Fact]
    public async Task ListBySha256_FindsMyFileOnly()
    {
        var bytes = Encoding.UTF8.GetBytes("find me\n");
        using var bob = await app.CreateUserClientAsync("bob");
        await UploadAsync(bob, bytes, "bobs.txt");
        Assert.Equal(0, (await ListBySha256Async(ana, Sha(bytes))).GetArrayLength());

        var mine = Id(await UploadAsync(ana, bytes, "mine.txt"));
        await UploadAsync(ana, "other bytes"u8.ToArray(), "other.txt");

        var found = await ListBySha256Async(ana, Sha(bytes).ToUpperInvariant());
        Assert.Equal(mine, Id(Assert.Single(found.EnumerateArray())));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    public async Task ListBySha256_Answers422_WhenNotAHash(string sha256)
    {
        using var response = await ana.GetAsync($"/api/v1/files?sha256={sha256}", Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("sha256", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    /// <summary>Files stored before blobs keep their bytes at files/&lt;id&gt;: read, staged and deleted there.</summary>
    [Fact]
    public async Task LegacyFile_IsServedAndDeleted_WhereItWasStored()
    {
        var bytes = "stored before blobs\n"u8.ToArray();
        var id = Runway.Runs.Ids.NewFileId(TimeProvider.System);
        var legacy = Path.Combine(app.DataDirectory, "files", id);
        File.WriteAllBytes(legacy, bytes);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await using var db = await scope.ServiceProvider.GetRequiredService<IDbContextFactory<RunwayDb>>().CreateDbContextAsync(Ct);
            var now = DateTimeOffset.UnixEpoch.AddYears(56);
            db.Files.Add(new StoredFile { Id = id, Name = "old.txt", Size = bytes.Length, Sha256 = Sha(bytes), Owner = "ana", CreatedAt = now, LastUsedAt = now });
            await db.SaveChangesAsync(Ct);
        }

        Assert.Equal(bytes, await ana.GetByteArrayAsync($"/api/v1/files/{id}", Ct));
        var run = await RunwayApp.WaitFinalAsync(ana, Id(await RunwayApp.SubmitAsync(ana, new { pipeline = "show", @params = new { input = id } })));
        Assert.Equal("stored before blobs\n", await ana.GetStringAsync($"/api/v1/runs/{Id(run)}/log?stream=stdout", Ct));
        await DeleteAsync(ana, id);

        Assert.False(File.Exists(legacy));
    }

    /// <summary>A user is charged a blob once, however many of their files share it; another user who holds it is charged too.</summary>
    [Fact]
    public async Task Usage_ChargesEachHolderOnce()
    {
        var bytes = RandomNumberGenerator.GetBytes(10_000);
        using var bob = await app.CreateUserClientAsync("bob");

        await UploadAsync(ana, bytes, "a.bin");
        await UploadAsync(ana, bytes, "b.bin");
        await UploadAsync(bob, bytes, "c.bin");

        var use = app.Services.GetRequiredService<Storage.StorageUse>();
        Assert.Equal(bytes.Length, (await use.OfAsync("ana", Ct)).Uploads);
        Assert.Equal(bytes.Length, (await use.OfAsync("bob", Ct)).Uploads);
        var all = await use.PerUserAsync(Ct);
        Assert.Equal(bytes.Length, all["ana"].Uploads);
        Assert.Equal(bytes.Length, all["bob"].Uploads);
    }

    /// <summary>The run's directory once it is running (it waits there for a "go" file).</summary>
    private async Task<string> RunDirectoryAsync(JsonElement run)
    {
        await Eventually.TrueAsync(async () =>
            (await ana.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{Id(run)}", Ct)).GetProperty("state").GetString() == "running",
            TimeSpan.FromSeconds(30), "the run to start");
        return Path.Combine(app.DataDirectory, "runs", Id(run));
    }

    private async Task SweepAsync()
    {
        using var admin = app.CreateAdminClient();
        using var response = await admin.PostAsync("/api/v1/admin/retention/sweep", null, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private List<FileInfo> Blobs()
    {
        var root = new DirectoryInfo(Path.Combine(app.DataDirectory, "blobs"));
        return root.Exists ? root.EnumerateFiles("*", SearchOption.AllDirectories).ToList() : [];
    }

    private static string Id(JsonElement e) => e.GetProperty("id").GetString()!;

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static async Task<JsonElement> ListBySha256Async(HttpClient client, string sha256) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/files?sha256={sha256}", Ct)).GetProperty("files");

    private static async Task DeleteAsync(HttpClient client, string id)
    {
        using var response = await client.DeleteAsync($"/api/v1/files/{id}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    internal static async Task<JsonElement> UploadAsync(HttpClient client, byte[] bytes, string name)
    {
        using var content = new MultipartFormDataContent();
        var part = new ByteArrayContent(bytes);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(part, "file", name);
        using var response = await client.PostAsync("/api/v1/files", content, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"upload answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
