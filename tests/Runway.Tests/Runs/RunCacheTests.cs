using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Runway.Pipelines;
using Runway.Tests.Files;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Runs;

/// <summary>Result reuse (issue 14): an identical run ends at once from an earlier one's outputs, through the real server.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RunCacheTests : IAsyncLifetime
{
    private readonly string pipelines = Directory.CreateTempSubdirectory("runway-cache-pipelines-").FullName;
    private static readonly string[] CountAndCounts = ["count", "counts"];
    private RunwayApp app = null!;
    private HttpClient ana = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        File.SetUnixFileMode(pipelines, (UnixFileMode)0b111_101_101);
        WritePipeline("count", "true", "1.0.0");
        WritePipeline("counts", "shared", "1.0.0");
        WritePipeline("fresh", "false", "1.0.0");
        // Loopback webhooks allowed: the notification tests' receiver listens there.
        app = new RunwayApp(pipelines, settings: new Dictionary<string, string> { ["Runway:Webhooks:AllowedHosts"] = "127.0.0.1" });
        await app.EnsureUserAsync("ana", groups: ["lab"]);
        await app.EnsureUserAsync("bob", groups: ["lab"]);
        await app.EnsureUserAsync("cyd", groups: ["other"]);
        ana = await app.CreateUserClientAsync("ana");
    }

    public async ValueTask DisposeAsync()
    {
        ana.Dispose();
        await app.DisposeAsync();
        Directory.Delete(pipelines, recursive: true);
    }

    [Fact]
    public async Task Submit_EndsAtOnceWithTheEarlierOutputs_WhenAnIdenticalRunSucceeded()
    {
        var first = await RunAsync(ana, "count", await UploadAsync(ana, "some words\n"));
        // Another upload of the same bytes is the same input.
        var again = await RunwayApp.SubmitAsync(ana, new { pipeline = "count", @params = new { input = await UploadAsync(ana, "some words\n"), n = 2 } });

        Assert.Equal("succeeded", again.GetProperty("state").GetString());
        Assert.Equal(Id(first), again.GetProperty("cached_from").GetString());
        Assert.False(Directory.Exists(Path.Combine(app.DataDirectory, "runs", Id(again))), "a cached run executes nothing");
        Assert.Equal("11\n", await ana.GetStringAsync($"/api/v1/runs/{Id(again)}/outputs/count.txt", Ct));
        var outputs = await ana.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{Id(again)}/outputs", Ct);
        Assert.Contains("count.txt", outputs.GetRawText(), StringComparison.Ordinal);
        var shown = await ana.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{Id(again)}", Ct);
        Assert.Contains(shown.GetProperty("events").EnumerateArray(),
            e => e.GetProperty("to").GetString() == "succeeded" && e.GetProperty("reason").GetString()!.Contains(Id(first), StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReusedRun_IsNotifiedOnce_AsAnExecutedRunWouldBe()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var input = await UploadAsync(ana, "some words\n");
        var first = await RunAsync(ana, "count", input);

        var again = await RunwayApp.SubmitAsync(ana, new { pipeline = "count", @params = new { input, n = 2 }, notify = new { webhook = receiver.Url } });

        Assert.Equal(Id(first), again.GetProperty("cached_from").GetString());
        await Eventually.TrueAsync(() => !receiver.Requests.IsEmpty, TimeSpan.FromSeconds(20), "the webhook of the reused run");
        await Eventually.TrueAsync(async () =>
            (await ana.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{Id(again)}", Ct)).GetProperty("notifications")[0].GetProperty("state").GetString() == "delivered",
            TimeSpan.FromSeconds(10), "the delivery to be recorded");
        var data = JsonDocument.Parse(Assert.Single(receiver.Requests).Body).RootElement.GetProperty("data");
        Assert.Equal((Id(again), "succeeded", 0), (data.GetProperty("id").GetString(), data.GetProperty("state").GetString(), data.GetProperty("exit_code").GetInt32()));
    }

    [Fact]
    public async Task Submit_Executes_WhenOneInputByteChanged()
    {
        await RunAsync(ana, "count", await UploadAsync(ana, "some words\n"));

        var other = await RunAsync(ana, "count", await UploadAsync(ana, "some wordz\n"));

        Assert.Equal(JsonValueKind.Null, other.GetProperty("cached_from").ValueKind);
    }

    [Fact]
    public async Task Submit_Executes_WhenAParameterDiffers()
    {
        var input = await UploadAsync(ana, "some words\n");
        await RunAsync(ana, "count", input);

        var other = await RunwayApp.SubmitAsync(ana, new { pipeline = "count", @params = new { input, n = 3 } });

        Assert.Equal("queued", other.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Submit_Executes_WhenThePipelineVersionChanged()
    {
        var input = await UploadAsync(ana, "some words\n");
        await RunAsync(ana, "count", input);

        WritePipeline("count", "true", "1.1.0");
        await Eventually.TrueAsync(async () =>
            (await ana.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/count", Ct)).GetProperty("version").GetString() == "1.1.0",
            TimeSpan.FromSeconds(20), "the catalog to load version 1.1.0");
        var other = await RunAsync(ana, "count", input);

        Assert.Equal("1.1.0", other.GetProperty("pipeline_version").GetString());
        Assert.Equal(JsonValueKind.Null, other.GetProperty("cached_from").ValueKind);
    }

    [Fact]
    public async Task Submit_Executes_WhenTheSubmissionSaysCacheFalse()
    {
        var input = await UploadAsync(ana, "some words\n");
        await RunAsync(ana, "count", input);

        var other = await RunwayApp.SubmitAsync(ana, new { pipeline = "count", @params = new { input, n = 2 }, cache = false });

        Assert.Equal("queued", other.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, other.GetProperty("cached_from").ValueKind);
    }

    [Fact]
    public async Task Submit_Executes_WhenThePipelineHasNoCache()
    {
        var input = await UploadAsync(ana, "some words\n");
        await RunAsync(ana, "fresh", input);

        var other = await RunwayApp.SubmitAsync(ana, new { pipeline = "fresh", @params = new { input, n = 2 } });

        Assert.Equal("queued", other.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Submit_Executes_ForAnotherUser_WhenTheCacheIsNotShared()
    {
        await RunAsync(ana, "count", await UploadAsync(ana, "some words\n"));
        using var bob = await app.CreateUserClientAsync("bob");

        var other = await RunwayApp.SubmitAsync(bob, new { pipeline = "count", @params = new { input = await UploadAsync(bob, "some words\n"), n = 2 } });

        Assert.Equal("queued", other.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Submit_ReusesAGroupMembersRun_OnlyWhenTheCacheIsShared()
    {
        var first = await RunAsync(ana, "counts", await UploadAsync(ana, "some words\n"));
        using var bob = await app.CreateUserClientAsync("bob");
        using var cyd = await app.CreateUserClientAsync("cyd");

        var bobs = await RunwayApp.SubmitAsync(bob, new { pipeline = "counts", @params = new { input = await UploadAsync(bob, "some words\n"), n = 2 } });
        var cyds = await RunwayApp.SubmitAsync(cyd, new { pipeline = "counts", @params = new { input = await UploadAsync(cyd, "some words\n"), n = 2 } });

        Assert.Equal(Id(first), bobs.GetProperty("cached_from").GetString());
        Assert.Equal("11\n", await bob.GetStringAsync($"/api/v1/runs/{Id(bobs)}/outputs/count.txt", Ct));
        Assert.Equal("queued", cyds.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Submit_Executes_WhenTheEarlierRunsFilesWerePurged_AndACachedRunSaysItsFilesAreGone()
    {
        var input = await UploadAsync(ana, "some words\n");
        var first = await RunAsync(ana, "count", input);
        var cached = await RunwayApp.SubmitAsync(ana, new { pipeline = "count", @params = new { input, n = 2 } });
        Assert.Equal(Id(first), cached.GetProperty("cached_from").GetString());

        using (var purge = await ana.DeleteAsync($"/api/v1/runs/{Id(first)}/files", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        }
        using var gone = await ana.GetAsync($"/api/v1/runs/{Id(cached)}/outputs/count.txt", Ct);
        var other = await RunwayApp.SubmitAsync(ana, new { pipeline = "count", @params = new { input, n = 2 } });

        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        Assert.Equal("queued", other.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Batch_RowsMatchingAnEarlierRun_EndAtOnceFromIt_AndTheOthersRun()
    {
        var first = await RunAsync(ana, "count", await UploadAsync(ana, "one\n"));
        var second = await RunAsync(ana, "count", await UploadAsync(ana, "two two\n"));
        string[] inputs = [await UploadAsync(ana, "one\n"), await UploadAsync(ana, "three 3\n"), await UploadAsync(ana, "two two\n"), await UploadAsync(ana, "four 4 4\n")];
        var rows = inputs.Select(input => new { input, n = 2 }).ToArray();

        var batch = await Api.BatchesApiTests.SubmitAsync(ana, new { pipeline = "count", rows });

        Assert.Equal("running", batch.GetProperty("state").GetString());
        Assert.Equal((2, 2), (batch.GetProperty("counts").GetProperty("succeeded").GetInt32(), batch.GetProperty("counts").GetProperty("queued").GetInt32()));
        var done = await Api.BatchesApiTests.WaitBatchAsync(ana, Id(batch));
        Assert.Equal(("succeeded", 4), (done.GetProperty("state").GetString(), done.GetProperty("counts").GetProperty("succeeded").GetInt32()));
        var byInput = done.GetProperty("runs").EnumerateArray().ToDictionary(r => r.GetProperty("params").GetProperty("input").GetString()!);
        var runs = inputs.Select(i => byInput[i]).ToList();
        Assert.Equal([Id(first), null, Id(second), null], runs.Select(r => r.GetProperty("cached_from").GetString()));
        Assert.False(Directory.Exists(Path.Combine(app.DataDirectory, "runs", Id(runs[0]))), "a cached row executes nothing");
        var shown = await ana.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{Id(runs[2])}", Ct);
        Assert.Equal(["queued", "succeeded"], shown.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("to").GetString()));
        Assert.Contains(Id(second), shown.GetProperty("events")[1].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("8\n", await ana.GetStringAsync($"/api/v1/runs/{Id(runs[2])}/outputs/count.txt", Ct));
        // The batch's archive holds a cached row's outputs under its own folder, from the run it reused.
        var archive = await ana.GetByteArrayAsync($"/api/v1/batches/{Id(batch)}/archive", Ct);
        using var tar = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(new MemoryStream(archive), System.IO.Compression.CompressionMode.Decompress))
        {
            await gzip.CopyToAsync(tar, Ct);
        }
        var entries = PlantedRuns.Entries(tar.ToArray());
        Assert.Equal("4\n", Encoding.UTF8.GetString(Assert.Single(entries, e => e.Name == $"{Id(runs[0])}/count.txt").Data));

        // Once the run it reused is purged, the cached row keeps its folder in the archive, with its record alone.
        using (var purge = await ana.DeleteAsync($"/api/v1/runs/{Id(first)}/files", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        }
        var after = await ana.GetByteArrayAsync($"/api/v1/batches/{Id(batch)}/archive", Ct);
        using var afterTar = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(new MemoryStream(after), System.IO.Compression.CompressionMode.Decompress))
        {
            await gzip.CopyToAsync(afterTar, Ct);
        }
        var kept = PlantedRuns.Entries(afterTar.ToArray()).Where(e => e.Name.StartsWith(Id(runs[0]) + "/", StringComparison.Ordinal)).ToList();
        Assert.Equal([$"{Id(runs[0])}/run.json"], kept.Select(e => e.Name));
        Assert.Equal(Id(runs[0]), JsonDocument.Parse(kept[0].Data).RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Batch_OfOnlyRowsThatMatch_IsSucceededAtOnce()
    {
        var input = await UploadAsync(ana, "some words\n");
        var first = await RunAsync(ana, "count", input);

        var batch = await Api.BatchesApiTests.SubmitAsync(ana, new { pipeline = "count", rows = new[] { new { input, n = 2 } } });

        Assert.Equal(("succeeded", 1, 1), (batch.GetProperty("state").GetString(), batch.GetProperty("total").GetInt32(), batch.GetProperty("counts").GetProperty("succeeded").GetInt32()));
        var shown = await ana.GetFromJsonAsync<JsonElement>($"/api/v1/batches/{Id(batch)}", Ct);
        Assert.Equal("succeeded", shown.GetProperty("state").GetString());
        Assert.Equal(Id(first), Assert.Single(shown.GetProperty("runs").EnumerateArray()).GetProperty("cached_from").GetString());
    }

    [Fact]
    public async Task Batch_ExecutesEveryRow_WhenItSaysCacheFalse()
    {
        var input = await UploadAsync(ana, "some words\n");
        await RunAsync(ana, "count", input);

        var batch = await Api.BatchesApiTests.SubmitAsync(ana, new { pipeline = "count", rows = new[] { new { input, n = 2 } }, cache = false });

        Assert.Equal(("running", 1), (batch.GetProperty("state").GetString(), batch.GetProperty("counts").GetProperty("queued").GetInt32()));
        var done = await Api.BatchesApiTests.WaitBatchAsync(ana, Id(batch));
        Assert.Equal(JsonValueKind.Null, Assert.Single(done.GetProperty("runs").EnumerateArray()).GetProperty("cached_from").ValueKind);
    }

    /// <summary>Decided: two identical rows of one batch both execute (neither has succeeded when the batch is stored), as Cromwell does.</summary>
    [Fact]
    public async Task Batch_RunsBothOfTwoIdenticalRows()
    {
        var input = await UploadAsync(ana, "twice\n");

        var batch = await Api.BatchesApiTests.SubmitAsync(ana, new { pipeline = "count", rows = new[] { new { input, n = 2 }, new { input, n = 2 } } });

        Assert.Equal(2, batch.GetProperty("counts").GetProperty("queued").GetInt32());
        var done = await Api.BatchesApiTests.WaitBatchAsync(ana, Id(batch));
        Assert.All(done.GetProperty("runs").EnumerateArray(), r => Assert.Equal(JsonValueKind.Null, r.GetProperty("cached_from").ValueKind));
        Assert.Equal(2, done.GetProperty("counts").GetProperty("succeeded").GetInt32());
    }

    [Fact]
    public async Task Batch_ReusesAGroupMembersRun_OnlyWhenTheCacheIsShared()
    {
        var first = await RunAsync(ana, "counts", await UploadAsync(ana, "some words\n"));
        await RunAsync(ana, "count", await UploadAsync(ana, "some words\n"));
        using var bob = await app.CreateUserClientAsync("bob");
        var input = await UploadAsync(bob, "some words\n");

        var batch = await Api.BatchesApiTests.SubmitAsync(bob, new { pipelines = CountAndCounts, @params = new { input, n = 2 } });

        var shown = await bob.GetFromJsonAsync<JsonElement>($"/api/v1/batches/{Id(batch)}", Ct);
        var runs = shown.GetProperty("runs").EnumerateArray().ToDictionary(r => r.GetProperty("pipeline").GetString()!, r => r.GetProperty("cached_from").GetString());
        Assert.Equal(Id(first), runs["counts"]);
        Assert.Null(runs["count"]);
    }

    [Fact]
    public async Task Replay_OfACachedRun_AnswersItSucceeded_WithCachedFrom()
    {
        var input = await UploadAsync(ana, "some words\n");
        var first = await RunAsync(ana, "count", input);

        var answers = new List<JsonElement>();
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/runs") { Content = JsonContent.Create(new { pipeline = "count", @params = new { input, n = 2 } }, options: RunwayApp.Json) };
            request.Headers.Add("Idempotency-Key", "again");
            using var response = await ana.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            answers.Add(await response.Content.ReadFromJsonAsync<JsonElement>(Ct));
        }

        Assert.Equal(Id(answers[0]), Id(answers[1]));
        Assert.All(answers, a => Assert.Equal(("succeeded", Id(first)), (a.GetProperty("state").GetString(), a.GetProperty("cached_from").GetString())));
    }

    [Theory]
    [InlineData("maybe")]
    [InlineData("[true]")]
    public void Parse_RefusesACacheThatIsNotTrueFalseOrShared(string value)
    {
        var yaml = $"name: p\nversion: \"1\"\ncache: {value}\ncommand: [/bin/true]\n";

        var error = Assert.Throws<PipelineFormatException>(() => PipelineParser.Parse(yaml, "/tmp/p.yaml"));

        Assert.Contains("cache", error.Message, StringComparison.Ordinal);
    }

    private void WritePipeline(string name, string cache, string version) =>
        File.WriteAllText(Path.Combine(pipelines, $"{name}.yaml"), $$"""
            name: {{name}}
            version: "{{version}}"
            cache: {{cache}}
            parameters:
              input: {type: file, required: true}
              n: {type: integer, default: 2}
            command: [/bin/sh, -c, 'wc -c < "$1" | tr -d " " > count.txt', {{name}}, "{input}"]
            outputs: [count.txt]
            """);

    private static async Task<JsonElement> RunAsync(HttpClient client, string pipeline, string input)
    {
        var submitted = await RunwayApp.SubmitAsync(client, new { pipeline, @params = new { input, n = 2 } });
        var run = await RunwayApp.WaitFinalAsync(client, Id(submitted));
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        return run;
    }

    private static async Task<string> UploadAsync(HttpClient client, string text) =>
        Id(await ContentAddressedFilesTests.UploadAsync(client, Encoding.UTF8.GetBytes(text), "words.txt"));

    private static string Id(JsonElement e) => e.GetProperty("id").GetString()!;
}
