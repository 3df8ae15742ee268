using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Server;

/// <summary>The built binary, as a user starts it, driven over HTTP and through its own CLI verbs.</summary>
public sealed class ServerProcessTests : IAsyncLifetime
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("runway-proc-").FullName;
    private readonly string pipelinesDirectory = Directory.CreateTempSubdirectory("runway-pipes-").FullName;
    // Outside the data directory, which runs cannot see, and writable by the run account.
    private readonly string shared = Shared();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        // A pipeline that counts its own executions, so a run executed twice is seen.
        File.WriteAllText(Path.Combine(pipelinesDirectory, "count.yaml"), """
            name: count
            version: "1"
            parameters:
              marker: {type: string, required: true}
              seconds: {type: integer, default: 3}
            command: [/bin/sh, -c, 'echo run >> "$1"; sleep "$2"; echo done', count, "{marker}", "{seconds}"]
            """);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(pipelinesDirectory, recursive: true);
        Directory.Delete(shared, recursive: true);
        try
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }

    [Theory]
    [InlineData("kill")] // a crash
    [InlineData("stop")] // systemctl restart
    public async Task Restart_WhileRunning_LosesNoRunAndRunsNoneTwice(string how)
    {
        var marker1 = Path.Combine(shared, "marker1");
        var marker2 = Path.Combine(shared, "marker2");
        await using var server = new RunwayProcess(dataDirectory, pipelinesDirectory, concurrency: 1);
        await server.StartAsync();
        using var http = server.CreateClient();
        var running = await SubmitAsync(http, marker1, seconds: 4);
        var queued = await SubmitAsync(http, marker2, seconds: 0);
        await Eventually.TrueAsync(async () => await StateAsync(http, running) == "running" && File.Exists(marker1), TimeSpan.FromSeconds(30), "the first run to start");

        await (how == "kill" ? server.KillAsync() : server.StopAsync());
        await using var restarted = new RunwayProcess(dataDirectory, pipelinesDirectory, concurrency: 1);
        await restarted.StartAsync();
        using var http2 = restarted.CreateClient();
        await Eventually.TrueAsync(async () => await StateAsync(http2, running) is "succeeded" && await StateAsync(http2, queued) is "succeeded",
            TimeSpan.FromSeconds(60), "both runs to succeed after the restart");

        Assert.Equal(["run"], File.ReadAllLines(marker1));
        Assert.Equal(["run"], File.ReadAllLines(marker2));
        var log = await http2.GetStringAsync($"/api/v1/runs/{running}/log", Ct);
        Assert.Contains("done", log, StringComparison.Ordinal);
    }

    /// <summary>
    /// Issue 10: a crash of the server while hundreds of trivial runs start and finish through the supervisor
    /// loses none, runs none twice, and keeps each run's own exit code (runs exit with different codes).
    /// </summary>
    [Fact]
    public async Task Kill_WhileHundredsOfRunsStartAndFinish_EachRunsOnceWithItsExitCode()
    {
        const int count = 300;
        File.WriteAllText(Path.Combine(pipelinesDirectory, "code.yaml"), """
            name: code
            version: "1"
            parameters:
              marker: {type: string, required: true}
              code: {type: integer, default: 0}
            command: [/bin/sh, -c, 'echo run >> "$1"; exit "$2"', code, "{marker}", "{code}"]
            """);
        await using var server = new RunwayProcess(dataDirectory, pipelinesDirectory, concurrency: 4);
        await server.StartAsync();
        using var http = server.CreateClient();
        var ready = await http.GetFromJsonAsync<JsonElement>("/readyz", Ct);
        if (ready.GetProperty("run_start").GetString() != "supervisor")
        {
            Requires.Skip($"runs do not start through the supervisor here: {ready.GetProperty("run_start_detail").GetString()}");
        }
        var runs = new List<(string Id, string Marker, int Code)>();
        for (var i = 0; i < count; i++)
        {
            var marker = Path.Combine(shared, $"m{i}");
            using var response = await http.PostAsJsonAsync("/api/v1/runs", new { pipeline = "code", @params = new { marker, code = i % 7 } }, Ct);
            var run = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.True(response.IsSuccessStatusCode, run.ToString());
            runs.Add((run.GetProperty("id").GetString()!, marker, i % 7));
        }
        // Mid-burst: some runs done, some running, most queued.
        await Eventually.TrueAsync(() => Directory.EnumerateFiles(shared).Count() >= count / 5, TimeSpan.FromSeconds(60), "a fifth of the runs to have run");

        await server.KillAsync();
        await using var restarted = new RunwayProcess(dataDirectory, pipelinesDirectory, concurrency: 4);
        await restarted.StartAsync();
        using var http2 = restarted.CreateClient();
        var states = new Dictionary<string, JsonElement>();
        await Eventually.TrueAsync(async () =>
        {
            var page = await http2.GetFromJsonAsync<JsonElement>($"/api/v1/runs?pipeline=code&limit=500", Ct);
            states = page.GetProperty("runs").EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!);
            return states.Count == count && states.Values.All(r => r.GetProperty("state").GetString() is "succeeded" or "failed" or "system_error");
        }, TimeSpan.FromSeconds(120), "every run to end after the restart");

        foreach (var (id, marker, code) in runs)
        {
            var run = states[id];
            Assert.True(run.GetProperty("exit_code").ValueKind == JsonValueKind.Number && run.GetProperty("exit_code").GetInt32() == code, $"run {id}: {run}");
            Assert.Equal(["run"], File.ReadAllLines(marker));
        }
    }

    [Fact]
    public async Task Cli_SubmitsWaitsAndReadsLogs()
    {
        await using var server = new RunwayProcess(dataDirectory, Repository.PipelinesDirectory, concurrency: 2);
        await server.StartAsync();

        var (code, stdout, stderr) = await server.CliAsync("submit", "hello", "name=from the cli", "--wait");
        Assert.True(code == 0, $"submit --wait exited {code}: {stdout}{stderr}");
        var id = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0].Trim();
        var logs = await server.CliAsync("logs", id);
        var list = await server.CliAsync("list", "--json");
        var bad = await server.CliAsync("submit", "sleep", "seconds=-5");

        Assert.Contains("from the cli", logs.Stdout, StringComparison.Ordinal);
        Assert.Contains(id, list.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("seconds", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstStart_PrintsAGeneratedAdminPasswordThatLogsIn_AndNoSecondTime()
    {
        await using var server = new RunwayProcess(dataDirectory, pipelinesDirectory, adminPassword: null);
        await server.StartAsync();
        var printed = server.Output.Text.Split('\n').SkipWhile(l => !l.Contains("generated password", StringComparison.Ordinal)).Skip(2).First().Trim();
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        using var anonymous = await http.GetAsync("/api/v1/runs", Ct);
        http.DefaultRequestHeaders.Authorization = RunwayApp.Basic("admin", printed);
        var me = await http.GetFromJsonAsync<JsonElement>("/api/v1/me", Ct);
        await server.KillAsync();
        await using var restarted = new RunwayProcess(dataDirectory, pipelinesDirectory, adminPassword: null);
        await restarted.StartAsync();

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("admin", me.GetProperty("role").GetString());
        Assert.Contains("runway login", server.Output.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("generated password", restarted.Output.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WritesNothingOutsideItsDataDirectory()
    {
        // ASP.NET Core keeps data protection keys in ~/.aspnet unless told otherwise.
        var home = Directory.CreateTempSubdirectory("runway-test-home-").FullName;
        try
        {
            await using var server = new RunwayProcess(dataDirectory, pipelinesDirectory);
            server.Environment["HOME"] = home;
            await server.StartAsync();
            using var http = server.CreateClient();
            var id = await SubmitAsync(http, "home", 0);
            await Eventually.TrueAsync(async () => await StateAsync(http, id) == "succeeded", TimeSpan.FromSeconds(30), "the run to succeed");
            await server.KillAsync();

            Assert.Empty(Directory.EnumerateFileSystemEntries(home, "*", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static string Shared()
    {
        var directory = Directory.CreateTempSubdirectory("runway-shared-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111);
        }
        return directory;
    }

    private static async Task<string> SubmitAsync(HttpClient http, string marker, int seconds)
    {
        using var response = await http.PostAsJsonAsync("/api/v1/runs", new { pipeline = "count", @params = new { marker, seconds } }, Ct);
        var run = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(response.IsSuccessStatusCode, run.ToString());
        return run.GetProperty("id").GetString()!;
    }

    private static async Task<string?> StateAsync(HttpClient http, string id) =>
        (await http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct)).GetProperty("state").GetString();
}
