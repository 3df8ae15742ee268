using System.Net;
using System.Text.Json.Nodes;

namespace Runway.Tests.Cli;

public class CliTests
{
    private const string Id = "01JD000000000000000000RUN1";

    private const string Wordstats = """
        {"name":"wordstats","version":"1.2.0","title":"Word statistics","description":"Counts words.",
         "parameters":{"type":"object","properties":{
            "input":{"type":"string","format":"runway-file-id","description":"Text file to analyse"},
            "min_length":{"type":"integer","default":1,"minimum":1,"maximum":100},
            "lowercase":{"type":"boolean","default":false},
            "language":{"type":"string","enum":["en","fr","de"],"default":"en"}},
          "required":["input"]},
         "resources":{"cpus":1,"memory":"512M"},"outputs":["counts.tsv"],"executor":"local"}
        """;

    private static FakeServer WithPipeline() =>
        new FakeServer().OnJson(HttpMethod.Get, "/api/v1/pipelines/wordstats", Wordstats);

    [Fact]
    public async Task Pipelines_PrintsATable()
    {
        var server = new FakeServer().OnJson(HttpMethod.Get, "/api/v1/pipelines",
            """{"pipelines":[{"name":"wordstats","version":"1.2.0","title":"Word statistics","description":"x"},{"name":"align","version":"0.1","title":null}]}""");

        var run = await CliRun.RunAsync(server, "pipelines");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("NAME       VERSION  TITLE\nalign      0.1\nwordstats  1.2.0    Word statistics\n", run.Out.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task PipelinesName_ShowsEachParameter()
    {
        var run = await CliRun.RunAsync(WithPipeline(), "pipelines", "wordstats");

        Assert.Equal(0, run.ExitCode);
        var lines = run.Out.ReplaceLineEndings("\n").Split('\n');
        Assert.Contains(lines, l => l.StartsWith("PARAMETER", StringComparison.Ordinal) && l.Contains("DEFAULT", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("input", StringComparison.Ordinal) && l.Contains("file", StringComparison.Ordinal) && l.Contains("yes", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("min_length", StringComparison.Ordinal) && l.Contains("integer", StringComparison.Ordinal) && l.Contains("[1..100]", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("language", StringComparison.Ordinal) && l.Contains("enum", StringComparison.Ordinal) && l.Contains("one of en, fr, de", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Json_PrintsTheServersJsonAsIs()
    {
        var run = await CliRun.RunAsync(WithPipeline(), "pipelines", "wordstats", "--json");

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Wordstats), JsonNode.Parse(run.Out)));
        Assert.Contains("\n  \"name\": \"wordstats\"", run.Out.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_PostsTypedParams_AndPrintsOnlyTheId()
    {
        var server = WithPipeline().OnJson(HttpMethod.Post, "/api/v1/runs", FakeServer.Run(Id, "queued"), HttpStatusCode.Created);
        var paramsFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(paramsFile, """{"min_length":2,"language":"de"}""", TestContext.Current.CancellationToken);

        var run = await CliRun.RunAsync(server, "submit", "wordstats", "input=f_01JD0000000000000000000000", "min_length=5", "lowercase=yes",
            "--params", paramsFile, "--name", "march batch", "--tag", "project=m31", "--tag", "batch=3", "--priority", "2", "--idempotency-key", "k1");

        Assert.Equal("", run.Error);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(Id + "\n", run.Out.ReplaceLineEndings("\n"));
        var post = server.Requests.Single(r => r.Method == HttpMethod.Post);
        Assert.Equal("k1", post.Headers["Idempotency-Key"]);
        var body = JsonNode.Parse(post.Body!)!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"pipeline":"wordstats",
             "params":{"min_length":5,"language":"de","input":"f_01JD0000000000000000000000","lowercase":true},
             "name":"march batch","tags":{"project":"m31","batch":"3"},"priority":2}
            """), body), body.ToJsonString());
        File.Delete(paramsFile);
    }

    /// <summary>An earlier version: its own parameters are read to convert the values, and the run asks for it.</summary>
    [Fact]
    public async Task Submit_PipelineVersion_ReadsThatVersionsParameters_AndAsksForIt()
    {
        var server = WithPipeline().OnJson(HttpMethod.Post, "/api/v1/runs", FakeServer.Run(Id, "queued"), HttpStatusCode.Created);

        var run = await CliRun.RunAsync(server, "submit", "wordstats", "--pipeline-version", "1.1.0", "input=f_01JD0000000000000000000000");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(server.Requests, r => r.Method == HttpMethod.Get && r.PathAndQuery == "/api/v1/pipelines/wordstats?version=1.1.0");
        var body = JsonNode.Parse(server.Requests.Single(r => r.Method == HttpMethod.Post).Body!)!;
        Assert.Equal("1.1.0", body["pipeline_version"]?.GetValue<string>());
    }

    [Fact]
    public async Task Submit_UploadsAtPathFirst_AndUsesTheFileId()
    {
        var local = Path.GetTempFileName();
        await File.WriteAllTextAsync(local, "the quick brown fox", TestContext.Current.CancellationToken);
        var server = WithPipeline()
            .OnJson(HttpMethod.Post, "/api/v1/files", """{"id":"f_01JD00000000000000000FILE","name":"x","size":19,"sha256":"ab"}""", HttpStatusCode.Created)
            .OnJson(HttpMethod.Post, "/api/v1/runs", FakeServer.Run(Id, "queued"), HttpStatusCode.Created);

        var run = await CliRun.RunAsync(server, "submit", "wordstats", $"input=@{local}");

        Assert.Equal(0, run.ExitCode);
        var body = JsonNode.Parse(server.Requests.Single(r => r.PathAndQuery == "/api/v1/runs").Body!)!;
        Assert.Equal("f_01JD00000000000000000FILE", body["params"]!["input"]!.GetValue<string>());
        File.Delete(local);
    }

    [Fact]
    public async Task Submit_PrintsFieldErrorsAndExits2_WhenServerSays422()
    {
        var server = WithPipeline().On(HttpMethod.Post, "/api/v1/runs", _ => FakeServer.Problem(HttpStatusCode.UnprocessableEntity,
            """{"title":"One or more parameters are invalid.","status":422,"errors":{"min_length":["must be at least 1"],"input":["is required"]}}"""));

        var run = await CliRun.RunAsync(server, "submit", "wordstats", "min_length=0");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Out);
        var lines = run.Error.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["runway: One or more parameters are invalid.", "  min_length: must be at least 1", "  input: is required"], lines);
    }

    [Fact]
    public async Task Submit_Exits2WithoutPosting_WhenAValueDoesNotConvert()
    {
        var server = WithPipeline();

        var run = await CliRun.RunAsync(server, "submit", "wordstats", "min_length=many");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("runway: min_length: 'many' is not an integer\n", run.Error.ReplaceLineEndings("\n"));
        Assert.DoesNotContain(server.Requests, r => r.Method == HttpMethod.Post);
    }

    [Fact]
    public async Task Submit_SaysPipelineIsUnknown_WhenServerSays404()
    {
        var server = new FakeServer().On(HttpMethod.Get, "/api/v1/pipelines/nope", _ => FakeServer.Problem(HttpStatusCode.NotFound,
            """{"title":"Not Found","status":404,"detail":"no pipeline 'nope'"}"""));

        var run = await CliRun.RunAsync(server, "submit", "nope");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("runway: Not Found: no pipeline 'nope'\n", run.Error.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("succeeded", 0)]
    [InlineData("failed", 1)]
    [InlineData("canceled", 3)]
    [InlineData("timed_out", 4)]
    [InlineData("system_error", 5)]
    public async Task Wait_PollsUntilFinal_AndExitsPerState(string final, int code)
    {
        var states = new Queue<string>(["queued", "running", final]);
        var server = new FakeServer().On(HttpMethod.Get, $"/api/v1/runs/{Id}", _ =>
            FakeServer.Json(FakeServer.Run(Id, states.Count > 1 ? states.Dequeue() : states.Peek(), """{"exit_code":1,"message":"boom"}""")));

        var run = await CliRun.RunAsync(server, "wait", Id);

        Assert.Equal(code, run.ExitCode);
        Assert.Equal(final + "\n", run.Out.ReplaceLineEndings("\n"));
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(final == "succeeded" ? "" : $"runway: run {Id} {final} (exit code 1): boom\n", run.Error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Wait_Exits6_WhenItsOwnTimeoutPasses()
    {
        var server = new FakeServer().OnJson(HttpMethod.Get, $"/api/v1/runs/{Id}", FakeServer.Run(Id, "running"));

        var run = await CliRun.RunAsync(server, "wait", Id, "--timeout", "300ms");

        Assert.Equal(6, run.ExitCode);
        Assert.Contains($"run {Id} is still running", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wait_RidesOutAServerRestart_AfterTheServerHasAnswered()
    {
        var replies = new Queue<Func<HttpResponseMessage>>([
            () => FakeServer.Json(FakeServer.Run(Id, "running")),
            () => FakeServer.Problem(HttpStatusCode.ServiceUnavailable, """{"title":"Service Unavailable","status":503}"""),
            () => throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused"),
            () => FakeServer.Json(FakeServer.Run(Id, "succeeded")),
        ]);
        var server = new FakeServer().On(HttpMethod.Get, $"/api/v1/runs/{Id}", _ => replies.Dequeue()());

        var run = await CliRun.RunAsync(server, "wait", Id);

        Assert.Equal(0, run.ExitCode);
        Assert.Empty(replies);
    }

    [Fact]
    public async Task Wait_FailsAtOnce_WhenTheServerNeverAnswered()
    {
        var server = new FakeServer().On(HttpMethod.Get, $"/api/v1/runs/{Id}", HttpResponseMessage (_) =>
            throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused"));

        var run = await CliRun.RunAsync(server, "wait", Id);

        Assert.Equal(1, run.ExitCode);
        Assert.Single(server.Requests);
        Assert.Contains("cannot reach the server at http://127.0.0.1:8080/", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitWait_PrintsTheIdThenExitsLikeWait()
    {
        var server = WithPipeline()
            .OnJson(HttpMethod.Post, "/api/v1/runs", FakeServer.Run(Id, "queued"), HttpStatusCode.Created)
            .OnJson(HttpMethod.Get, $"/api/v1/runs/{Id}", FakeServer.Run(Id, "failed"));

        var run = await CliRun.RunAsync(server, "submit", "wordstats", "--wait");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(Id + "\n", run.Out.ReplaceLineEndings("\n"));
    }

    /// <summary>RUN2 (newest) on the first page, RUN1 behind cursor c2.</summary>
    private static FakeServer TwoPages() => new FakeServer().On(HttpMethod.Get, "/api/v1/runs", request =>
            request.RequestUri!.Query.Contains("cursor=c2", StringComparison.Ordinal)
                ? FakeServer.Json($$"""{"runs":[{{FakeServer.Run("01JD000000000000000000RUN1", "failed")}}],"next_cursor":null}""")
                : FakeServer.Json($$"""{"runs":[{{FakeServer.Run("01JD000000000000000000RUN2", "running", """{"name":"march batch"}""")}}],"next_cursor":"c2"}"""));

    [Fact]
    public async Task List_FollowsCursors_WhenAll()
    {
        var server = TwoPages();

        var run = await CliRun.RunAsync(server, "list", "--all", "--state", "running", "--tag", "project=m31", "--limit", "1");

        Assert.Equal(0, run.ExitCode);
        var lines = run.Out.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("ID                          PIPELINE   STATE    SUBMITTED", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^01JD000000000000000000RUN2  wordstats  running  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  12\.4s    march batch$", lines[1]);
        Assert.StartsWith("01JD000000000000000000RUN1  wordstats  failed", lines[2], StringComparison.Ordinal);
        Assert.Equal("/api/v1/runs?state=running&tag=project%3Am31&limit=1", server.Requests[0].PathAndQuery);
        Assert.Equal("/api/v1/runs?state=running&tag=project%3Am31&limit=1&cursor=c2", server.Requests[1].PathAndQuery);
    }

    [Fact]
    public async Task ListJson_MergesEveryPage()
    {
        var server = TwoPages();

        var run = await CliRun.RunAsync(server, "list", "--all", "--json");

        var runs = JsonNode.Parse(run.Out)!["runs"]!.AsArray();
        Assert.Equal(["01JD000000000000000000RUN2", "01JD000000000000000000RUN1"], runs.Select(r => r!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Upload_PrintsTheFileId()
    {
        var local = Path.GetTempFileName();
        var server = new FakeServer().OnJson(HttpMethod.Post, "/api/v1/files", """{"id":"f_01JD00000000000000000FILE","name":"x","size":0,"sha256":"e3"}""", HttpStatusCode.Created);

        var run = await CliRun.RunAsync(server, "upload", local, "--name", "book.txt");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("f_01JD00000000000000000FILE\n", run.Out.ReplaceLineEndings("\n"));
        File.Delete(local);
    }

    [Fact]
    public async Task Upload_ReusesMyFile_WhenItsBytesWereUploadedAlready()
    {
        var local = Path.GetTempFileName();
        await File.WriteAllTextAsync(local, "the quick brown fox", TestContext.Current.CancellationToken);
        var sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("the quick brown fox"u8));
        var server = new FakeServer()
            .OnJson(HttpMethod.Get, "/api/v1/files", $$"""{"files":[{"id":"f_01JD0000000000000000EARLIER","name":"fox.txt","size":19,"sha256":"{{sha256}}"}]}""")
            .OnJson(HttpMethod.Post, "/api/v1/files", """{"id":"f_01JD00000000000000000FILE","name":"x","size":19,"sha256":"ab"}""", HttpStatusCode.Created);

        var run = await CliRun.RunAsync(server, "upload", local);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("f_01JD0000000000000000EARLIER\n", run.Out.ReplaceLineEndings("\n"));
        Assert.Contains("reused f_01JD0000000000000000EARLIER", run.Error, StringComparison.Ordinal);
        Assert.Equal($"/api/v1/files?sha256={sha256}&limit=1", Assert.Single(server.Requests).PathAndQuery);
        File.Delete(local);
    }

    [Fact]
    public async Task Submit_SendsCacheFalse_WithNoCache()
    {
        var server = WithPipeline().OnJson(HttpMethod.Post, "/api/v1/runs", FakeServer.Run(Id, "queued"), HttpStatusCode.Created);

        var run = await CliRun.RunAsync(server, "submit", "wordstats", "input=f_01JD00000000000000000FILE", "--no-cache");

        Assert.Equal(0, run.ExitCode);
        var body = JsonNode.Parse(server.Requests.Single(r => r.PathAndQuery == "/api/v1/runs").Body!)!;
        Assert.False(body["cache"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Upload_Exits2_WhenTheFileDoesNotExist()
    {
        var run = await CliRun.RunAsync(new FakeServer(), "upload", "/no/such/file.txt");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("runway: no such file: /no/such/file.txt\n", run.Error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task List_RejectsAnUnknownState_BeforeAskingTheServer()
    {
        var server = new FakeServer();

        var run = await CliRun.RunAsync(server, "list", "--state", "sleeping");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("sleeping", run.Error, StringComparison.Ordinal);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Status_PrintsKeyValueLinesAndEvents()
    {
        var server = new FakeServer().OnJson(HttpMethod.Get, $"/api/v1/runs/{Id}", FakeServer.Run(Id, "succeeded",
            """{"exit_code":0,"native_id":"48213","node":"hpc-1","params":{"min_length":3},"events":[{"from":null,"to":"queued","reason":"submitted","at":"2026-11-24T07:00:00Z"},{"from":"queued","to":"running","reason":"claimed","at":"2026-11-24T07:00:01Z"}]}"""));

        var run = await CliRun.RunAsync(server, "status", Id);

        Assert.Equal(0, run.ExitCode);
        var text = run.Out.ReplaceLineEndings("\n");
        Assert.Contains($"id:               {Id}\n", text, StringComparison.Ordinal);
        Assert.Contains("state:            succeeded\n", text, StringComparison.Ordinal);
        Assert.Contains("executor:         local (native id 48213, node hpc-1)\n", text, StringComparison.Ordinal);
        Assert.Contains("param min_length: 3\n", text, StringComparison.Ordinal);
        Assert.Matches(@"\n\S+ \S+\s+queued\s+running\s+claimed\n", text);
    }

    [Fact]
    public async Task Status_PrintsWhatTheRunUsed()
    {
        var server = new FakeServer().OnJson(HttpMethod.Get, $"/api/v1/runs/{Id}", FakeServer.Run(Id, "succeeded",
            """{"resources_used":{"wall_seconds":75.5,"cpu_seconds":61.25,"peak_memory_bytes":104857600}}"""));

        var run = await CliRun.RunAsync(server, "status", Id);

        var text = run.Out.ReplaceLineEndings("\n");
        Assert.Matches(@"\nwall time: +1m15s\n", text);
        Assert.Matches(@"\ncpu time: +61\.25 s\n", text);
        Assert.Matches(@"\npeak memory: +100\.0 MB\n", text);
    }

    private const string UsageJson = """
        {"from":"2026-11-01T00:00:00+00:00","to":"2026-12-01T00:00:00+00:00","group_by":"user","rows":[
        {"key":"ana","runs":3,"runs_by_state":{"succeeded":2,"failed":1,"canceled":0,"timed_out":0,"system_error":0},"wall_hours":1.5,"cpu_hours":0.75,
         "peak_memory_p50_bytes":209715200,"peak_memory_p95_bytes":314572800,"peak_memory_max_bytes":314572800},
        {"key":"=cmd,x","runs":1,"runs_by_state":{"succeeded":1},"wall_hours":0,"cpu_hours":0}],
        "storage":[{"user":"ana","uploads_bytes":1048576,"run_files_bytes":2097152,"total_bytes":3145728}]}
        """;

    [Fact]
    public async Task Usage_PrintsATable_OfEveryonesUsage_WithAll()
    {
        var server = new FakeServer().OnJson(HttpMethod.Get, "/api/v1/admin/usage", UsageJson);

        var run = await CliRun.RunAsync(server, "usage", "--all", "--from", "2026-11-01", "--group-by", "user");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("/api/v1/admin/usage?from=2026-11-01&group_by=user", server.Requests.Single().PathAndQuery);
        var lines = run.Out.ReplaceLineEndings("\n").Split('\n');
        Assert.Matches(@"^USER +RUNS +SUCCEEDED +FAILED +CANCELED +TIMED_OUT +SYSTEM_ERROR +WALL_H +CPU_H +PEAK_P50 +PEAK_P95 +PEAK_MAX$", lines[0]);
        Assert.Matches(@"^ana +3 +2 +1 +0 +0 +0 +1\.5 +0\.75 +200\.0 MB +300\.0 MB +300\.0 MB$", lines[1]);
        var storage = Array.IndexOf(lines, "") + 1;
        Assert.True(storage > 2, run.Out);
        Assert.Matches(@"^USER +UPLOADS +RUN_FILES +STORED$", lines[storage]);
        Assert.Matches(@"^ana +1\.0 MB +2\.0 MB +3\.0 MB$", lines[storage + 1]);
    }

    [Fact]
    public async Task Usage_PrintsCsv_OfTheCallersUsage_WithBytesAndNoFormula()
    {
        var server = new FakeServer().OnJson(HttpMethod.Get, "/api/v1/me/usage", UsageJson);

        var run = await CliRun.RunAsync(server, "usage", "--csv");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(
            "user,runs,succeeded,failed,canceled,timed_out,system_error,wall_h,cpu_h,peak_p50,peak_p95,peak_max\n"
            + "ana,3,2,1,0,0,0,1.5,0.75,209715200,314572800,314572800\n"
            + "\"'=cmd,x\",1,1,0,0,0,0,0,0,,,\n",
            run.Out.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Logs_CopiesTheStream_WithFollowAndStderr()
    {
        var server = new FakeServer().On(HttpMethod.Get, $"/api/v1/runs/{Id}/log", _ =>
            new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("line 1\nline 2 ünïcode\n") });

        var run = await CliRun.RunAsync(server, "logs", Id, "--stderr", "-f");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("line 1\nline 2 ünïcode\n", run.Out);
        Assert.Equal($"/api/v1/runs/{Id}/log?stream=stderr&follow=true", server.Requests.Single().PathAndQuery);
    }

    [Fact]
    public async Task Cancel_PrintsTheResultingState()
    {
        var server = new FakeServer().OnJson(HttpMethod.Post, $"/api/v1/runs/{Id}/cancel", FakeServer.Run(Id, "canceled"));

        var run = await CliRun.RunAsync(server, "cancel", Id);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("canceled\n", run.Out.ReplaceLineEndings("\n"));
    }
}
