using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Runway.Data;
using Runway.Runs;

namespace Runway.Tests.Fixtures;

/// <summary>
/// The real server in process, on a fresh data directory (SQLite file) and the repository's example
/// pipelines, or a pipelines directory of the test's own. One per test. The first admin is made by the
/// server's own first start (from <see cref="AdminPassword"/>), and every other user and token through the API.
/// </summary>
public sealed class RunwayApp(string? pipelinesDirectory = null, int concurrency = 2, IReadOnlyDictionary<string, string>? settings = null)
    : WebApplicationFactory<Program>
{
    public const string AdminPassword = "admin-password-for-tests";

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("runway-test-").FullName;

    public string PipelinesDirectory { get; } = pipelinesDirectory ?? Repository.PipelinesDirectory;

    /// <summary>What the server logged, from its first line.</summary>
    public CapturedLogs Logs { get; } = new();

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Runway:DataDir", DataDirectory);
        builder.UseSetting("Runway:Pipelines", PipelinesDirectory);
        builder.UseSetting("Runway:Concurrency", concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Runway:StopGrace", "00:00:02");
        builder.UseSetting("Runway:MaxUploadBytes", "1048576");
        builder.UseSetting("Runway:Auth:AdminPassword", AdminPassword);
        // Fast hashing and generous login limits for tests only; the defaults stay production-strength.
        builder.UseSetting("Runway:Auth:PasswordIterations", "1000");
        builder.UseSetting("Runway:Auth:FailedLoginsPerUser", "10000");
        builder.UseSetting("Runway:Auth:FailedLoginsPerUserAndAddress", "10000");
        builder.UseSetting("Runway:Auth:FailedLoginsPerAddress", "10000");
        builder.UseSetting("Runway:Auth:TokenRequestsPerMinute", "10000");
        builder.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(Logs));
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }
    }

    public static string PasswordOf(string username) => username == "admin" ? AdminPassword : $"{username}-password";

    public static AuthenticationHeaderValue Basic(string username, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{secret}")));

    public static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);

    /// <summary>A client that sends the admin's password by HTTP Basic.</summary>
    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = Basic("admin", AdminPassword);
        return client;
    }

    /// <summary>Adds the user through the admin API; an existing user is left as it is.</summary>
    public async Task EnsureUserAsync(string username, string role = "user", IReadOnlyList<string>? groups = null)
    {
        using var admin = CreateAdminClient();
        using var response = await admin.PostAsJsonAsync("/api/v1/admin/users",
            new { username, password = PasswordOf(username), role, groups = groups ?? [] }, Json, TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict,
            $"adding {username} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
    }

    /// <summary>A personal token of the user, made by the user through POST /api/v1/tokens (logging in with the password).</summary>
    public async Task<string> CreateTokenAsync(string username, IReadOnlyList<string>? scopes = null, string name = "tests")
    {
        if (username != "admin")
        {
            await EnsureUserAsync(username);
        }
        using var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = Basic(username, PasswordOf(username));
        using var response = await client.PostAsJsonAsync("/api/v1/tokens", new { name, scopes }, Json, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating a token answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("token").GetString()!;
    }

    /// <summary>A client for the user (added if new) that sends a fresh personal token as a Bearer.</summary>
    public async Task<HttpClient> CreateUserClientAsync(string username = "ana", IReadOnlyList<string>? scopes = null)
    {
        var token = await CreateTokenAsync(username, scopes);
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = Bearer(token);
        return client;
    }

    public static async Task<JsonElement> SubmitAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/runs", body, Json, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"submit answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Polls the run until it is in a final state, or fails the test at the deadline.</summary>
    public static async Task<JsonElement> WaitFinalAsync(HttpClient client, string id, TimeSpan? timeout = null)
    {
        JsonElement run = default;
        await Eventually.TrueAsync(async () =>
        {
            run = await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", TestContext.Current.CancellationToken);
            return run.GetProperty("state").GetString() is not ("queued" or "running");
        }, timeout ?? TimeSpan.FromSeconds(30), $"run {id} to finish");
        return run;
    }

    private IHost? host;

    protected override IHost CreateHost(IHostBuilder builder) => host = base.CreateHost(builder);

    public override async ValueTask DisposeAsync()
    {
        if (host is not null && settings?.ContainsKey("Runway:DataDir") is not true)
        {
            await StopRunsAsync(host.Services);
        }
        await base.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A run process may still hold a file; the temp directory is reclaimed later.
        }
    }

    /// <summary>
    /// Stops what a test left running (a sleep it did not wait for) before its server stops. Runs outlive their
    /// server by design, but this one's data directory is deleted next and no server comes back for them; once they
    /// ended, nothing would remove their cgroup folders, which stay on the machine for good (a full suite left about
    /// 200) and which the kernel walks on every later run's CPU-quota write. Not where the test gave its own data
    /// directory: a later server there may be meant to find the runs.
    /// </summary>
    private static async Task StopRunsAsync(IServiceProvider services)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            var databases = services.GetRequiredService<IDbContextFactory<RunwayDb>>();
            async Task<List<string>> ActiveAsync()
            {
                await using var db = await databases.CreateDbContextAsync(deadline.Token);
                return await db.Runs.AsNoTracking().Where(r => r.State == RunState.Queued || r.State == RunState.Running)
                    .Select(r => r.Id).ToListAsync(deadline.Token);
            }
            var active = await ActiveAsync();
            if (active.Count == 0)
            {
                return;
            }
            // The one cancel path: a queued run ends canceled, a running one is stopped.
            var scheduler = services.GetRequiredService<RunScheduler>();
            foreach (var id in active)
            {
                await scheduler.CancelAsync(id, deadline.Token);
            }
            while ((await ActiveAsync()).Count > 0)
            {
                await Task.Delay(50, deadline.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            // Teardown only: a run that would not stop in time, or a server that was never started whole.
        }
    }
}
