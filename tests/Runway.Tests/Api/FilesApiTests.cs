using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

public sealed class FilesApiTests : IAsyncLifetime
{
    private readonly RunwayApp app = new();
    private HttpClient client = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => client = await app.CreateUserClientAsync();

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Upload_StoresFileWithSizeAndSha256()
    {
        var bytes = Encoding.UTF8.GetBytes("the quick brown fox\n");

        var file = await UploadAsync(bytes, "fox.txt");
        var id = file.GetProperty("id").GetString()!;
        var back = await client.GetByteArrayAsync($"/api/v1/files/{id}", Ct);

        Assert.StartsWith("f_", id, StringComparison.Ordinal);
        Assert.Equal(bytes.Length, file.GetProperty("size").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), file.GetProperty("sha256").GetString());
        Assert.Equal("fox.txt", file.GetProperty("name").GetString());
        Assert.Equal(bytes, back);
    }

    [Theory]
    [InlineData("../../../../tmp/runway-escape.txt")]
    [InlineData("/etc/runway-escape.txt")]
    [InlineData("..")]
    public async Task Upload_KeepsOnlyTheBaseName_WhenNameIsAPath(string name)
    {
        var file = await UploadAsync("x"u8.ToArray(), name);

        var stored = file.GetProperty("name").GetString()!;
        Assert.DoesNotContain("/", stored, StringComparison.Ordinal);
        Assert.NotEqual("..", stored);
        Assert.False(File.Exists("/tmp/runway-escape.txt"));
        Assert.False(File.Exists("/etc/runway-escape.txt"));
        Assert.All(Directory.EnumerateFiles(Path.Combine(app.DataDirectory, "files")), f => Assert.StartsWith("f_", Path.GetFileName(f), StringComparison.Ordinal));
    }

    /// <summary>
    /// A file whose bytes are gone from the data directory (a crash between its row and its blob, a disk restored from an
    /// older backup) is answered with a problem that says so, not a 500 from the missing file.
    /// </summary>
    [Fact]
    public async Task Download_Answers410_WhenTheFilesBytesAreGone()
    {
        var bytes = RandomNumberGenerator.GetBytes(64);
        var id = (await UploadAsync(bytes, "lost.bin")).GetProperty("id").GetString()!;
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        File.Delete(Path.Combine(app.DataDirectory, "blobs", sha256[..2], sha256));

        using var response = await client.GetAsync($"/api/v1/files/{id}", Ct);

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(id, (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_Answers413_AndKeepsNothing_WhenOverTheLimit()
    {
        using var content = Multipart(new byte[2 * 1024 * 1024], "big.bin");
        using var response = await client.PostAsync("/api/v1/files", content, Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(app.DataDirectory, "files")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(app.DataDirectory, "tmp")));
        using var after = await client.GetAsync("/api/v1/files", Ct);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Upload_Answers4xx_WhenNotMultipart()
    {
        using var content = new StringContent("hello", Encoding.UTF8, "text/plain");
        using var response = await client.PostAsync("/api/v1/files", content, Ct);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Delete_RemovesFile()
    {
        var id = (await UploadAsync("x"u8.ToArray(), "x.txt")).GetProperty("id").GetString()!;

        using var deleted = await client.DeleteAsync($"/api/v1/files/{id}", Ct);
        using var again = await client.GetAsync($"/api/v1/files/{id}", Ct);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.False(File.Exists(Path.Combine(app.DataDirectory, "files", id)));
    }

    [Fact]
    public async Task Outputs_OfAPipelineWithoutGlobs_LeaveOutTheExecutorsOwnFiles()
    {
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "sleep", @params = new { seconds = 0 } })).GetProperty("id").GetString()!;
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(client, id)).GetProperty("state").GetString());

        var outputs = await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}/outputs", Ct);

        // The run wrote nothing of its own: run.sh, pid, pid.wrapper, pid_start, exit_code and the logs are Runway's.
        Assert.Empty(outputs.GetProperty("outputs").EnumerateArray());
    }

    [Fact]
    public async Task Run_ReadsUploadedFile_AndServesOutputsRangesAndArchive()
    {
        var text = string.Join('\n', Enumerable.Repeat("alpha beta gamma alpha delta", 50));
        var fileId = (await UploadAsync(Encoding.UTF8.GetBytes(text), "words.txt")).GetProperty("id").GetString()!;

        var submitted = await RunwayApp.SubmitAsync(client, new { pipeline = "wordstats", @params = new { input = fileId } });
        var id = submitted.GetProperty("id").GetString()!;
        var run = await RunwayApp.WaitFinalAsync(client, id);
        Assert.Equal("succeeded", run.GetProperty("state").GetString());

        var outputs = await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}/outputs", Ct);
        var paths = outputs.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("path").GetString()).ToList();
        Assert.Contains("counts.tsv", paths);
        Assert.Contains("lengths.svg", paths);

        var counts = await client.GetStringAsync($"/api/v1/runs/{id}/outputs/counts.tsv", Ct);
        Assert.Contains("alpha", counts, StringComparison.Ordinal);

        using var ranged = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/runs/{id}/outputs/counts.tsv");
        ranged.Headers.Range = new RangeHeaderValue(0, 4);
        using var partial = await client.SendAsync(ranged, Ct);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(counts[..5], await partial.Content.ReadAsStringAsync(Ct));

        await using var archive = await client.GetStreamAsync($"/api/v1/runs/{id}/archive", Ct);
        await using var gzip = new GZipStream(archive, CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        var names = new List<string>();
        while (await tar.GetNextEntryAsync(cancellationToken: Ct) is { } entry)
        {
            names.Add(entry.Name);
        }
        Assert.Contains($"{id}/counts.tsv", names);
        Assert.Contains($"{id}/stdout.log", names);
    }

    [Theory]
    [InlineData("..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("%2E%2E/%2E%2E/runway.db")]
    [InlineData("inputs/..%2F..%2F..%2Frunway.db")]
    public async Task Output_Answers4xx_WhenPathLeavesTheRunDirectory(string path)
    {
        var submitted = await RunwayApp.SubmitAsync(client, new { pipeline = "hello" });
        var id = submitted.GetProperty("id").GetString()!;
        await RunwayApp.WaitFinalAsync(client, id);

        using var response = await client.GetAsync($"/api/v1/runs/{id}/outputs/{path}", Ct);

        Assert.True((int)response.StatusCode is >= 400 and < 500, $"answered {(int)response.StatusCode}");
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("root:", body, StringComparison.Ordinal);
        Assert.DoesNotContain("SQLite format", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_Follow_StreamsUntilTheRunEnds()
    {
        var submitted = await RunwayApp.SubmitAsync(client, new { pipeline = "hello", @params = new { name = "follower" } });
        var id = submitted.GetProperty("id").GetString()!;

        var log = await client.GetStringAsync($"/api/v1/runs/{id}/log?follow=true", Ct);

        Assert.Contains("follower", log, StringComparison.Ordinal);
        var run = await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct);
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
    }

    private async Task<JsonElement> UploadAsync(byte[] bytes, string name)
    {
        using var content = Multipart(bytes, name);
        using var response = await client.PostAsync("/api/v1/files", content, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"upload answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static MultipartFormDataContent Multipart(byte[] bytes, string name)
    {
        var content = new MultipartFormDataContent();
        var part = new ByteArrayContent(bytes);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(part, "file", name);
        return content;
    }
}
