using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>How runs end, through the real endpoints, store and executor, on pipelines of the test's own.</summary>
public sealed class RunLifecycleTests : IAsyncLifetime
{
    private readonly string pipelines = Directory.CreateTempSubdirectory("runway-lifecycle-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        Write("missing", """
            name: missing
            version: "1"
            command: [/nonexistent/bin/analyse, --fast]
            """);
        Write("slow", """
            name: slow
            version: "1"
            time_limit: 1s
            command: [sleep, "30"]
            """);
        Write("versioned", """
            name: versioned
            version: "1.0.0"
            command: [echo, first edition]
            """);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(pipelines, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Run_EndsInSystemError_WithReason_WhenExecutableIsMissing()
    {
        await using var app = new RunwayApp(pipelines);
        using var client = await app.CreateUserClientAsync();

        var run = await RunwayApp.WaitFinalAsync(client, (await RunwayApp.SubmitAsync(client, new { pipeline = "missing" })).GetProperty("id").GetString()!);

        Assert.Equal("system_error", run.GetProperty("state").GetString());
        Assert.Contains("/nonexistent/bin/analyse", run.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_EndsTimedOut_WhenItOutlivesItsTimeLimit()
    {
        await using var app = new RunwayApp(pipelines);
        using var client = await app.CreateUserClientAsync();

        var run = await RunwayApp.WaitFinalAsync(client, (await RunwayApp.SubmitAsync(client, new { pipeline = "slow" })).GetProperty("id").GetString()!);

        Assert.Equal("timed_out", run.GetProperty("state").GetString());
        Assert.True(run.GetProperty("elapsed_seconds").GetDouble() < 20, run.ToString());
    }

    [Fact]
    public async Task QueuedRun_KeepsThePipelineVersionItWasSubmittedWith()
    {
        await using var app = new RunwayApp(pipelines, concurrency: 1);
        using var client = await app.CreateUserClientAsync();
        var blocker = await RunwayApp.SubmitAsync(client, new { pipeline = "slow" });
        var queued = await RunwayApp.SubmitAsync(client, new { pipeline = "versioned" });

        Write("versioned", """
            name: versioned
            version: "2.0.0"
            command: [echo, second edition]
            """);
        await Eventually.TrueAsync(async () =>
            (await client.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/versioned", Ct)).GetProperty("version").GetString() == "2.0.0",
            TimeSpan.FromSeconds(10), "the catalog to reload the edited pipeline");
        using var _ = await client.PostAsync($"/api/v1/runs/{blocker.GetProperty("id").GetString()}/cancel", null, Ct);
        var run = await RunwayApp.WaitFinalAsync(client, queued.GetProperty("id").GetString()!);

        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal("1.0.0", run.GetProperty("pipeline_version").GetString());
        var log = await client.GetStringAsync($"/api/v1/runs/{run.GetProperty("id").GetString()}/log", Ct);
        Assert.Equal("first edition\n", log);
    }

    private void Write(string name, string yaml) => File.WriteAllText(Path.Combine(pipelines, name + ".yaml"), yaml);
}
