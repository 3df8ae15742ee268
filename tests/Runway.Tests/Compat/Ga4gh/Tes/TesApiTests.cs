using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;
using static Runway.Tests.Compat.Ga4gh.Tes.TesWorld;

// Request bodies written inline, as a client would send them: each array is built once per test (CA1861 is for hot paths).
#pragma warning disable CA1861

namespace Runway.Tests.Compat.Ga4gh.Tes;

/// <summary>
/// The ELIXIR TES compliance suite's jobs (elixir-cloud-aai/openapi-test-runner, tests/*.yml) as tests of Runway, at
/// the same paths, views, filters and pagination; each test names the job it stands for. These need no container:
/// their tasks name an image no node has, so they end in SYSTEM_ERROR, which is all listing and filtering need.
/// The jobs that run executors are in <see cref="TesExecutionTests"/>.
/// </summary>
public sealed class TesApiTests : IAsyncLifetime
{
    private readonly RunwayApp app = App();
    private HttpClient ana = null!;

    public async ValueTask InitializeAsync() => ana = await UserAsync(app, "ana");

    public async ValueTask DisposeAsync()
    {
        ana.Dispose();
        await app.DisposeAsync();
    }

    // service_info.yml
    [Theory]
    [InlineData("/ga4gh/tes/v1/service-info")]
    [InlineData("/v1/service-info")]
    [InlineData("/v1/tasks/service-info")]
    public async Task ServiceInfo_NamesTheTesType_AtEveryPathClientsTry_WithoutCredentials(string path)
    {
        // Public, as GA4GH service-info is: the compliance suite, Funnel and py-tes ask without a token.
        using var anonymous = app.CreateClient();
        var info = await GetAsync(anonymous, path);

        Assert.Equal("tes", info.GetProperty("type").GetProperty("artifact").GetString());
        Assert.Equal("org.ga4gh", info.GetProperty("type").GetProperty("group").GetString());
        Assert.Equal("1.1.0", info.GetProperty("type").GetProperty("version").GetString());
        foreach (var field in (string[])["id", "name", "organization", "version", "storage"])
        {
            Assert.True(info.TryGetProperty(field, out _), $"service-info lacks {field}");
        }
    }

