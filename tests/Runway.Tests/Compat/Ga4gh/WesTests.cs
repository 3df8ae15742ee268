using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Runway.Compat.Ga4gh.Wes;
using Runway.Runs;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Compat.Ga4gh;

/// <summary>GA4GH WES 1.1 at /ga4gh/wes/v1, driven the way wes-client drives it, on pipelines of the test's own.</summary>
public sealed class WesTests : IAsyncLifetime
{
    private readonly string pipelines = Directory.CreateTempSubdirectory("runway-wes-").FullName;
    private RunwayApp app = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        Write("count", """
            name: count
            version: 1.2.0
            parameters:
              input: {type: file, required: true}
              label: {type: string, default: bytes}
            command: [/bin/sh, -c, 'printf "%s %s\n" "$(wc -c < "$1" | tr -d " ")" "$3" | tee "$2/count.txt"', count, "{input}", "{run_dir}", "{label}"]
            outputs: [count.txt]
            """);
        Write("fail", """
            name: fail
            version: "1"
            command: [/bin/sh, -c, 'echo broken >&2; exit 3']
            """);
        Write("nap", """
            name: nap
            version: "1"
            command: [sleep, "60"]
            """);
        Write("greet", """
            name: greet
            version: "1"
            parameters: {who: {type: string, default: world}}
            command: [echo, "{who}"]
            """);
        app = new RunwayApp(pipelines);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        Directory.Delete(pipelines, recursive: true);
    }

    private void Write(string name, string yaml) => File.WriteAllText(Path.Combine(pipelines, $"{name}.yaml"), yaml);

    private async Task<WesClient> ClientAsync(string user = "ana", IReadOnlyList<string>? scopes = null) => new(await app.CreateUserClientAsync(user, scopes));

    private static async Task<JsonElement> WaitAsync(WesClient wes, string runId, params string[] states)
    {
        await Eventually.TrueAsync(async () => Array.IndexOf(states, await wes.StateAsync(runId)) >= 0, TimeSpan.FromSeconds(30), $"run {runId} to be {string.Join(" or ", states)}");
        return await wes.GetAsync($"/runs/{runId}");
    }

    [Fact]
    public async Task Run_WithAnAttachmentAsItsFileParameter_CompletesWithLogsAndOutputs()
    {
        var wes = await ClientAsync();

        var runId = await wes.SubmitAsync("count@1.2.0", new { input = "words.txt", label = "chars" },
            new Dictionary<string, byte[]> { ["words.txt"] = "twelve bytes"u8.ToArray() }, tags: new { project = "p1" });
        var log = await WaitAsync(wes, runId, "COMPLETE", "EXECUTOR_ERROR", "SYSTEM_ERROR");

        Assert.Equal("COMPLETE", log.GetProperty("state").GetString());
        Assert.Equal(runId, log.GetProperty("run_id").GetString());
        var request = log.GetProperty("request");
        Assert.Equal("RUNWAY", request.GetProperty("workflow_type").GetString());
        Assert.Equal("1.2.0", request.GetProperty("workflow_type_version").GetString());
        Assert.Equal("count@1.2.0", request.GetProperty("workflow_url").GetString());
        Assert.Equal("p1", request.GetProperty("tags").GetProperty("project").GetString());
        Assert.StartsWith("f_", request.GetProperty("workflow_params").GetProperty("input").GetString());
        var runLog = log.GetProperty("run_log");
        Assert.Equal("/bin/sh", runLog.GetProperty("cmd")[0].GetString());
        Assert.Equal(0, runLog.GetProperty("exit_code").GetInt32());
        Assert.EndsWith("Z", runLog.GetProperty("start_time").GetString());
        Assert.EndsWith("Z", runLog.GetProperty("end_time").GetString());
        Assert.Equal("12 chars\n", await wes.Http.GetStringAsync(runLog.GetProperty("stdout").GetString(), Ct));
        Assert.Equal("12 chars\n", await wes.Http.GetStringAsync(log.GetProperty("outputs").GetProperty("count.txt").GetString(), Ct));

        var tasks = await wes.Http.GetFromJsonAsync<JsonElement>(log.GetProperty("task_logs_url").GetString(), Ct);
        var task = Assert.Single(tasks.GetProperty("task_logs").EnumerateArray());
        Assert.Equal("", tasks.GetProperty("next_page_token").GetString());
        Assert.Equal("count", task.GetProperty("name").GetString());
        var byId = await wes.GetAsync($"/runs/{runId}/tasks/{task.GetProperty("id").GetString()}");
        Assert.Equal(0, byId.GetProperty("exit_code").GetInt32());

        // The attachment is the caller's upload now, under its own name.
        var files = await wes.Http.GetFromJsonAsync<JsonElement>("/api/v1/files", Ct);
        Assert.Contains(files.GetProperty("files").EnumerateArray(), f => f.GetProperty("name").GetString() == "words.txt");
    }

    [Fact]
    public async Task ServiceInfo_ListsPipelinesAsRunwayVersions_AndTheCallersStateCounts()
    {
        var wes = await ClientAsync();
        var runId = await wes.SubmitAsync("greet", new { who = "x" });
        await WaitAsync(wes, runId, "COMPLETE");

        var info = await wes.GetAsync("/service-info");

        var versions = info.GetProperty("workflow_type_versions").GetProperty("RUNWAY").GetProperty("workflow_type_version").EnumerateArray().Select(v => v.GetString()).ToList();
        Assert.Contains("count@1.2.0", versions);
        Assert.Contains("greet@1", versions);
        Assert.Equal(1, info.GetProperty("system_state_counts").GetProperty("COMPLETE").GetInt64());
        Assert.Equal(0, info.GetProperty("system_state_counts").GetProperty("QUEUED").GetInt64());
        Assert.Equal("1.1.0", info.GetProperty("supported_wes_versions")[0].GetString());
        Assert.Equal("wes", info.GetProperty("type").GetProperty("artifact").GetString());
        foreach (var required in new[] { "supported_filesystem_protocols", "workflow_engine_versions", "default_workflow_engine_parameters", "auth_instructions_url", "tags" })
        {
            Assert.True(info.TryGetProperty(required, out _), required);
        }
    }

    // GA4GH service-info is public (Sapporo, wes-client and the compliance runners call it without a token), but tells
    // a stranger nothing of anyone's runs, nor the names of pipelines kept for some groups.
    [Fact]
    public async Task ServiceInfo_IsPublic_WithoutStateCounts_NorGroupOnlyPipelines()
    {
        Write("secret", """
            name: secret
            version: "1"
            allowed_groups: [lab]
            command: [echo, hi]
            """);
        var wes = await ClientAsync();
        var runId = await wes.SubmitAsync("greet", new { who = "x" });
        await WaitAsync(wes, runId, "COMPLETE");
        using var anonymous = app.CreateClient();

        using var response = await anonymous.GetAsync("/ga4gh/wes/v1/service-info", Ct);
        var info = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("wes", info.GetProperty("type").GetProperty("artifact").GetString());
        var versions = info.GetProperty("workflow_type_versions").GetProperty("RUNWAY").GetProperty("workflow_type_version").EnumerateArray().Select(v => v.GetString()).ToList();
        Assert.Contains("greet@1", versions);
        Assert.DoesNotContain("secret@1", versions);
        Assert.Empty(info.GetProperty("system_state_counts").EnumerateObject());
    }

    [Fact]
    public async Task ListRuns_PagesWithPageToken_AndFiltersByStateAndTag()
    {
        var wes = await ClientAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await wes.SubmitAsync("greet", new { who = $"n{i}" }, tags: new { batch = i == 0 ? "first" : "rest" }));
        }
        foreach (var id in ids)
        {
            await WaitAsync(wes, id, "COMPLETE");
        }

        var first = await wes.GetAsync("/runs?page_size=2");
        var token = first.GetProperty("next_page_token").GetString();
        var second = await wes.GetAsync($"/runs?page_size=2&page_token={token}");

        Assert.Equal([ids[2], ids[1]], first.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("run_id").GetString()));
        Assert.Equal([ids[0]], second.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("run_id").GetString()));
        Assert.Equal("", second.GetProperty("next_page_token").GetString());
        Assert.Equal("COMPLETE", first.GetProperty("runs")[0].GetProperty("state").GetString());
        Assert.Equal("rest", first.GetProperty("runs")[0].GetProperty("tags").GetProperty("batch").GetString());
        Assert.Equal([ids[0]], (await wes.GetAsync("/runs?tags=batch:first")).GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("run_id").GetString()));
        Assert.Equal(3, (await wes.GetAsync("/runs?state=COMPLETE")).GetProperty("runs").GetArrayLength());
        Assert.Equal(0, (await wes.GetAsync("/runs?state=EXECUTOR_ERROR")).GetProperty("runs").GetArrayLength());
        await AssertErrorAsync(await wes.Http.GetAsync("/ga4gh/wes/v1/runs?page_token=nonsense", Ct), 400, "page_token");
        await AssertErrorAsync(await wes.Http.GetAsync("/ga4gh/wes/v1/runs?state=DONE", Ct), 400, "DONE");
    }

    // Sapporo's extensions (sapporo-service, sapporo/routers.py list_runs): sort_order=asc|desc (default desc) and
    // run_ids repeated; another user's run id is simply not there.
    [Fact]
    public async Task ListRuns_SortOrderAscOrDesc_AndRunIdsFilter_AsSapporo()
    {
        var wes = await ClientAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await wes.SubmitAsync("greet", new { who = $"n{i}" }));
        }
        var bob = await ClientAsync("bob");
        var bobs = await bob.SubmitAsync("greet", new { who = "bob" });

        static IEnumerable<string?> Ids(JsonElement list) => list.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("run_id").GetString());
        var first = await wes.GetAsync("/runs?sort_order=asc&page_size=2");
        var second = await wes.GetAsync($"/runs?sort_order=asc&page_size=2&page_token={first.GetProperty("next_page_token").GetString()}");

        Assert.Equal([ids[0], ids[1]], Ids(first));
        Assert.Equal([ids[2]], Ids(second));
        Assert.Equal([ids[2], ids[1], ids[0]], Ids(await wes.GetAsync("/runs?sort_order=desc")));
        Assert.Equal([ids[2], ids[0]], Ids(await wes.GetAsync($"/runs?run_ids={ids[0]}&run_ids={ids[2]}&run_ids={bobs}")));
        Assert.Equal([ids[0]], Ids(await wes.GetAsync($"/runs?run_ids={ids[0]}&run_ids={ids[2]}&sort_order=asc&page_size=1")));
        await AssertErrorAsync(await wes.Http.GetAsync("/ga4gh/wes/v1/runs?sort_order=sideways", Ct), 400, "sort_order");
    }

    [Theory]
    [InlineData(RunState.Queued, false, "QUEUED")]
    [InlineData(RunState.Running, false, "RUNNING")]
    [InlineData(RunState.Running, true, "CANCELING")]
    [InlineData(RunState.Succeeded, false, "COMPLETE")]
    [InlineData(RunState.Failed, false, "EXECUTOR_ERROR")]
    [InlineData(RunState.TimedOut, false, "EXECUTOR_ERROR")]
    [InlineData(RunState.Canceled, true, "CANCELED")]
    [InlineData(RunState.SystemError, false, "SYSTEM_ERROR")]
    public void State_MapsAsTheIssueSays(RunState state, bool canceling, string wes) => Assert.Equal(wes, WesStates.Of(state, canceling));

    [Fact]
    public void State_CoversEveryRunState() =>
        Assert.All(RunStates.All, s => Assert.NotEqual("UNKNOWN", WesStates.Of(s, canceling: false)));

    [Fact]
    public async Task FailedRun_IsExecutorError_WithItsExitCodeAndReason()
    {
        var wes = await ClientAsync();
        var runId = await wes.SubmitAsync("fail", new { });

        var log = await WaitAsync(wes, runId, "EXECUTOR_ERROR", "COMPLETE", "SYSTEM_ERROR");

        Assert.Equal("EXECUTOR_ERROR", log.GetProperty("state").GetString());
        Assert.Equal(3, log.GetProperty("run_log").GetProperty("exit_code").GetInt32());
        Assert.StartsWith("failed", log.GetProperty("run_log").GetProperty("system_logs")[0].GetString());
        Assert.Equal("broken\n", await wes.Http.GetStringAsync(log.GetProperty("run_log").GetProperty("stderr").GetString(), Ct));
    }

    [Fact]
    public async Task Cancel_StopsARunningRun_WhichEndsCanceled()
    {
        var wes = await ClientAsync();
        var runId = await wes.SubmitAsync("nap", new { });
        await WaitAsync(wes, runId, "RUNNING");

        using var cancel = await wes.Http.PostAsync($"/ga4gh/wes/v1/runs/{runId}/cancel", null, Ct);

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal(runId, (await cancel.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("run_id").GetString());
        Assert.True(await wes.StateAsync(runId) is "CANCELING" or "CANCELED");
        await WaitAsync(wes, runId, "CANCELED");
    }

    [Fact]
    public async Task AnotherUsersRun_IsNotFound_AsAnErrorResponse()
    {
        var ana = await ClientAsync("ana");
        var runId = await ana.SubmitAsync("greet", new { });
        var ben = await ClientAsync("ben");

        await AssertErrorAsync(await ben.Http.GetAsync($"/ga4gh/wes/v1/runs/{runId}", Ct), 404, runId);
        await AssertErrorAsync(await ben.Http.GetAsync($"/ga4gh/wes/v1/runs/{runId}/status", Ct), 404, runId);
        await AssertErrorAsync(await ben.Http.GetAsync($"/ga4gh/wes/v1/runs/{runId}/tasks", Ct), 404, runId);
        await AssertErrorAsync(await ben.Http.PostAsync($"/ga4gh/wes/v1/runs/{runId}/cancel", null, Ct), 404, runId);
        Assert.Equal(0, (await ben.GetAsync("/runs")).GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public async Task BadRequests_AreErrorResponses_AndLeaveNoAttachmentBehind()
    {
        var wes = await ClientAsync();
        var words = new Dictionary<string, byte[]> { ["words.txt"] = "abc"u8.ToArray() };

        await AssertErrorAsync(await wes.RunAsync("nosuchpipeline", new { }, attachments: words), 400, "nosuchpipeline");
        await AssertErrorAsync(await wes.RunAsync("count@9.9.9", new { input = "words.txt" }, attachments: words), 400, "1.2.0");
        await AssertErrorAsync(await wes.RunAsync("count", new { input = "words.txt" }, workflowType: "CWL", attachments: words), 400, "RUNWAY");
        await AssertErrorAsync(await wes.RunAsync("count", new { input = "missing.txt" }, attachments: words), 400, "workflow_params.input");
        await AssertErrorAsync(await wes.RunAsync("count", "[1, 2]"), 400, "workflow_params");
        await AssertErrorAsync(await wes.RunAsync("count", new { input = "../x" }, attachments: new Dictionary<string, byte[]> { ["../x"] = [1] }), 400, "..");
        await AssertErrorAsync(await wes.RunAsync("count", new { input = "d/x" }, attachments: new Dictionary<string, byte[]> { ["d/x"] = [1] }), 400, "d/x");

        var files = await wes.Http.GetFromJsonAsync<JsonElement>("/api/v1/files", Ct);
        Assert.Equal(0, files.GetProperty("files").GetArrayLength());
    }

    [Fact]
    public async Task Unauthenticated_Is401AsAnErrorResponse()
    {
        using var anonymous = app.CreateClient();
        anonymous.DefaultRequestHeaders.Accept.ParseAdd("application/json");

        await AssertErrorAsync(await anonymous.GetAsync("/ga4gh/wes/v1/runs", Ct), 401, "token");
    }

    [Fact]
    public async Task Attachments_NeedTheFilesWriteScope()
    {
        var wes = await ClientAsync("ana", ["runs:read", "runs:write"]);

        await AssertErrorAsync(await wes.RunAsync("count", new { input = "w" }, attachments: new Dictionary<string, byte[]> { ["w"] = [1] }), 403, "files:write");
        Assert.Equal("COMPLETE", (await WaitAsync(wes, await wes.SubmitAsync("greet", new { }), "COMPLETE")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task OpenApi_DescribesTheWesEndpoints()
    {
        using var client = app.CreateClient();

        var paths = (await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Ct)).GetProperty("paths");

        Assert.True(paths.TryGetProperty("/ga4gh/wes/v1/runs", out _));
        Assert.True(paths.TryGetProperty("/ga4gh/wes/v1/runs/{run_id}/tasks/{task_id}", out _));
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, int status, string inMessage)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
            var error = JsonDocument.Parse(text).RootElement;
            Assert.Equal(status, error.GetProperty("status_code").GetInt32());
            Assert.Contains(inMessage, error.GetProperty("msg").GetString(), StringComparison.Ordinal);
        }
    }
}
