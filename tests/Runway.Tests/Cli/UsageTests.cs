namespace Runway.Tests.Cli;

public class UsageTests
{
    [Fact]
    public async Task Help_ListsEveryVerbIncludingServe()
    {
        var run = await CliRun.RunAsync(null, "--help");

        Assert.Equal(0, run.ExitCode);
        foreach (var verb in new[] { "serve", "pipelines", "submit", "list", "status", "logs", "wait", "cancel", "upload", "download" })
        {
            Assert.Matches($@"\n\s+{verb}\b", run.Out);
        }
        Assert.Contains("start the Runway server", run.Out, StringComparison.Ordinal);
        Assert.Contains("--server", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitHelp_DocumentsTheExitCodes()
    {
        var run = await CliRun.RunAsync(null, "wait", "--help");

        Assert.Contains("6  --timeout passed", run.Out, StringComparison.Ordinal);
        Assert.Contains("3  the run was canceled", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitHelp_ShowsExamples()
    {
        var run = await CliRun.RunAsync(null, "submit", "--help");

        Assert.Contains("runway submit wordstats input=@book.txt", run.Out, StringComparison.Ordinal);
        Assert.Contains("--idempotency-key", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoVerb_ShowsHelp_AndExits2()
    {
        var run = await CliRun.RunAsync(null);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Usage:", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ParseError_SaysWhatIsWrong_AndExits2()
    {
        var run = await CliRun.RunAsync(null, "wait");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("runway: ", run.Error, StringComparison.Ordinal);
        Assert.Contains("runway wait --help", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownVerb_IsNamed_AndExits2()
    {
        var run = await CliRun.RunAsync(null, "frobnicate");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("frobnicate", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadServerUrl_IsAUsageError()
    {
        var run = await CliRun.RunAsync(null, "list", "--server", "ftp://example.org");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("runway: 'ftp://example.org' is not a server URL", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadTimeout_IsAUsageError()
    {
        var run = await CliRun.RunAsync(null, "wait", "X", "--timeout", "soon");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("'soon' is not a duration", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TagOption_TakesOneValuePerFlag_SoPairsAfterItStayParameters()
    {
        var server = new FakeServer()
            .OnJson(HttpMethod.Get, "/api/v1/pipelines/p", """{"name":"p","version":"1","parameters":{"type":"object","properties":{"a":{"type":"integer"}}}}""")
            .OnJson(HttpMethod.Post, "/api/v1/runs", FakeServer.Run("01JD000000000000000000RUN1", "queued"), System.Net.HttpStatusCode.Created);

        var run = await CliRun.RunAsync(server, "submit", "p", "--tag", "k=v", "a=1");

        Assert.Equal(0, run.ExitCode);
        var body = System.Text.Json.Nodes.JsonNode.Parse(server.Requests.Single(r => r.Method == HttpMethod.Post).Body!)!;
        Assert.Equal(1, body["params"]!["a"]!.GetValue<int>());
        Assert.Equal("v", body["tags"]!["k"]!.GetValue<string>());
    }

    [Fact]
    public async Task Serve_HandsTheRestOfTheArgumentsToTheServer()
    {
        string[]? received = null;
        var host = new Runway.Cli.CliHost(new StringWriter(), new StringWriter(), false, _ => null, () => new FakeServer(), TimeProvider.System,
            (args, _) =>
            {
                received = args;
                return Task.FromResult(0);
            });

        var code = await Runway.Cli.Cli.RunAsync(["serve", "--urls", "http://0.0.0.0:9000", "--data", "/srv/runway"], host, TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        Assert.Equal(["--urls", "http://0.0.0.0:9000", "--data", "/srv/runway"], received!);
    }

    [Fact]
    public async Task Server_ComesFromRunwayUrl_ThenRunwayServer()
    {
        var server = new FakeServer().OnJson(HttpMethod.Get, "/prefix/api/v1/pipelines", """{"pipelines":[]}""");
        var env = new Dictionary<string, string> { ["RUNWAY_SERVER"] = "http://other:1", ["RUNWAY_URL"] = "runway.test:8443/prefix" };
        var host = new Runway.Cli.CliHost(new StringWriter(), new StringWriter(), false, k => env.GetValueOrDefault(k), () => server, TimeProvider.System);

        var code = await Runway.Cli.Cli.RunAsync(["pipelines"], host, TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        Assert.Equal("/prefix/api/v1/pipelines", server.Requests.Single().PathAndQuery);
    }
}
