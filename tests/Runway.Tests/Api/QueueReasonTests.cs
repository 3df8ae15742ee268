using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Runway.Runs;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>A run held back by its owner's cap says why, on its own page and in the run list.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class QueueReasonTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CapReason_ShowsInTheList_OnlyOnTheRunsThatWait()
    {
        var pipelines = Directory.CreateTempSubdirectory("runway-cap-").FullName;
        File.SetUnixFileMode(pipelines, (UnixFileMode)0b111_101_101);
        File.WriteAllText(Path.Combine(pipelines, "wait.yaml"), "name: wait\nversion: '1'\ncommand: [/bin/sh, -c, 'while [ ! -e release ]; do sleep 0.02; done']\n");
        await using var app = new RunwayApp(pipelines, concurrency: 3, settings: new Dictionary<string, string> { ["Runway:Limits:MaxRunningPerUser"] = "1" });
        using var client = await app.CreateUserClientAsync();
        var workspace = app.Services.GetRequiredService<RunWorkspace>();

        var first = (await RunwayApp.SubmitAsync(client, new { pipeline = "wait" })).GetProperty("id").GetString()!;
        await Poll.UntilAsync(async () => (await RunAsync(client, first)).GetProperty("state").GetString() == "running", "the first run to start");
        var second = (await RunwayApp.SubmitAsync(client, new { pipeline = "wait" })).GetProperty("id").GetString()!;

        const string Why = "waiting: ana has 1 runs running, the most allowed (Runway:Limits:MaxRunningPerUser = 1)";
        Assert.Equal(Why, (await RunAsync(client, second)).GetProperty("message").GetString());
        var listed = (await client.GetFromJsonAsync<JsonElement>("/api/v1/runs", Ct)).GetProperty("runs").EnumerateArray()
            .ToDictionary(r => r.GetProperty("id").GetString()!, r => r.TryGetProperty("message", out var m) ? m.GetString() : null);
        Assert.Equal(Why, listed[second]);
        Assert.Null(listed[first]);

        File.WriteAllText(Path.Combine(workspace.RunDirectory(first), "release"), "");
        await Poll.UntilAsync(async () => (await RunAsync(client, second)).GetProperty("state").GetString() == "running", "the second run to start");
        File.WriteAllText(Path.Combine(workspace.RunDirectory(second), "release"), "");
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(client, second)).GetProperty("state").GetString());
        Directory.Delete(pipelines, recursive: true);
    }

    private static async Task<JsonElement> RunAsync(HttpClient client, string id) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct);
}
