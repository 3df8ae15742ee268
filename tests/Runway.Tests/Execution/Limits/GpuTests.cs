using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Runway.Execution;
using Runway.Execution.Local;
using Runway.Runs;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Execution.Limits;

/// <summary>
/// A node's GPUs (fake ids: the assignment is what must hold): a run asking for N waits queued until N are free,
/// sees exactly its own as CUDA_VISIBLE_DEVICES, and no GPU is ever given to two runs.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class GpuTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Pool_NeverGivesOneGpuToTwoRuns()
    {
        var pool = GpuPool.Parse("0, 1,2");

        Assert.True(pool.TryReserve("a", 2));
        Assert.False(pool.TryReserve("b", 2));
        Assert.True(pool.TryReserve("c", 1));
        Assert.False(pool.TryReserve("d", 1));

        Assert.Equal(["0", "1"], pool.Of("a"));
        Assert.Equal(["2"], pool.Of("c"));
        Assert.Empty(pool.Of("b"));
        pool.Release("a");
        Assert.Equal(2, pool.Free);
        Assert.True(pool.TryReserve("b", 2));
        Assert.Equal(["0", "1"], pool.Of("b"));
        Assert.Equal(new Dictionary<string, string?> { ["0"] = "b", ["1"] = "b", ["2"] = "c" }, pool.Use);
    }

    [Theory]
    [InlineData("0,0")]
    [InlineData("0,1;2")]
    public void Pool_RefusesIdsThatAreNotDistinctNames(string configured)
    {
        Assert.Throws<ArgumentException>(() => GpuPool.Parse(configured));
    }

    [Fact]
    public async Task Executor_GivesARunExactlyItsGpus_AndNoneToARunThatAskedForNone()
    {
        using var temp = new TempDirectory();
        var pool = GpuPool.Parse("7,8,9");
        using var executor = new LocalExecutor(TimeProvider.System, NullLogger<LocalExecutor>.Instance, gpus: pool);
        Assert.True(pool.TryReserve("gpu-run", 2));

        var withGpus = await RunAsync(executor, temp, "gpu-run", gpus: 2);
        var without = await RunAsync(executor, temp, "cpu-run", gpus: 0);

        Assert.Equal("[7,8]\n", withGpus);
        Assert.Equal("[]\n", without);
        Assert.Equal(3, pool.Free); // released when the run ended
        await Assert.ThrowsAsync<ExecutorStartException>(() => RunAsync(executor, temp, "unreserved", gpus: 1));
    }

    [Fact]
    public async Task TwoGpuRuns_OnAOneGpuNode_RunOneAfterTheOther_WhileACpuRunGoesAhead()
    {
        var pipelines = Directory.CreateTempSubdirectory("runway-gpus-").FullName;
        File.SetUnixFileMode(pipelines, (UnixFileMode)0b111_101_101);
        const string Wait = """echo "[$CUDA_VISIBLE_DEVICES]" > seen; while [ ! -e release ]; do sleep 0.02; done""";
        File.WriteAllText(Path.Combine(pipelines, "train.yaml"), $"name: train\nversion: '1'\nresources: {{gpus: 1}}\ncommand: [/bin/sh, -c, '{Wait}']\n");
        File.WriteAllText(Path.Combine(pipelines, "plot.yaml"), $"name: plot\nversion: '1'\ncommand: [/bin/sh, -c, '{Wait}']\n");
        await using var app = new RunwayApp(pipelines, concurrency: 3, settings: new Dictionary<string, string> { ["Runway:Gpus"] = "0" });
        using var client = await app.CreateUserClientAsync();
        var workspace = app.Services.GetRequiredService<RunWorkspace>();

        var first = (await RunwayApp.SubmitAsync(client, new { pipeline = "train" })).GetProperty("id").GetString()!;
        var second = (await RunwayApp.SubmitAsync(client, new { pipeline = "train" })).GetProperty("id").GetString()!;
        var cpu = (await RunwayApp.SubmitAsync(client, new { pipeline = "plot" })).GetProperty("id").GetString()!;

        // The CPU run, submitted last, starts while the second GPU run waits for the one GPU.
        await Poll.UntilAsync(() => Said(workspace, first) && Said(workspace, cpu), "the first GPU run and the CPU run to start");
        Assert.Equal("queued", await StateAsync(client, second));
        using var admin = app.CreateAdminClient();
        var ready = await admin.GetFromJsonAsync<JsonElement>("/readyz", Ct);
        Assert.Equal(first, ready.GetProperty("gpus").GetProperty("0").GetString());
        Assert.Equal("[0]\n", File.ReadAllText(Seen(workspace, first)));
        Assert.Equal("[]\n", File.ReadAllText(Seen(workspace, cpu)));

        Release(workspace, first);
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(client, first)).GetProperty("state").GetString());
        await Poll.UntilAsync(() => Said(workspace, second), "the second GPU run to start");
        Assert.Equal("[0]\n", File.ReadAllText(Seen(workspace, second)));

        Release(workspace, second);
        Release(workspace, cpu);
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(client, second)).GetProperty("state").GetString());
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(client, cpu)).GetProperty("state").GetString());
        Directory.Delete(pipelines, recursive: true);
    }

    [Fact]
    public async Task GpuUse_ShowsOnTheNodesAndTheQueue_AndAWaitingRunSaysWhy()
    {
        var pipelines = Directory.CreateTempSubdirectory("runway-gpus-").FullName;
        File.SetUnixFileMode(pipelines, (UnixFileMode)0b111_101_101);
        const string Wait = """while [ ! -e release ]; do sleep 0.02; done""";
        File.WriteAllText(Path.Combine(pipelines, "train.yaml"), $"name: train\nversion: '1'\nresources: {{gpus: 1}}\ncommand: [/bin/sh, -c, '{Wait}']\n");
        File.WriteAllText(Path.Combine(pipelines, "big.yaml"), $"name: big\nversion: '1'\nresources: {{gpus: 3}}\ncommand: [/bin/true]\n");
        await using var app = new RunwayApp(pipelines, concurrency: 3, settings: new Dictionary<string, string>
        {
            ["Runway:Gpus"] = "0,1",
            ["Runway:Nodes:HeartbeatInterval"] = "00:00:00.2",
            ["Runway:Nodes:LeaseTimeout"] = "00:00:03",
        });
        using var client = await app.CreateUserClientAsync();
        using var admin = app.CreateAdminClient();
        var workspace = app.Services.GetRequiredService<RunWorkspace>();

        // A pipeline asking for more GPUs than any node has is served, and said so at load.
        await Poll.UntilAsync(() => app.Logs.Entries.Any(e => e.Message.Contains("Pipeline big", StringComparison.Ordinal)
            && e.Message.Contains("asks for 3 GPU(s) and no active node has that many (the most one has is 2", StringComparison.Ordinal)), "the load-time warning for big");
        var big = (await RunwayApp.SubmitAsync(client, new { pipeline = "big" })).GetProperty("id").GetString()!;
        var first = (await RunwayApp.SubmitAsync(client, new { pipeline = "train" })).GetProperty("id").GetString()!;
        var second = (await RunwayApp.SubmitAsync(client, new { pipeline = "train" })).GetProperty("id").GetString()!;
        var third = (await RunwayApp.SubmitAsync(client, new { pipeline = "train" })).GetProperty("id").GetString()!;
        await Poll.UntilAsync(async () => await StateAsync(client, first) == "running" && await StateAsync(client, second) == "running", "two GPU runs to start");

        // The node list names each GPU's run, once the heartbeat said so.
        await Poll.UntilAsync(async () => (await NodeGpusAsync(admin)).Count(g => g.Run is not null) == 2, "the node list to show both GPUs held");
        Assert.Equal(new HashSet<string?> { first, second }, (await NodeGpusAsync(admin)).Select(g => g.Run).ToHashSet());
        var queuePage = await admin.GetStringAsync("/admin", Ct);
        Assert.Contains("GPUs, per node", queuePage, StringComparison.Ordinal);
        Assert.Contains($"/runs/{first}", queuePage, StringComparison.Ordinal);

        // The waiting runs say why, alone and in the list.
        Assert.Equal("waiting for 1 GPU(s); none free", await MessageAsync(client, third));
        var noNode = await MessageAsync(client, big);
        Assert.StartsWith("waiting: no active node has 3 GPU(s) (the most one has is 2", noNode, StringComparison.Ordinal);
        var listed = (await client.GetFromJsonAsync<JsonElement>("/api/v1/runs?state=queued", Ct)).GetProperty("runs").EnumerateArray()
            .ToDictionary(r => r.GetProperty("id").GetString()!, r => r.GetProperty("message").GetString());
        Assert.Equal("waiting for 1 GPU(s); none free", listed[third]);
        Assert.Equal(noNode, listed[big]);

        // A freed GPU is free in the list at once (its run no longer runs), and the third run takes it.
        Release(workspace, first);
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(client, first)).GetProperty("state").GetString());
        Assert.DoesNotContain(first, (await NodeGpusAsync(admin)).Select(g => g.Run));
        await Poll.UntilAsync(async () => await StateAsync(client, third) == "running", "the third GPU run to start");
        Assert.Null(await MessageAsync(client, third));

        Release(workspace, second);
        Release(workspace, third);
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(client, third)).GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/v1/runs/{big}/cancel", null, Ct)).StatusCode);
        Directory.Delete(pipelines, recursive: true);
    }

    private static async Task<List<(string Id, string? Run)>> NodeGpusAsync(HttpClient admin)
    {
        var node = Assert.Single((await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/nodes", Ct)).GetProperty("nodes").EnumerateArray());
        return [.. node.GetProperty("gpus").EnumerateArray().Select(g => (g.GetProperty("id").GetString()!, g.TryGetProperty("run", out var run) ? run.GetString() : null))];
    }

    private static async Task<string?> MessageAsync(HttpClient client, string id) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct)).TryGetProperty("message", out var m) ? m.GetString() : null;

    private static async Task<string> RunAsync(LocalExecutor executor, TempDirectory temp, string runId, int gpus)
    {
        var directory = Directory.CreateDirectory(temp.Combine(runId)).FullName;
        var spec = new RunSpec { Argv = ["/bin/sh", "-c", "echo \"[$CUDA_VISIBLE_DEVICES]\""], Resources = new PipelineResources { Gpus = gpus } };
        var handle = await executor.StartAsync(new RunLaunch(runId, directory, spec), Ct);
        Assert.Equal(0, (await Poll.CompletesAsync(handle.Exited)).ExitCode);
        return File.ReadAllText(Path.Combine(directory, RunFiles.Stdout));
    }

    private static string Seen(RunWorkspace workspace, string id) => Path.Combine(workspace.RunDirectory(id), "seen");

    /// <summary>Whether the run has written its line: the shell makes the file (its redirection) before echo writes to it.</summary>
    private static bool Said(RunWorkspace workspace, string id) =>
        File.Exists(Seen(workspace, id)) && File.ReadAllText(Seen(workspace, id)).EndsWith('\n');

    private static void Release(RunWorkspace workspace, string id) => File.WriteAllText(Path.Combine(workspace.RunDirectory(id), "release"), "");

    private static async Task<string?> StateAsync(HttpClient client, string id) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct)).GetProperty("state").GetString();
}
