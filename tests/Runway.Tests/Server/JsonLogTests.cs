using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Server;

/// <summary>
/// The built server with <c>--log-format json</c>, every log category at Debug, driven through sign-ins,
/// tokens, an OAuth client and a run: each line of its output parses as one JSON object, the fields a log
/// shipper indexes are there, and none of the secrets it was given or gave out appears anywhere in it.
/// </summary>
public sealed class JsonLogTests : IAsyncLifetime
{
    private const string UserPassword = "correct horse battery staple 7";
    private const string WrongPassword = "wrong-password-typed-by-lena";
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("runway-jsonlog-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Directory.Delete(dataDirectory, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task JsonLogs_ParseLineByLine_CarryRunUserAndRequest_AndHoldNoSecret()
    {
        await using var server = new RunwayProcess(dataDirectory, Repository.PipelinesDirectory)
        {
            Environment =
            {
                ["RUNWAY_LOG_FORMAT"] = "json",
                ["Logging__LogLevel__Default"] = "Debug",
                ["Logging__LogLevel__Microsoft.AspNetCore"] = "Debug",
                ["Logging__LogLevel__Microsoft.EntityFrameworkCore"] = "Debug",
            },
        };
        await server.StartAsync();
        using var admin = server.CreateClient();
        using var added = await admin.PostAsJsonAsync("/api/v1/admin/users", new { username = "lena", password = UserPassword }, Ct);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        using var client = await admin.PostAsJsonAsync("/api/v1/admin/clients", new { name = "nightly", owner = "lena", scopes = (string[])["runs:read", "runs:write"] }, Ct);
        var registered = await client.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var (clientId, clientSecret) = (registered.GetProperty("client").GetProperty("client_id").GetString()!, registered.GetProperty("client_secret").GetString()!);

        using var lena = new HttpClient { BaseAddress = new Uri(server.Url) };
        lena.DefaultRequestHeaders.Authorization = RunwayApp.Basic("lena", WrongPassword);
        Assert.Equal(HttpStatusCode.Unauthorized, (await lena.GetAsync("/api/v1/me", Ct)).StatusCode);
        lena.DefaultRequestHeaders.Authorization = RunwayApp.Basic("lena", UserPassword);
        using var tokenAnswer = await lena.PostAsJsonAsync("/api/v1/tokens", new { name = "laptop" }, Ct);
        var personalToken = (await tokenAnswer.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("token").GetString()!;
        using var anonymous = new HttpClient { BaseAddress = new Uri(server.Url) };
        using var oauth = await anonymous.PostAsync("/oauth/token", new FormUrlEncodedContent(
            [new("grant_type", "client_credentials"), new("client_id", clientId), new("client_secret", clientSecret)]), Ct);
        var accessToken = (await oauth.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("access_token").GetString()!;
        lena.DefaultRequestHeaders.Authorization = RunwayApp.Bearer(personalToken);
        using var submitted = await lena.PostAsJsonAsync("/api/v1/runs", new { pipeline = "hello", @params = new { name = "logs" } }, Ct);
        var runId = (await submitted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
        lena.DefaultRequestHeaders.Authorization = RunwayApp.Bearer(accessToken);
        await Eventually.TrueAsync(async () => (await lena.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}", Ct)).GetProperty("state").GetString() == "succeeded",
            TimeSpan.FromSeconds(30), "the run to succeed");
        await server.StopAsync();

        var output = server.Output.Text + server.Output.Errors;
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        var objects = lines.Select(line =>
        {
            try
            {
                return JsonDocument.Parse(line).RootElement;
            }
            catch (JsonException e)
            {
                throw new Xunit.Sdk.XunitException($"a log line is not JSON ({e.Message}): {line}");
            }
        }).ToList();
        Assert.All(objects, o => Assert.True(o.TryGetProperty("time", out _) && o.TryGetProperty("level", out _) && o.TryGetProperty("message", out _), o.ToString()));
        Assert.Contains(objects, o => o.TryGetProperty("run_id", out var id) && id.GetString() == runId);
        Assert.Contains(objects, o => o.TryGetProperty("user", out var user) && user.GetString() == "lena" && o.TryGetProperty("request_id", out _));
        var basic = new[] { "admin:" + RunwayApp.AdminPassword, "lena:" + UserPassword, "lena:" + WrongPassword }
            .Select(pair => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(pair)));
        foreach (var secret in new[] { RunwayApp.AdminPassword, UserPassword, WrongPassword, server.Token!, personalToken, clientSecret, accessToken }.Concat(basic))
        {
            Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
        }
    }

    /// <summary>With JSON logs the generated first password goes to a file only Runway's account reads, not to the log stream.</summary>
    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task JsonLogs_PutTheGeneratedFirstPasswordInAPrivateFile_NotInTheLog()
    {
        await using var server = new RunwayProcess(dataDirectory, Repository.PipelinesDirectory, adminPassword: null)
        {
            Environment = { ["RUNWAY_LOG_FORMAT"] = "json" },
        };
        await server.StartAsync();
        await server.StopAsync();

        var file = Path.Combine(dataDirectory, "first-admin-password.txt");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var password = File.ReadAllLines(file).Select(l => l.Trim()).First(l => l.Length > 0 && !l.Contains(' ', StringComparison.Ordinal));
        var output = server.Output.Text + server.Output.Errors;
        Assert.DoesNotContain(password, output, StringComparison.Ordinal);
        Assert.Contains(file, output, StringComparison.Ordinal);
    }
}
