using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Execution.Limits;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>A finished run's resources_used, through the real server, store and local executor.</summary>
public sealed class ResourcesUsedTests : IDisposable
{
    private readonly string pipelines = Directory.CreateTempSubdirectory("runway-usage-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ResourcesUsedTests()
    {
        var argv = string.Join(", ", ResourceUseTests.Burner.Select(a => JsonSerializer.Serialize(a)));
        File.WriteAllText(Path.Combine(pipelines, "burn.yaml"), $"name: burn\nversion: \"1\"\ncommand: [{argv}]\n");
    }

    public void Dispose() => Directory.Delete(pipelines, recursive: true);

    [Fact]
    public async Task Run_ShowsWallCpuAndPeakMemory_OnTheApiTheArchiveAndTheCli()
    {
        await using var app = new RunwayApp(pipelines);
        using var client = await app.CreateUserClientAsync();

        var run = await RunwayApp.WaitFinalAsync(client, (await RunwayApp.SubmitAsync(client, new { pipeline = "burn" })).GetProperty("id").GetString()!, TimeSpan.FromSeconds(60));

        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        var used = run.GetProperty("resources_used");
        Assert.InRange(used.GetProperty("cpu_seconds").GetDouble(), 0.95, 10);
        Assert.InRange(used.GetProperty("peak_memory_bytes").GetInt64(), 100 * ResourceUseTests.MiB, 1024 * ResourceUseTests.MiB);
        Assert.InRange(used.GetProperty("wall_seconds").GetDouble(), 0.95, run.GetProperty("elapsed_seconds").GetDouble() + 1);

        var id = run.GetProperty("id").GetString()!;
        await using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(await client.GetByteArrayAsync($"/api/v1/runs/{id}/archive", Ct)), System.IO.Compression.CompressionMode.Decompress);
        using var tar = new MemoryStream();
        await gzip.CopyToAsync(tar, Ct);
        var archive = PlantedRuns.Entries(tar.ToArray());
        var record = JsonDocument.Parse(Assert.Single(archive, e => e.Name == $"{id}/run.json").Data).RootElement;
        Assert.Equal(used.GetProperty("peak_memory_bytes").GetInt64(), record.GetProperty("resources_used").GetProperty("peak_memory_bytes").GetInt64());

        using var web = new Runway.Tests.Web.WebClient(app);
        await web.SignInOrFailAsync("ana");
        var page = await web.Http.GetStringAsync($"/runs/{id}", Ct);
        Assert.Matches("id=\"peak-memory\">[0-9.]+ MB<", page);
    }
}
