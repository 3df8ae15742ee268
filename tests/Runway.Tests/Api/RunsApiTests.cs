using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

public sealed class RunsApiTests : IAsyncLifetime
{
    private readonly RunwayApp app = new();
    private HttpClient client = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => client = await app.CreateUserClientAsync();

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Submit_RunsToSuccess_AndRecordsEveryTransition()
    {
        var submitted = await RunwayApp.SubmitAsync(client, new { pipeline = "hello", @params = new { name = "Ada" }, tags = new { project = "m31" } });
        var id = submitted.GetProperty("id").GetString()!;
        Assert.Equal("queued", submitted.GetProperty("state").GetString());

        var run = await RunwayApp.WaitFinalAsync(client, id);

        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal(0, run.GetProperty("exit_code").GetInt32());
        Assert.Equal("m31", run.GetProperty("tags").GetProperty("project").GetString());
        var states = run.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("to").GetString()).ToList();
        Assert.Equal(["queued", "running", "succeeded"], states);
        var log = await client.GetStringAsync($"/api/v1/runs/{id}/log", Ct);
        Assert.Contains("Ada", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_Answers201WithLocation()
    {
        using var response = await client.PostAsJsonAsync("/api/v1/runs", new { pipeline = "hello" }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal($"/api/v1/runs/{body.GetProperty("id").GetString()}", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Submit_PassesShellMetacharactersAsPlainText()
    {
        const string hostile = "x; touch /tmp/runway-pwned $(id) `id` 'q' \"dq\" | cat > /dev/null & echo";
        var submitted = await RunwayApp.SubmitAsync(client, new { pipeline = "hello", @params = new { name = hostile } });

        var run = await RunwayApp.WaitFinalAsync(client, submitted.GetProperty("id").GetString()!);

        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        var log = await client.GetStringAsync($"/api/v1/runs/{run.GetProperty("id").GetString()}/log", Ct);
        Assert.Contains(hostile, log, StringComparison.Ordinal);
        Assert.False(File.Exists("/tmp/runway-pwned"));
    }

    [Theory]
    [InlineData("{\"pipeline\": \"hello\", ")]
    [InlineData("not json")]
    [InlineData("{\"pipeline\": 12}")]
    [InlineData("[1,2]")]
    public async Task Submit_Answers400Problem_WhenBodyIsMalformed(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/api/v1/runs", content, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("JSON", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("/api/v1/runs?limit=abc")]
    [InlineData("/api/v1/runs?limit=0")]
    [InlineData("/api/v1/runs?cursor=not-a-cursor")]
    [InlineData("/api/v1/runs?state=sleeping")]
    public async Task List_Answers4xxProblem_WhenQueryIsMalformed(string url)
    {
        using var response = await client.GetAsync(url, Ct);

        Assert.True((int)response.StatusCode is 400 or 422, $"answered {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Submit_Answers404Problem_WhenPipelineIsUnknown()
    {
        using var response = await client.PostAsJsonAsync("/api/v1/runs", new { pipeline = "nope" }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Submit_Answers422WithOneMessagePerBadField()
    {
        var body = new { pipeline = "sleep", @params = new { seconds = "ten", bogus = 1 }, priority = 5000 };
        using var response = await client.PostAsJsonAsync("/api/v1/runs", body, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("params.seconds", out _), problem.ToString());
        Assert.True(errors.TryGetProperty("params.bogus", out _), problem.ToString());
        Assert.True(errors.TryGetProperty("priority", out _), problem.ToString());
    }

    [Fact]
    public async Task Submit_Answers422_WhenValueIsOutOfRange()
    {
        using var response = await client.PostAsJsonAsync("/api/v1/runs", new { pipeline = "sleep", @params = new { seconds = -1 } }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(problem.GetProperty("errors").TryGetProperty("params.seconds", out _), problem.ToString());
    }

    [Fact]
    public async Task Submit_Answers422_WhenFileParameterNamesNoUpload()
    {
        var body = new { pipeline = "checksum", @params = new { input = "f_01JD0000000000000000000000" } };
        using var response = await client.PostAsJsonAsync("/api/v1/runs", body, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
    }

    [Fact]
    public async Task Submit_ReturnsFirstRun_WhenIdempotencyKeyRepeats()
    {
        async Task<(HttpStatusCode, string)> PostAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/runs") { Content = JsonContent.Create(new { pipeline = "hello" }) };
            request.Headers.Add("Idempotency-Key", "batch-7");
            using var response = await client.SendAsync(request, Ct);
            var run = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
            return (response.StatusCode, run.GetProperty("id").GetString()!);
        }

        var (firstStatus, firstId) = await PostAsync();
        var (secondStatus, secondId) = await PostAsync();

        Assert.Equal(HttpStatusCode.Created, firstStatus);
        Assert.Equal(HttpStatusCode.Created, secondStatus);
        Assert.Equal(firstId, secondId);
        var list = await client.GetFromJsonAsync<JsonElement>("/api/v1/runs", Ct);
        Assert.Single(list.GetProperty("runs").EnumerateArray());
    }

    [Fact]
    public async Task Cancel_StopsRunningRun_AndIsIdempotent()
    {
        var submitted = await RunwayApp.SubmitAsync(client, new { pipeline = "sleep", @params = new { seconds = 300 } });
        var id = submitted.GetProperty("id").GetString()!;
        await Eventually.TrueAsync(async () =>
            (await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct)).GetProperty("state").GetString() == "running",
            TimeSpan.FromSeconds(20), "the sleep run to start");

        using var first = await client.PostAsync($"/api/v1/runs/{id}/cancel", null, Ct);
        var run = await RunwayApp.WaitFinalAsync(client, id);
        using var second = await client.PostAsync($"/api/v1/runs/{id}/cancel", null, Ct);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("canceled", run.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Cancel_OfQueuedRun_NeverStartsIt()
    {
        await using var single = new RunwayApp(concurrency: 1);
        using var c = await single.CreateUserClientAsync();
        var blocker = await RunwayApp.SubmitAsync(c, new { pipeline = "sleep", @params = new { seconds = 300 } });
        var queued = await RunwayApp.SubmitAsync(c, new { pipeline = "hello" });
        var id = queued.GetProperty("id").GetString()!;

        using var response = await c.PostAsync($"/api/v1/runs/{id}/cancel", null, Ct);
        var run = await c.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct);

        Assert.Equal("canceled", run.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("started_at").ValueKind);
        using var _ = await c.PostAsync($"/api/v1/runs/{blocker.GetProperty("id").GetString()}/cancel", null, Ct);
    }

    [Fact]
    public async Task Get_Answers404Problem_WhenRunIsUnknown()
    {
        using var response = await client.GetAsync("/api/v1/runs/01JD0000000000000000000000", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task List_PagesNewestFirstByCursor_AndFilters()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var run = await RunwayApp.SubmitAsync(client, new { pipeline = "hello", tags = new { batch = i % 2 == 0 ? "even" : "odd" } });
            ids.Add(run.GetProperty("id").GetString()!);
        }

        var first = await client.GetFromJsonAsync<JsonElement>("/api/v1/runs?limit=2", Ct);
        var cursor = first.GetProperty("next_cursor").GetString();
        var second = await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs?limit=2&cursor={cursor}", Ct);
        var even = await client.GetFromJsonAsync<JsonElement>("/api/v1/runs?tag=batch:even", Ct);
        var bad = await client.GetAsync("/api/v1/runs?state=sleeping", Ct);

        var page = first.GetProperty("runs").EnumerateArray().Concat(second.GetProperty("runs").EnumerateArray()).Select(r => r.GetProperty("id").GetString()!).ToList();
        Assert.Equal(ids.AsEnumerable().Reverse().Take(4).ToList(), page);
        Assert.Equal(3, even.GetProperty("runs").GetArrayLength());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
    }

    [Fact]
    public async Task List_FiltersByTextInTheName_AnyCase()
    {
        await RunwayApp.SubmitAsync(client, new { pipeline = "hello", name = "March batch 100%" });
        await RunwayApp.SubmitAsync(client, new { pipeline = "hello", name = "april batch" });
        await RunwayApp.SubmitAsync(client, new { pipeline = "hello" });

        var batch = await client.GetFromJsonAsync<JsonElement>("/api/v1/runs?name=BATCH", Ct);
        var percent = await client.GetFromJsonAsync<JsonElement>("/api/v1/runs?name=100%25", Ct);
        var underscore = await client.GetFromJsonAsync<JsonElement>("/api/v1/runs?name=_", Ct);

        Assert.Equal(["april batch", "March batch 100%"], batch.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(1, percent.GetProperty("runs").GetArrayLength());
        Assert.Equal(0, underscore.GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public async Task OpenApi_DescribesTheRunsEndpoints()
    {
        var doc = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Ct);

        var paths = doc.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/runs", out _));
        Assert.True(paths.TryGetProperty("/api/v1/runs/{id}/cancel", out _));
        Assert.True(paths.TryGetProperty("/api/v1/files", out _));
    }

    [Fact]
    public async Task Health_AnswersOk()
    {
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz", Ct)).StatusCode);
    }

    private async Task AssertStillServingAsync()
    {
        using var response = await client.GetAsync("/api/v1/pipelines", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
