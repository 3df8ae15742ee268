using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>Issue 14's batches over JSON: whole-batch validation, fan-out, counts and state, cancel, archive, ownership.</summary>
public sealed class BatchesApiTests : IAsyncLifetime
{
    private readonly string pipelines = BatchPipelines.Create();
    private readonly RunwayApp app;
    private HttpClient client = null!;
    private static readonly string[] EchoOnly = ["echo"];
    private static readonly string[] EchoAndShout = ["echo", "shout"];
    private static readonly string[] EchoAndSecret = ["echo", "secret"];
    private static readonly string[] EchoAndNap = ["echo", "nap"];
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public BatchesApiTests() => app = new RunwayApp(pipelines, concurrency: 2, settings: new Dictionary<string, string> { ["Runway:Batches:MaxRows"] = "20" });

    public async ValueTask InitializeAsync() => client = await app.CreateUserClientAsync("ana");

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        await app.DisposeAsync();
        Directory.Delete(pipelines, recursive: true);
    }

    [Fact]
    public async Task Submit_QueuesARunPerRow_AndTheBatchSucceeds()
    {
        var batch = await SubmitAsync(client, new { pipeline = "echo", rows = new object[] { new { word = "a" }, new { word = "b", times = 2 }, new { word = "c" } }, name = "three", tags = new { project = "m31" }, cache = false });
        var id = batch.GetProperty("id").GetString()!;
        Assert.StartsWith("b_", id, StringComparison.Ordinal);
        Assert.Equal(3, batch.GetProperty("total").GetInt32());
        Assert.False(batch.GetProperty("cache").GetBoolean());

        var done = await WaitBatchAsync(client, id);

        Assert.Equal("succeeded", done.GetProperty("state").GetString());
        Assert.Equal(3, done.GetProperty("counts").GetProperty("succeeded").GetInt32());
        Assert.Equal(0, done.GetProperty("counts").GetProperty("queued").GetInt32());
        var runs = done.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(3, runs.Count);
        Assert.All(runs, r => Assert.Equal(id, r.GetProperty("batch_id").GetString()));
        Assert.All(runs, r => Assert.Equal("m31", r.GetProperty("tags").GetProperty("project").GetString()));
        Assert.Equal(["a", "b", "c"], runs.Select(r => r.GetProperty("params").GetProperty("word").GetString()).Order());
        var filtered = await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs?batch_id={id}", Ct);
        Assert.Equal(3, filtered.GetProperty("runs").GetArrayLength());
        await RunwayApp.SubmitAsync(client, new { pipeline = "echo", @params = new { word = "alone" } });
        Assert.Equal(3, (await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs?batch_id={id}", Ct)).GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public async Task Submit_RefusesTheWholeBatch_ListingEveryBadRowAndField()
    {
        using var response = await client.PostAsJsonAsync("/api/v1/batches", new
        {
            pipeline = "echo",
            rows = new object[] { new { word = "fine" }, new { word = "x", times = "many" }, new { times = 2 }, new { word = "y", colour = "red" }, new { word = "z", times = 99 } },
        }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("rows[2].params.times", out _), problem.ToString());
        Assert.True(errors.TryGetProperty("rows[3].params.word", out _), problem.ToString());
        Assert.True(errors.TryGetProperty("rows[4].params.colour", out _), problem.ToString());
        Assert.True(errors.TryGetProperty("rows[5].params.times", out _), problem.ToString());
        Assert.False(errors.TryGetProperty("rows[1].params.word", out _));
        var rows = problem.GetProperty("problems").EnumerateArray().Select(p => p.GetProperty("row").GetInt32()).Order().ToList();
        Assert.Equal([2, 3, 4, 5], rows);
        await AssertNothingStoredAsync(client);
    }

    [Fact]
    public async Task Submit_RefusesMoreRowsThanTheCap_AndAnEmptyBatch()
    {
        using var many = await client.PostAsJsonAsync("/api/v1/batches", new { pipeline = "echo", rows = Enumerable.Range(0, 21).Select(i => new { word = $"w{i}" }) }, RunwayApp.Json, Ct);
        using var none = await client.PostAsJsonAsync("/api/v1/batches", new { pipeline = "echo", rows = Array.Empty<object>() }, RunwayApp.Json, Ct);
        using var both = await client.PostAsJsonAsync("/api/v1/batches", new { pipeline = "echo", rows = new[] { new { word = "a" } }, pipelines = EchoOnly }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, many.StatusCode);
        Assert.Contains("at most 20", await many.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, none.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, both.StatusCode);
        await AssertNothingStoredAsync(client);
    }

    [Fact]
    public async Task FanOut_RunsEveryPipeline_WithItsOwnDefaults()
    {
        var batch = await SubmitAsync(client, new { pipelines = EchoAndShout, @params = new { word = "hi" } });

        var done = await WaitBatchAsync(client, batch.GetProperty("id").GetString()!);

        Assert.Equal("succeeded", done.GetProperty("state").GetString());
        var runs = done.GetProperty("runs").EnumerateArray().ToDictionary(r => r.GetProperty("pipeline").GetString()!);
        Assert.Equal(1, runs["echo"].GetProperty("params").GetProperty("times").GetInt32());
        Assert.Equal(3, runs["shout"].GetProperty("params").GetProperty("times").GetInt32());
        Assert.Equal(["echo", "shout"], done.GetProperty("pipelines").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task FanOut_IsRefusedWhole_WhenOnePipelineIsNotTheCallers()
    {
        using var response = await client.PostAsJsonAsync("/api/v1/batches", new { pipelines = EchoAndSecret, @params = new { word = "hi" } }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("secret", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        await AssertNothingStoredAsync(client);
    }

    [Fact]
    public async Task FanOut_NamesThePipelineOfEachProblem()
    {
        using var response = await client.PostAsJsonAsync("/api/v1/batches", new { pipelines = EchoAndNap, @params = new { word = "hi" } }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var only = Assert.Single(problem.GetProperty("problems").EnumerateArray());
        Assert.Equal(("nap", "params.word"), (only.GetProperty("pipeline").GetString(), only.GetProperty("field").GetString()));
        Assert.True(problem.GetProperty("errors").TryGetProperty("pipelines[nap].params.word", out _));
    }

    [Fact]
    public async Task State_IsPartlyFailed_ListingTheFailedRuns()
    {
        var batch = await SubmitAsync(client, new { pipeline = "echo", rows = new object[] { new { word = "ok" }, new { word = "bad", fail = true } } });

        var done = await WaitBatchAsync(client, batch.GetProperty("id").GetString()!);

        Assert.Equal("partly_failed", done.GetProperty("state").GetString());
        var failed = done.GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("state").GetString() == "failed").GetProperty("id").GetString();
        Assert.Equal([failed], done.GetProperty("failed_run_ids").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Cancel_Midway_CancelsWhatIsLeft_AndKeepsWhatFinished()
    {
        var batch = await SubmitAsync(client, new { pipeline = "nap", rows = new object[] { new { seconds = 0 }, new { seconds = 60 }, new { seconds = 60 }, new { seconds = 60 }, new { seconds = 60 } } });
        var id = batch.GetProperty("id").GetString()!;
        await Eventually.TrueAsync(async () =>
        {
            var now = await client.GetFromJsonAsync<JsonElement>($"/api/v1/batches/{id}", Ct);
            return now.GetProperty("counts").GetProperty("succeeded").GetInt32() == 1 && now.GetProperty("counts").GetProperty("running").GetInt32() >= 1;
        }, TimeSpan.FromSeconds(30), "one run to finish and another to run");

        using var cancel = await client.PostAsync($"/api/v1/batches/{id}/cancel", null, Ct);
        cancel.EnsureSuccessStatusCode();

        var done = await WaitBatchAsync(client, id);
        Assert.Equal("canceled", done.GetProperty("state").GetString());
        Assert.Equal((1, 4), (done.GetProperty("counts").GetProperty("succeeded").GetInt32(), done.GetProperty("counts").GetProperty("canceled").GetInt32()));
        using var admin = app.CreateAdminClient();
        var audit = await admin.GetStringAsync("/api/v1/admin/audit?limit=100", Ct);
        Assert.Contains("batch.cancel", audit, StringComparison.Ordinal);
        Assert.Equal(4, JsonDocument.Parse(audit).RootElement.GetProperty("entries").EnumerateArray()
            .Count(e => e.GetProperty("action").GetString() == "run.cancel" && e.GetProperty("actor").GetString() == "ana"));
    }

    [Fact]
    public async Task AnotherUsersBatch_IsNotFound_AndAdminsSeeAll()
    {
        var batch = await SubmitAsync(client, new { pipeline = "echo", rows = new[] { new { word = "mine" } } });
        var id = batch.GetProperty("id").GetString()!;
        using var bob = await app.CreateUserClientAsync("bob");
        using var admin = app.CreateAdminClient();

        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/v1/batches/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.PostAsync($"/api/v1/batches/{id}/cancel", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/v1/batches/{id}/archive", Ct)).StatusCode);
        Assert.Equal(0, (await bob.GetFromJsonAsync<JsonElement>("/api/v1/batches", Ct)).GetProperty("batches").GetArrayLength());
        Assert.Equal(0, (await bob.GetFromJsonAsync<JsonElement>($"/api/v1/runs?batch_id={id}", Ct)).GetProperty("runs").GetArrayLength());
        Assert.Contains((await admin.GetFromJsonAsync<JsonElement>("/api/v1/batches", Ct)).GetProperty("batches").EnumerateArray(), b => b.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task List_PagesNewestFirst()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await SubmitAsync(client, new { pipeline = "echo", rows = new[] { new { word = $"w{i}" } } })).GetProperty("id").GetString()!);
        }

        var first = await client.GetFromJsonAsync<JsonElement>("/api/v1/batches?limit=2", Ct);
        var second = await client.GetFromJsonAsync<JsonElement>($"/api/v1/batches?limit=2&cursor={first.GetProperty("next_cursor").GetString()}", Ct);

        var seen = first.GetProperty("batches").EnumerateArray().Concat(second.GetProperty("batches").EnumerateArray()).Select(b => b.GetProperty("id").GetString()).ToList();
        Assert.Equal(ids.AsEnumerable().Reverse(), seen);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next_cursor").ValueKind);
    }

    [Fact]
    public async Task Archive_HoldsOneFolderPerRun()
    {
        var batch = await SubmitAsync(client, new { pipeline = "echo", rows = new[] { new { word = "one" }, new { word = "two" } } });
        var done = await WaitBatchAsync(client, batch.GetProperty("id").GetString()!);

        var bytes = await client.GetByteArrayAsync($"/api/v1/batches/{batch.GetProperty("id").GetString()}/archive", Ct);

        using var tar = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(new MemoryStream(bytes), System.IO.Compression.CompressionMode.Decompress))
        {
            await gzip.CopyToAsync(tar, Ct);
        }
        var entries = PlantedRuns.Entries(tar.ToArray());
        foreach (var run in done.GetProperty("runs").EnumerateArray())
        {
            var id = run.GetProperty("id").GetString();
            var output = Assert.Single(entries, e => e.Name == $"{id}/out.txt");
            Assert.Equal(run.GetProperty("params").GetProperty("word").GetString() + "\n", System.Text.Encoding.UTF8.GetString(output.Data));
            Assert.Single(entries, e => e.Name == $"{id}/run.json");
        }
    }

    [Fact]
    public async Task IdempotencyKey_AnswersTheFirstBatch_AndRefusesAnotherBody()
    {
        var body = new { pipeline = "echo", rows = new[] { new { word = "once" } } };
        using var first = new HttpRequestMessage(HttpMethod.Post, "/api/v1/batches") { Content = JsonContent.Create(body, options: RunwayApp.Json) };
        first.Headers.Add("Idempotency-Key", "k1");
        using var again = new HttpRequestMessage(HttpMethod.Post, "/api/v1/batches") { Content = JsonContent.Create(body, options: RunwayApp.Json) };
        again.Headers.Add("Idempotency-Key", "k1");
        using var other = new HttpRequestMessage(HttpMethod.Post, "/api/v1/batches") { Content = JsonContent.Create(new { pipeline = "echo", rows = new[] { new { word = "twice" } } }, options: RunwayApp.Json) };
        other.Headers.Add("Idempotency-Key", "k1");

        using var a = await client.SendAsync(first, Ct);
        using var b = await client.SendAsync(again, Ct);
        using var c = await client.SendAsync(other, Ct);

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.UnprocessableEntity), (a.StatusCode, b.StatusCode, c.StatusCode));
        var id = (await a.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();
        Assert.Equal(id, (await b.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString());
        Assert.Equal(1, (await client.GetFromJsonAsync<JsonElement>("/api/v1/batches", Ct)).GetProperty("batches").GetArrayLength());
        Assert.Equal(1, (await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs?batch_id={id}", Ct)).GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public async Task IdempotencyKey_Replay_ShowsTheBatchsCountsAndStateNow()
    {
        var body = new { pipeline = "echo", rows = new[] { new { word = "one" }, new { word = "two" } } };
        async Task<JsonElement> SendAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/batches") { Content = JsonContent.Create(body, options: RunwayApp.Json) };
            request.Headers.Add("Idempotency-Key", "k2");
            using var response = await client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        }
        var first = await SendAsync();
        Assert.Equal((2, 2), (first.GetProperty("total").GetInt32(), first.GetProperty("counts").GetProperty("queued").GetInt32()));
        await WaitBatchAsync(client, first.GetProperty("id").GetString()!);

        var replayed = await SendAsync();

        Assert.Equal(first.GetProperty("id").GetString(), replayed.GetProperty("id").GetString());
        Assert.Equal(("succeeded", 2, 2), (replayed.GetProperty("state").GetString(), replayed.GetProperty("total").GetInt32(), replayed.GetProperty("counts").GetProperty("succeeded").GetInt32()));
    }

    public static async Task<JsonElement> SubmitAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/batches", body, RunwayApp.Json, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"batch answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Polls the batch until none of its runs is queued or running, then answers it with its runs.</summary>
    public static async Task<JsonElement> WaitBatchAsync(HttpClient client, string id, TimeSpan? timeout = null)
    {
        JsonElement batch = default;
        await Eventually.TrueAsync(async () =>
        {
            batch = await client.GetFromJsonAsync<JsonElement>($"/api/v1/batches/{id}?limit=500", Ct);
            return batch.GetProperty("state").GetString() != "running";
        }, timeout ?? TimeSpan.FromSeconds(60), $"batch {id} to finish");
        return batch;
    }

    private static async Task AssertNothingStoredAsync(HttpClient client)
    {
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/v1/runs", Ct)).GetProperty("runs").GetArrayLength());
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/v1/batches", Ct)).GetProperty("batches").GetArrayLength());
    }
}

/// <summary>Small pipelines with typed parameters for the batch tests: echo (a required word), shout (other defaults), nap, secret (one group's).</summary>
public static class BatchPipelines
{
    public static string Create()
    {
        var directory = Directory.CreateTempSubdirectory("runway-batch-pipes-").FullName;
        File.WriteAllText(Path.Combine(directory, "echo.yaml"), """
            name: echo
            version: "1"
            parameters:
              word: {type: string, required: true, description: What to write}
              times: {type: integer, default: 1, minimum: 1, maximum: 5, description: How often}
              fail: {type: boolean, default: false}
            command: [/bin/sh, -c, 'printf "%s\n" "$1" > "$3/out.txt"; [ "$2" = false ]', echo, "{word}", "{fail}", "{run_dir}"]
            outputs: [out.txt]
            """);
        File.WriteAllText(Path.Combine(directory, "shout.yaml"), """
            name: shout
            version: "1"
            parameters:
              word: {type: string, required: true}
              times: {type: integer, default: 3}
            command: [/bin/sh, -c, 'printf "%s\n" "$1"', shout, "{word}"]
            """);
        File.WriteAllText(Path.Combine(directory, "nap.yaml"), """
            name: nap
            version: "1"
            parameters:
              seconds: {type: integer, default: 0, minimum: 0, maximum: 120}
            command: [/bin/sh, -c, 'sleep "$1"', nap, "{seconds}"]
            """);
        File.WriteAllText(Path.Combine(directory, "count.yaml"), """
            name: count
            version: "1"
            parameters:
              input: {type: file, required: true}
            command: [/usr/bin/wc, -c, "{input}"]
            """);
        File.WriteAllText(Path.Combine(directory, "secret.yaml"), """
            name: secret
            version: "1"
            allowed_groups: [lab]
            parameters:
              word: {type: string, required: true}
            command: [/bin/true]
            """);
        return directory;
    }
}
