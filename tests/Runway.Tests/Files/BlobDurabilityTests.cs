using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Files;

/// <summary>
/// An upload's blob is on disk under its name before the upload is answered: its bytes are synced under the temporary
/// name, and its name, a link in the blob's shard directory, by a sync of that directory. A crash cannot be staged
/// here, so the server's own process is traced (strace) for the order of the calls.
/// </summary>
public sealed class BlobDurabilityTests : IAsyncDisposable
{
    private readonly TempDirectory data = new();
    private readonly TempDirectory pipelines = new();
    private readonly TempDirectory traces = new(); // not the server's pipelines directory, which it reads

    public ValueTask DisposeAsync()
    {
        data.Dispose();
        pipelines.Dispose();
        traces.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Upload_SyncsTheShardDirectory_AfterLinkingTheBlob()
    {
        var bytes = RandomNumberGenerator.GetBytes(4096);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));

        var lines = await UploadTracedAsync(bytes);

        // The link names the path as the server built it; strace -y names a descriptor by its resolved path.
        var shard = $"/blobs/{sha256[..2]}";
        var placed = Array.FindIndex(lines, l => l.Contains($"{shard}/{sha256}\"", StringComparison.Ordinal) && l.EndsWith("= 0", StringComparison.Ordinal));
        Assert.True(placed >= 0, $"no link of the blob {sha256} in the server's trace:\n" + string.Join('\n', lines));
        Assert.Contains(lines.Skip(placed + 1), l => l.Contains("fsync(", StringComparison.Ordinal) && l.Contains($"{shard}>)", StringComparison.Ordinal) && l.EndsWith("= 0", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(data.Path, "blobs", sha256[..2], sha256)));
    }

    [Fact]
    public async Task Upload_SyncsBlobs_WhenItsShardWasMadeByAnotherProcess()
    {
        // The shard's directory is there from an earlier process (one that may have crashed before syncing blobs/, or
        // an upload still in flight): this process has not made its name durable, so the first upload into it must.
        var bytes = RandomNumberGenerator.GetBytes(4096);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Directory.CreateDirectory(Path.Combine(data.Path, "blobs", sha256[..2]));

        var lines = await UploadTracedAsync(bytes);

        var placed = Array.FindIndex(lines, l => l.Contains($"/blobs/{sha256[..2]}/{sha256}\"", StringComparison.Ordinal) && l.EndsWith("= 0", StringComparison.Ordinal));
        Assert.True(placed >= 0, $"no link of the blob {sha256} in the server's trace:\n" + string.Join('\n', lines));
        Assert.Contains(lines.Skip(placed + 1), l => l.Contains("fsync(", StringComparison.Ordinal) && l.Contains("/blobs>)", StringComparison.Ordinal) && l.EndsWith("= 0", StringComparison.Ordinal));
    }

    /// <summary>Starts a server on the test's data directory and uploads <paramref name="bytes"/> with strace attached: its calls.</summary>
    private async Task<string[]> UploadTracedAsync(byte[] bytes)
    {
        await using var server = new RunwayProcess(data.Path, pipelines.Path);
        await server.StartAsync();
        using var http = server.CreateClient();
        await using var trace = await Strace.AttachAsync(server.ProcessId!.Value, "link,linkat,rename,renameat,renameat2,fsync,fdatasync", traces.Combine("server.strace"));
        using var content = new MultipartFormDataContent();
        var part = new ByteArrayContent(bytes);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(part, "file", "sample.bin");
        using var response = await http.PostAsync("/api/v1/files", content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await trace.StopAsync();
    }
}
