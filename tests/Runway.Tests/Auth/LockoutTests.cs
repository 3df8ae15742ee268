using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Runway.Auth;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Auth;

/// <summary>
/// Someone else's failed logins never lock a user out: the requests carry client addresses of their own
/// through the test server, as a proxy or a NAT would give them.
/// </summary>
public sealed class LockoutTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // The shipped limits, not RunwayApp's generous ones: the lockouts the issue saw happened with these.
    private static RunwayApp AppWithShippedLimits() => new(settings: new Dictionary<string, string>
    {
        ["Runway:Auth:FailedLoginsPerUser"] = new AuthOptions().FailedLoginsPerUser.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Runway:Auth:FailedLoginsPerAddress"] = new AuthOptions().FailedLoginsPerAddress.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Runway:Auth:FailedLoginsPerUserAndAddress"] = "10",
    });

    private static async Task<HttpResponse> GetAsync(RunwayApp app, string address, AuthenticationHeaderValue auth, string path = "/api/v1/me")
    {
        var context = await app.Server.SendAsync(c =>
        {
            c.Request.Method = HttpMethods.Get;
            c.Request.Path = path;
            c.Request.Headers.Authorization = auth.ToString();
            c.Connection.RemoteIpAddress = IPAddress.Parse(address);
        }, Ct);
        return context.Response;
    }

    private static async Task<HttpResponse> TokenAsync(RunwayApp app, string address, string clientId, string secret)
    {
        var context = await app.Server.SendAsync(c =>
        {
            c.Request.Method = HttpMethods.Post;
            c.Request.Path = "/oauth/token";
            c.Request.ContentType = "application/x-www-form-urlencoded";
            var body = $"grant_type=client_credentials&client_id={Uri.EscapeDataString(clientId)}&client_secret={Uri.EscapeDataString(secret)}";
            c.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body));
            c.Request.ContentLength = c.Request.Body.Length;
            c.Connection.RemoteIpAddress = IPAddress.Parse(address);
        }, Ct);
        return context.Response;
    }

    [Fact]
    public async Task ValidBearer_IsServed_WhenItsAddressHasSpentItsFailures()
    {
        await using var app = AppWithShippedLimits();
        var token = await app.CreateTokenAsync("ana");
        for (var i = 0; i < new AuthOptions().FailedLoginsPerAddress; i++)
        {
            Assert.Equal(StatusCodes.Status401Unauthorized, (await GetAsync(app, "10.0.0.1", RunwayApp.Basic($"made-up-{i}", "guess"))).StatusCode);
        }

        var bearer = await GetAsync(app, "10.0.0.1", RunwayApp.Bearer(token));
        var basicToken = await GetAsync(app, "10.0.0.1", RunwayApp.Basic("ana", token));
        var password = await GetAsync(app, "10.0.0.1", RunwayApp.Basic("ana", RunwayApp.PasswordOf("ana")));
        var elsewhere = await GetAsync(app, "10.0.0.2", RunwayApp.Basic("ana", RunwayApp.PasswordOf("ana")));

        Assert.Equal(StatusCodes.Status200OK, bearer.StatusCode);
        Assert.Equal(StatusCodes.Status200OK, basicToken.StatusCode);
        // A throttled address may still use tokens, but tries no password, for anyone, until its window frees a slot.
        Assert.Equal(StatusCodes.Status429TooManyRequests, password.StatusCode);
        Assert.Equal(StatusCodes.Status200OK, elsewhere.StatusCode);
    }

    [Fact]
    public async Task WrongPasswordsForAUser_DoNotBlockTheRightOneFromAnotherAddress()
    {
        await using var app = AppWithShippedLimits();
        await app.EnsureUserAsync("ana");
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(StatusCodes.Status401Unauthorized, (await GetAsync(app, "10.0.0.66", RunwayApp.Basic("ana", "guess" + i))).StatusCode);
        }

        var fromElsewhere = await GetAsync(app, "10.0.0.7", RunwayApp.Basic("ana", RunwayApp.PasswordOf("ana")));
        var fromTheGuesser = await GetAsync(app, "10.0.0.66", RunwayApp.Basic("ana", RunwayApp.PasswordOf("ana")));

        Assert.Equal(StatusCodes.Status200OK, fromElsewhere.StatusCode);
        Assert.Equal(StatusCodes.Status429TooManyRequests, fromTheGuesser.StatusCode);
        var retryAfter = int.Parse(fromTheGuesser.Headers.RetryAfter.ToString(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, (int)new AuthOptions().FailedLoginWindow.TotalSeconds);
    }

    [Fact]
    public async Task TheUserCeiling_BlocksThePasswordEverywhere_OnceManyAddressesFailed()
    {
        await using var app = new RunwayApp(settings: new Dictionary<string, string>
        {
            ["Runway:Auth:FailedLoginsPerUser"] = "4",
            ["Runway:Auth:FailedLoginsPerUserAndAddress"] = "2",
        });
        await app.EnsureUserAsync("ana");
        await app.EnsureUserAsync("bob");
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(StatusCodes.Status401Unauthorized, (await GetAsync(app, $"10.0.1.{i}", RunwayApp.Basic("ana", "guess"))).StatusCode);
        }

        Assert.Equal(StatusCodes.Status429TooManyRequests, (await GetAsync(app, "10.0.2.1", RunwayApp.Basic("ana", RunwayApp.PasswordOf("ana")))).StatusCode);
        Assert.Equal(StatusCodes.Status200OK, (await GetAsync(app, "10.0.2.1", RunwayApp.Basic("bob", RunwayApp.PasswordOf("bob")))).StatusCode);
    }

    [Fact]
    public async Task Throttled_AnswersProblemJson_WithTypeTitleStatus()
    {
        await using var app = new RunwayApp(settings: new Dictionary<string, string> { ["Runway:Auth:FailedLoginsPerUserAndAddress"] = "1", ["Runway:Auth:FailedLoginsPerUser"] = "1" });
        await app.EnsureUserAsync("ana");
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = RunwayApp.Basic("ana", "guess");
        using var failed = await client.GetAsync("/api/v1/me", Ct);

        using var throttled = await client.GetAsync("/api/v1/me", Ct);
        var problem = await throttled.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.Equal("application/problem+json", throttled.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("type").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.NotNull(throttled.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task FailedClientLogins_KeepTheirOwnCounters()
    {
        await using var app = new RunwayApp(settings: new Dictionary<string, string> { ["Runway:Auth:FailedLoginsPerAddress"] = "2" });
        await app.EnsureUserAsync("ana");
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(StatusCodes.Status401Unauthorized, (await TokenAsync(app, "10.0.0.9", $"rwc_made-up-{i}", "guess")).StatusCode);
        }

        var user = await GetAsync(app, "10.0.0.9", RunwayApp.Basic("ana", RunwayApp.PasswordOf("ana")));
        var client = await TokenAsync(app, "10.0.0.9", "rwc_made-up-x", "guess");

        Assert.Equal(StatusCodes.Status200OK, user.StatusCode);
        Assert.Equal(StatusCodes.Status429TooManyRequests, client.StatusCode);
    }
}
