using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>
/// A run cannot read or change Runway's own data, through the real server: the mode it probed at start
/// (run_account as root with the runway-run account, as in CI; namespaces for an unprivileged server).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RunIsolationTests : IAsyncLifetime
{
    private readonly string pipelines = Directory.CreateTempSubdirectory("runway-isolation-").FullName;
    private RunwayApp app = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        // The pipelines directory is the run account's to read, as an operator's would be.
        File.SetUnixFileMode(pipelines, (UnixFileMode)0b111_101_101);
        File.WriteAllText(Path.Combine(pipelines, "peek.yaml"), """
            name: peek
            version: "1"
            parameters:
              path: {type: string, required: true}
            command: [/bin/sh, -c, 'cat -- "$1"', peek, "{path}"]
            """);
        File.WriteAllText(Path.Combine(pipelines, "scribble.yaml"), """
            name: scribble
            version: "1"
            parameters:
              input: {type: file, required: true}
            command: [/bin/sh, -c, 'chmod u+w "$1" && echo changed by the run > "$1"', scribble, "{input}"]
            """);
        app = new RunwayApp(pipelines);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        Directory.Delete(pipelines, recursive: true);
    }

    /// <summary>The supervisor is built wherever cc is (CI installs it): runs there must not quietly take the chain.</summary>
    [Fact]
    public async Task Readyz_SaysRunsStartThroughTheSupervisor()
    {
        using var client = app.CreateAdminClient();

        var ready = await client.GetFromJsonAsync<JsonElement>("/readyz", Ct);

        if (ready.GetProperty("run_start").GetString() != "supervisor")
        {
            Requires.Skip($"runs start through the chain here: {ready.GetProperty("run_start_detail").GetString()}");
        }
    }

    /// <summary>A probe or a user learns ready or not and each executor's status; how runs are isolated, and why, is the operator's.</summary>
    [Fact]
    public async Task Readyz_TellsOnlyStatusToAnyoneButAnAdmin()
    {
        using var anonymous = app.CreateClient();
        using var user = await app.CreateUserClientAsync();
        using var wrong = app.CreateClient();
        wrong.DefaultRequestHeaders.Authorization = RunwayApp.Basic("admin", "not-the-password");

        foreach (var client in (HttpClient[])[anonymous, user, wrong])
        {
            var ready = await client.GetFromJsonAsync<JsonElement>("/readyz", Ct);

            Assert.Equal("ok", ready.GetProperty("status").GetString());
            Assert.Equal("ok", ready.GetProperty("executors").GetProperty("local").GetProperty("status").GetString());
            Assert.Equal(["status", "pipelines", "executors"], ready.EnumerateObject().Select(p => p.Name));
            Assert.Equal(["status"], ready.GetProperty("executors").GetProperty("local").EnumerateObject().Select(p => p.Name));
        }
    }

    [Fact]
    public async Task Readyz_SaysHowRunsAreIsolated()
    {
        using var client = app.CreateAdminClient();

        var ready = await client.GetFromJsonAsync<JsonElement>("/readyz", Ct);

        Assert.Equal("ok", ready.GetProperty("status").GetString());
        Assert.Equal(2, ready.GetProperty("pipelines").GetInt32());
        Assert.Contains(ready.GetProperty("isolation").GetString(), (string[])["run_account", "namespaces"]);
        Assert.Contains("hidden", ready.GetProperty("isolation_detail").GetString(), StringComparison.Ordinal);
    }

    /// <summary>As root (CI), this machine kind's hybrid cgroups are writable: runs there must not quietly go unlimited.</summary>
    [Fact]
    public async Task Readyz_SaysHowRunsAreLimited()
    {
        using var client = app.CreateAdminClient();

        var ready = await client.GetFromJsonAsync<JsonElement>("/readyz", Ct);

        var limits = ready.GetProperty("limits").GetString();
        Assert.Contains(limits, (string[])["cgroup_v2", "cgroup_hybrid", "none"]);
        Assert.False(string.IsNullOrEmpty(ready.GetProperty("limits_detail").GetString()));
        if (limits == "none")
        {
            Requires.Skip($"runs are not limited here: {ready.GetProperty("limits_detail").GetString()}");
        }
    }

    [Fact]
    public async Task Run_CannotReadTheDatabaseTheNodeIdOrAnotherUsersUpload()
    {
        using var ana = await app.CreateUserClientAsync("ana");
        using var bob = await app.CreateUserClientAsync("bob");
        var upload = await UploadAsync(ana, "ana's private notes");
        string[] targets = [Path.Combine(app.DataDirectory, "runway.db"), Path.Combine(app.DataDirectory, "node-id"), Blob("ana's private notes")];
        Assert.All(targets, t => Assert.True(File.Exists(t), $"{t} should exist for this test to mean anything"));

        foreach (var target in targets)
        {
            var run = await RunAsync(bob, new { pipeline = "peek", @params = new { path = target } });

            Assert.Equal("failed", run.GetProperty("state").GetString());
            Assert.Equal("", await LogAsync(bob, run, "stdout"));
        }
    }

    [Fact]
    public async Task Run_CannotChangeTheStoredUpload_WhenItWritesItsInput()
    {
        using var ana = await app.CreateUserClientAsync("ana");
        var upload = await UploadAsync(ana, "original");

        var run = await RunAsync(ana, new { pipeline = "scribble", @params = new { input = upload } });

        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal("original", await ana.GetStringAsync($"/api/v1/files/{upload}", Ct));
        // The blob every upload of these bytes shares (content-addressed files) is what must not change.
        Assert.Equal("original", File.ReadAllText(Blob("original")));
    }

    /// <summary>
    /// A runs directory outside the data directory (Runway:RunsDirectory) holds the run directories, is private,
    /// and a run cannot read another's log there (IsolatedExecutorTests shows it hidden in every mode).
    /// </summary>
    [Fact]
    public async Task Run_CannotReadAnotherRunsLog_WhenTheRunsDirectoryIsOutsideTheDataDirectory()
    {
        var runs = Path.Combine(Directory.CreateTempSubdirectory("runway-runs-").FullName, "runs");
        await using var separate = new RunwayApp(pipelines, settings: new Dictionary<string, string> { ["Runway:RunsDirectory"] = runs });
        try
        {
            using var ana = await separate.CreateUserClientAsync("ana");
            using var bob = await separate.CreateUserClientAsync("bob");
            var first = await RunAsync(ana, new { pipeline = "peek", @params = new { path = "/etc/hostname" } });
            var log = Path.Combine(runs, first.GetProperty("id").GetString()!, "stdout.log");
            Assert.True(File.Exists(log), $"{log}: run directories should be in the configured runs directory");
            Assert.False(Directory.Exists(Path.Combine(separate.DataDirectory, "runs", first.GetProperty("id").GetString()!)));
            Assert.Equal((UnixFileMode)0b111_000_000, File.GetUnixFileMode(runs));

            var peek = await RunAsync(bob, new { pipeline = "peek", @params = new { path = log } });

            Assert.Equal("failed", peek.GetProperty("state").GetString());
            Assert.Equal("", await LogAsync(bob, peek, "stdout"));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(runs)!, recursive: true);
        }
    }

    private static async Task<JsonElement> RunAsync(HttpClient client, object body) =>
        await RunwayApp.WaitFinalAsync(client, (await RunwayApp.SubmitAsync(client, body)).GetProperty("id").GetString()!);

    private static async Task<string> LogAsync(HttpClient client, JsonElement run, string stream) =>
        await client.GetStringAsync($"/api/v1/runs/{run.GetProperty("id").GetString()}/log?stream={stream}", Ct);

    private static async Task<string> UploadAsync(HttpClient client, string text)
    {
        using var content = new MultipartFormDataContent();
        var part = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        part.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        content.Add(part, "file", "notes.txt");
        using var response = await client.PostAsync("/api/v1/files", content, Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("id").GetString()!;
    }

    /// <summary>Where the server keeps these bytes: one blob per sha256 (FileStore).</summary>
    private string Blob(string text)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        return Path.Combine(app.DataDirectory, "blobs", sha256[..2], sha256);
    }
}