    // create_task.yml, get_task_minimal.yml: the task is a run, visible in Runway's own API.
    [Fact]
    public async Task CreateTask_AnswersItsId_AndTheTaskIsARunWithItsExecutors()
    {
        var id = await CreateAsync(ana, Task("ComplianceTest_Create"));

        var minimal = await GetAsync(ana, $"/ga4gh/tes/v1/tasks/{id}");
        var run = await GetAsync(ana, $"/api/v1/runs/{id}");

        Assert.Equal(["id", "state"], minimal.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("ga4gh-tes", run.GetProperty("pipeline").GetString());
        Assert.Equal("ComplianceTest_Create", run.GetProperty("name").GetString());
        Assert.Equal("echo", run.GetProperty("params").GetProperty("executors")[0].GetProperty("command")[0].GetString());
    }

    // get_task_basic.yml, get_task_full.yml
    [Fact]
    public async Task GetTask_Views_LeaveOutWhatTheSpecSays()
    {
        var id = await CreateAsync(ana, new
        {
            name = "views",
            inputs = new[] { new { path = "/data/in.txt", content = "secret content" } },
            executors = new[] { new { image = MissingImage, command = new[] { "cat", "/data/in.txt" } } },
        });
        await WaitFinalAsync(ana, id);

        var basic = await GetAsync(ana, $"/ga4gh/tes/v1/tasks/{id}?view=BASIC");
        var full = await GetAsync(ana, $"/ga4gh/tes/v1/tasks/{id}?view=FULL");

        Assert.Equal("SYSTEM_ERROR", basic.GetProperty("state").GetString());
        Assert.False(basic.GetProperty("inputs")[0].TryGetProperty("content", out _));
        Assert.False(basic.GetProperty("logs")[0].TryGetProperty("system_logs", out _));
        Assert.True(basic.TryGetProperty("creation_time", out _));
        Assert.Equal("secret content", full.GetProperty("inputs")[0].GetProperty("content").GetString());
        Assert.Contains(full.GetProperty("logs")[0].GetProperty("system_logs").EnumerateArray(),
            l => l.GetString()!.Contains("runway-no-such-image", StringComparison.Ordinal) || l.GetString()!.Contains("container engine", StringComparison.Ordinal));
    }

    // list_tasks_minimal.yml, list_tasks_basic.yml, list_tasks_full.yml
    [Theory]
    [InlineData("MINIMAL")]
    [InlineData("BASIC")]
    [InlineData("FULL")]
    public async Task ListTasks_AnswersEachView(string view)
    {
        var id = await CreateAsync(ana, Task("list"));

        var list = await GetAsync(ana, $"/ga4gh/tes/v1/tasks?view={view}");

        var task = Assert.Single(list.GetProperty("tasks").EnumerateArray());
        Assert.Equal(id, task.GetProperty("id").GetString());
        Assert.Equal(view != "MINIMAL", task.TryGetProperty("executors", out _));
    }

    // list_tasks_page_size.yml, list_tasks_page_token.yml
    [Fact]
    public async Task ListTasks_PagesBySize_AndTheTokenGivesTheNextPage()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await CreateAsync(ana, Task($"page-{i}")));
        }

        var first = await GetAsync(ana, "/ga4gh/tes/v1/tasks?view=MINIMAL&page_size=2");
        var token = first.GetProperty("next_page_token").GetString();
        var second = await GetAsync(ana, $"/ga4gh/tes/v1/tasks?view=MINIMAL&page_size=2&page_token={token}");

        Assert.Equal(ids.AsEnumerable().Reverse().Take(2), first.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetString()));
        Assert.Equal([ids[0]], second.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetString()));
        Assert.False(second.TryGetProperty("next_page_token", out _));
    }

    [Theory]
    [InlineData("page_size=0")]
    [InlineData("page_size=2049")]
    [InlineData("page_size=x")]
    [InlineData("page_token=not-a-token")]
    [InlineData("view=EVERYTHING")]
    [InlineData("state=DONE")]
    public async Task ListTasks_BadQuery_Answers400ProblemJson(string query)
    {
        using var response = await ana.GetAsync($"/ga4gh/tes/v1/tasks?{query}", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(400, body.GetProperty("status").GetInt32());
        Assert.Equal(400, body.GetProperty("status_code").GetInt32());
    }

    // filter_task_by_name.yml
    [Fact]
    public async Task FilterTaskByName_KeepsThePrefixOnly()
    {
        var wanted = await CreateAsync(ana, Task("e70dda48-ComplianceTest"));
        await CreateAsync(ana, Task("other-ComplianceTest"));

        var list = await GetAsync(ana, "/ga4gh/tes/v1/tasks?name_prefix=e70dda48&view=BASIC");

        Assert.Equal([wanted], list.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetString()));
    }

    // filter_task_by_state.yml
    [Fact]
    public async Task FilterTaskByState_KeepsThatStateOnly()
    {
        var id = await CreateAsync(ana, Task("state"));
        await WaitFinalAsync(ana, id);

        var failed = await GetAsync(ana, "/ga4gh/tes/v1/tasks?state=SYSTEM_ERROR");
        var complete = await GetAsync(ana, "/ga4gh/tes/v1/tasks?state=COMPLETE");

        Assert.Equal([id], failed.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetString()));
        Assert.Empty(complete.GetProperty("tasks").EnumerateArray());
    }

    // filter_task_by_tag.yml, with TES 1.1's matching table.
    [Theory]
    [InlineData("tag_key=foo&tag_value=bar", true)]
    [InlineData("tag_key=foo&tag_value=bat", false)]
    [InlineData("tag_key=foo", true)]
    [InlineData("tag_key=foo&tag_value=", true)]
    [InlineData("tag_key=foo&tag_value=bar&tag_key=baz&tag_value=bat", true)]
    [InlineData("tag_key=foo&tag_value=bar&tag_key=baz&tag_value=bar", false)]
    [InlineData("tag_key=foo&tag_key=baz", true)]
    [InlineData("tag_key=missing", false)]
    public async Task FilterTaskByTag_FollowsTheSpecsMatchingRules(string query, bool matches)
    {
        var tagged = await CreateAsync(ana, Task("ComplianceTest_FilterTaskByTag1", tags: new Dictionary<string, string>
        {
            ["foo"] = "bar",
            ["baz"] = "bat",
            ["lorem"] = "ipsum",
            ["task"] = "create",
        }));
        await CreateAsync(ana, Task("untagged"));

        var list = await GetAsync(ana, $"/ga4gh/tes/v1/tasks?{query}&view=BASIC");

        Assert.Equal(matches ? [tagged] : [], list.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("id").GetString()));
    }

    // cancel_task.yml
    [Fact]
    public async Task CancelTask_AnswersAnEmptyObject_AtBothPrefixes()
    {
        var id = await CreateAsync(ana, Task("cancel"));

        foreach (var prefix in (string[])["/ga4gh/tes/v1", "/v1"])
        {
            using var response = await ana.PostAsync($"{prefix}/tasks/{id}:cancel", null, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("{}", await response.Content.ReadAsStringAsync(Ct));
        }
        var task = await WaitFinalAsync(ana, id, view: "MINIMAL");
        Assert.Contains(task.GetProperty("state").GetString(), (string[])["CANCELED", "SYSTEM_ERROR"]);
    }

    // create_task_backend_parameters.yml. TES 1.1 (tesResources.backend_parameters): "Backends shall log system warnings
    // if a key is passed that is unsupported. Backends shall not store or return unsupported keys" — Runway supports none.
    [Fact]
    public async Task CreateTask_IgnoresBackendParameters_WhenNotStrict_NeitherStoringNorReturningThem_AndLogsAWarning()
    {
        var id = await CreateAsync(ana, new
        {
            executors = new[] { new { image = MissingImage, command = new[] { "true" } } },
            resources = new { cpu_cores = 1, backend_parameters = new Dictionary<string, string> { ["VmSize"] = "Standard_D64_v3" }, backend_parameters_strict = false },
        });

        var task = await WaitFinalAsync(ana, id);
        var run = await GetAsync(ana, $"/api/v1/runs/{id}");

        Assert.Equal(1, task.GetProperty("resources").GetProperty("cpu_cores").GetInt32());
        Assert.False(task.GetProperty("resources").TryGetProperty("backend_parameters", out _), task.GetRawText());
        Assert.DoesNotContain("Standard_D64_v3", run.GetRawText(), StringComparison.Ordinal);
        Assert.Contains(task.GetProperty("logs")[0].GetProperty("system_logs").EnumerateArray(),
            l => l.GetString()!.Contains("backend_parameters", StringComparison.Ordinal) && l.GetString()!.Contains("VmSize", StringComparison.Ordinal));
    }

    // create_task_backend_parameters_negative.yml. The job expects 500 (its comment says it meant 400). TES 1.1 says a
    // backend "should fail the task if any key/values are unsupported" when backend_parameters_strict is true, and
    // POST /tasks answers 400 for "the request is malformed": Runway refuses the task at once with 400, naming the
    // field, and never answers 500 for bad input. So this job fails against Runway by design.
    [Fact]
    public async Task CreateTask_StrictBackendParametersNotSupported_IsRefused400_NotTheSuites500_AndNoTaskIsMade()
    {
        const string Body = """
            {"name": "CompTest", "description": "CompTest", "executors": [{"image": "alpine", "command": ["echo", "hello"]}],
             "resources": {"backend_parameters": {"INVALID": "PARAMETER"}, "backend_parameters_strict": true}}
            """;

        using var response = await ana.PostAsync("/ga4gh/tes/v1/tasks", new StringContent(Body, System.Text.Encoding.UTF8, "application/json"), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Contains("INVALID", problem.GetProperty("errors").GetProperty("resources.backend_parameters")[0].GetString(), StringComparison.Ordinal);
        Assert.Empty((await GetAsync(ana, "/ga4gh/tes/v1/tasks")).GetProperty("tasks").EnumerateArray());
    }

    // create_task_resources.yml: what the node has is accepted, what it has not is refused.
    [Fact]
    public async Task CreateTask_Resources_WithinTheNode_AreAccepted()
    {
        await CreateAsync(ana, new
        {
            executors = new[] { new { image = MissingImage, command = new[] { "true" } } },
            resources = new { cpu_cores = 1, preemptible = false, ram_gb = 0.1, disk_gb = 0.001, zones = new[] { "us-west-1" } },
        });
    }

    // create_task_optional_filetype.yml, create_task_streamable.yml, create_task_output_wildcard.yml (its JSON made valid)
    [Fact]
    public async Task CreateTask_AcceptsUntypedInputs_StreamableInputs_AndWildcardOutputs()
    {
        await CreateAsync(ana, new
        {
            inputs = new object[] { new { path = "/data/a.txt", content = "a" }, new { path = "/data/b.txt", content = "b", streamable = true, type = "FILE" } },
            outputs = new object[]
            {
                new { url = "https://my.storage.org/bucket/", path = "/path/in/container/*/*.?am", path_prefix = "/path/in/container" },
                new { url = "s3://bucket/out", path = "/out/dir", type = "DIRECTORY" },
            },
            executors = new[] { new { image = MissingImage, command = new[] { "TestString1", "TestString2" } } },
        });
    }

    public static TheoryData<string, string> BadTasks => new()
    {
        { """{"executors": []}""", "executors" },
        { """{"executors": [{"image": "-v", "command": ["x"]}]}""", "executors[0].image" },
        { """{"executors": [{"image": "alpine", "command": []}]}""", "executors[0].command" },
        { """{"executors": [{"image": "alpine", "command": ["x"], "workdir": "relative"}]}""", "executors[0].workdir" },
        { """{"executors": [{"image": "alpine", "command": ["x"], "stdout": "/a/../../etc/passwd"}]}""", "executors[0].stdout" },
        { """{"executors": [{"image": "alpine", "command": ["x"], "env": {"A=B": "c"}}]}""", "executors[0].env" },
        { """{"executors": [{"image": "alpine", "command": ["x"]}], "inputs": [{"path": "/data/x", "url": "s3://bucket/x"}]}""", "inputs[0].url" },
        { """{"executors": [{"image": "alpine", "command": ["x"]}], "inputs": [{"path": "/data/x", "url": "file:///etc/passwd"}]}""", "inputs[0].url" },
        { """{"executors": [{"image": "alpine", "command": ["x"]}], "inputs": [{"path": "/data/x"}]}""", "inputs[0].url" },
        { """{"executors": [{"image": "alpine", "command": ["x"]}], "inputs": [{"path": "data/x", "content": "c"}]}""", "inputs[0].path" },
        { """{"executors": [{"image": "alpine", "command": ["x"]}], "inputs": [{"path": "/d:/x", "content": "c"}]}""", "inputs[0].path" },
        { """{"executors": [{"image": "alpine", "command": ["x"]}], "outputs": [{"path": "/top.txt", "url": "x"}]}""", "outputs[0].path" },
        { """{"executors": [{"image": "alpine", "command": ["x"]}], "volumes": ["/vol/../.."]}""", "volumes[0]" },
        { """{"executors": [{"image": "alpine", "command": ["x"]}], "resources": {"cpu_cores": 100000}}""", "resources.cpu_cores" },
        { """{"executors": [{"image": "alpine", "command": ["x"]}], "resources": {"ram_gb": 1000000}}""", "resources.ram_gb" },
        { """{"executors": [{"image": "alpine", "command": ["x"]}], "resources": {"disk_gb": 1e12}}""", "resources.disk_gb" },
        // create_task_backend_parameters_negative.yml's body, without a name (see the test above for why 400, not 500).
        { """{"executors": [{"image": "alpine", "command": ["x"]}], "resources": {"backend_parameters": {"INVALID": "PARAMETER"}, "backend_parameters_strict": true}}""", "resources.backend_parameters" },
        { $$"""{"executors": [{"image": "alpine", "command": ["x"]}], "name": "{{new string('n', 201)}}"}""", "name" },
    };

    [Theory]
    [MemberData(nameof(BadTasks))]
    public async Task CreateTask_BadTask_Answers400NamingTheField(string body, string field)
    {
        using var response = await ana.PostAsync("/ga4gh/tes/v1/tasks", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);

        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    [InlineData("null")]
    [InlineData("""{"executors": [{"image": "alpine", "command": "echo hi"}]}""")]
    public async Task CreateTask_NotATask_Answers400(string body)
    {
        using var response = await ana.PostAsync("/ga4gh/tes/v1/tasks", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task CreateTask_AnotherUsersFile_IsRefusedAsAnyMissingFile()
    {
        using var bob = await UserAsync(app, "bob");
        using var upload = new MultipartFormDataContent { { new ByteArrayContent("bob's"u8.ToArray()), "file", "bob.txt" } };
        using var uploaded = await bob.PostAsync("/api/v1/files", upload, Ct);
        var fileId = (await uploaded.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();

        using var response = await ana.PostAsJsonAsync("/ga4gh/tes/v1/tasks", new
        {
            inputs = new[] { new { path = "/data/x", url = $"runway://files/{fileId}" } },
            executors = new[] { new { image = MissingImage, command = new[] { "cat", "/data/x" } } },
        }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal($"no uploaded file with id '{fileId}'", body.GetProperty("errors").GetProperty("inputs")[0].GetString());
    }

    [Fact]
    public async Task HttpInput_IsFetchedIntoAnUploadOfTheCallers_OnlyWhereTheOperatorAllowsHttp()
    {
        var port = FreePort();
        using var server = new HttpListener();
        server.Prefixes.Add($"http://127.0.0.1:{port}/");
        server.Start();
        var serving = System.Threading.Tasks.Task.Run(async () =>
        {
            var context = await server.GetContextAsync();
            context.Response.ContentType = "text/plain";
            await context.Response.OutputStream.WriteAsync("fetched over http\n"u8.ToArray(), Ct);
            context.Response.Close();
        }, Ct);
        var url = $"http://127.0.0.1:{port}/data/in.txt";
        object Fetching(string inputUrl) => new
        {
            inputs = new[] { new { path = "/data/in.txt", url = inputUrl } },
            executors = new[] { new { image = MissingImage, command = new[] { "cat", "/data/in.txt" } } },
        };
        await using var allowing = new RunwayApp(settings: new Dictionary<string, string>
        {
            ["Runway:Tes:Enabled"] = "true",
            ["Runway:Tes:AllowedGroups:0"] = Group,
            ["Runway:Tes:AllowedInputSchemes:0"] = "http",
            ["Runway:Tes:AllowedInputSchemes:1"] = "s3",
        });
        using var user = await UserAsync(allowing, "ana");

        using var refused = await ana.PostAsJsonAsync("/ga4gh/tes/v1/tasks", Fetching(url), RunwayApp.Json, Ct); // the default: http not allowed
        var id = await CreateAsync(user, Fetching(url));
        using var s3 = await user.PostAsJsonAsync("/ga4gh/tes/v1/tasks", Fetching("s3://bucket/in.txt"), RunwayApp.Json, Ct);
        await serving;

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, s3.StatusCode);
        var task = await GetAsync(user, $"/ga4gh/tes/v1/tasks/{id}?view=FULL");
        var fileUrl = task.GetProperty("inputs")[0].GetProperty("url").GetString()!;
        Assert.StartsWith("runway://files/", fileUrl, StringComparison.Ordinal);
        Assert.Equal("fetched over http\n", await user.GetStringAsync($"/api/v1/files/{fileUrl["runway://files/".Length..]}", Ct));
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Fact]
    public async Task AnotherUsersTask_Answers404_AndIsNotListed()
    {
        var id = await CreateAsync(ana, Task("ana's"));
        using var bob = await UserAsync(app, "bob");

        using var get = await bob.GetAsync($"/ga4gh/tes/v1/tasks/{id}?view=FULL", Ct);
        using var cancel = await bob.PostAsync($"/ga4gh/tes/v1/tasks/{id}:cancel", null, Ct);
        var list = await GetAsync(bob, "/ga4gh/tes/v1/tasks");

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
        Assert.Empty(list.GetProperty("tasks").EnumerateArray());
    }

    [Fact]
    public async Task ARunOfAPipeline_IsNoTask()
    {
        var run = await RunwayApp.SubmitAsync(ana, new { pipeline = "hello" });

        using var response = await ana.GetAsync($"/ga4gh/tes/v1/tasks/{run.GetProperty("id").GetString()}", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task UserOutsideTheAllowedGroups_Gets403_OnEveryTaskEndpoint()
    {
        using var carl = await UserAsync(app, "carl", inGroup: false);
        var id = await CreateAsync(ana, Task("ana's"));

        using var create = await carl.PostAsJsonAsync("/ga4gh/tes/v1/tasks", Task("carl's"), RunwayApp.Json, Ct);
        using var list = await carl.GetAsync("/v1/tasks", Ct);
        using var get = await carl.GetAsync($"/ga4gh/tes/v1/tasks/{id}", Ct);
        using var cancel = await carl.PostAsync($"/ga4gh/tes/v1/tasks/{id}:cancel", null, Ct);

        Assert.All((HttpResponseMessage[])[create, list, get, cancel], r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        Assert.Equal("application/problem+json", create.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TesOff_Answers404_Everywhere()
    {
        await using var off = App(enabled: false);
        using var user = await UserAsync(off, "ana");

        foreach (var path in (string[])["/ga4gh/tes/v1/service-info", "/ga4gh/tes/v1/tasks", "/v1/tasks"])
        {
            using var response = await user.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        using var create = await user.PostAsJsonAsync("/ga4gh/tes/v1/tasks", Task("off"), RunwayApp.Json, Ct);
        Assert.Equal(HttpStatusCode.NotFound, create.StatusCode);
        Assert.Empty((await GetAsync(user, "/api/v1/runs")).GetProperty("runs").EnumerateArray());
    }
}
