using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Auth;

/// <summary>The client credentials grant, requested byte for byte as <c>curl -u id:secret -d grant_type=… URL</c> sends it.</summary>
public sealed class OAuthTokenTests : IAsyncLifetime
{
    private readonly RunwayApp app = new();
    private HttpClient admin = null!;
    private string clientId = "";
    private string secret = "";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await app.EnsureUserAsync("ana");
        admin = app.CreateAdminClient();
        using var created = await admin.PostAsJsonAsync("/api/v1/admin/clients", new { name = "nightly", owner = "ana", scopes = (string[])["runs:read", "runs:write"] }, RunwayApp.Json, Ct);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        clientId = body.GetProperty("client").GetProperty("client_id").GetString()!;
        secret = body.GetProperty("client_secret").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        admin.Dispose();
        await app.DisposeAsync();
    }

    /// <summary>What curl sends for <c>-u user:secret -d a -d b</c>: Basic of the raw pair, the -d values joined by &amp;, unencoded.</summary>
    private async Task<HttpResponseMessage> CurlAsync(string? user, params string[] data)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token")
        {
            Content = new StringContent(string.Join('&', data), Encoding.ASCII),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        if (user is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user)));
        }
        using var client = app.CreateClient();
        return await client.SendAsync(request, Ct);
    }

    [Fact]
    public async Task ClientSecretBasic_IssuesABearerToken_ThatCarriesOnlyTheGrantedScope()
    {
        using var response = await CurlAsync($"{clientId}:{secret}", "grant_type=client_credentials", "scope=runs:read");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal(3600, body.GetProperty("expires_in").GetInt32());
        Assert.Equal("runs:read", body.GetProperty("scope").GetString());
        using var api = app.CreateClient();
        api.DefaultRequestHeaders.Authorization = RunwayApp.Bearer(body.GetProperty("access_token").GetString()!);
        var me = await api.GetFromJsonAsync<JsonElement>("/api/v1/me", Ct);
        Assert.Equal("ana", me.GetProperty("username").GetString());
        using var list = await api.GetAsync("/api/v1/runs", Ct);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        using var submit = await api.PostAsJsonAsync("/api/v1/runs", new { pipeline = "hello" }, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, submit.StatusCode);
    }

    [Fact]
    public async Task ClientSecretPost_IssuesEveryScopeOfTheClient_WhenNoneIsAsked()
    {
        using var response = await CurlAsync(null, "grant_type=client_credentials", $"client_id={clientId}", $"client_secret={secret}");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("runs:read runs:write", body.GetProperty("scope").GetString());
    }

    [Theory]
    [InlineData("wrong-secret", "grant_type=client_credentials", 401, "invalid_client")]
    [InlineData(null, "grant_type=password", 400, "unsupported_grant_type")]
    [InlineData(null, "grant_type=client_credentials&scope=admin", 400, "invalid_scope")]
    [InlineData(null, "grant_type=client_credentials&scope=files:read", 400, "invalid_scope")]
    [InlineData(null, "scope=runs:read", 400, "invalid_request")]
    public async Task Errors_AreRfc6749Json(string? wrongSecret, string data, int status, string error)
    {
        using var response = await CurlAsync($"{clientId}:{wrongSecret ?? secret}", data);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(error, body.GetProperty("error").GetString());
        Assert.True(body.TryGetProperty("error_description", out _));
        if (status == 401)
        {
            Assert.Equal("Basic", response.Headers.WwwAuthenticate.Single().Scheme);
        }
    }

    [Fact]
    public async Task BothAuthenticationMethods_AreRefused()
    {
        using var response = await CurlAsync($"{clientId}:{secret}", "grant_type=client_credentials", $"client_id={clientId}", $"client_secret={secret}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task TokenEndpoint_IsRateLimitedPerAddress_WithA429Problem()
    {
        await using var limited = new RunwayApp(settings: new Dictionary<string, string> { ["Runway:Auth:TokenRequestsPerMinute"] = "2" });
        using var client = limited.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsync("/oauth/token", new FormUrlEncodedContent([new("grant_type", "client_credentials")]), Ct);
            statuses.Add(response.StatusCode);
            if (i == 2)
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task WrongSecrets_AreThrottledPerClient_With429()
    {
        await using var limited = new RunwayApp(settings: new Dictionary<string, string> { ["Runway:Auth:FailedLoginsPerUser"] = "2" });
        using var client = limited.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsync("/oauth/token", new FormUrlEncodedContent(
                [new("grant_type", "client_credentials"), new("client_id", "rwc_guessed"), new("client_secret", "guess" + i)]), Ct);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task RevokingTheClient_RevokesItsTokens()
    {
        using var issued = await CurlAsync($"{clientId}:{secret}", "grant_type=client_credentials");
        var token = (await issued.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("access_token").GetString()!;

        using var revoked = await admin.DeleteAsync($"/api/v1/admin/clients/{clientId}", Ct);
        using var api = app.CreateClient();
        api.DefaultRequestHeaders.Authorization = RunwayApp.Bearer(token);
        using var after = await api.GetAsync("/api/v1/runs", Ct);
        using var again = await CurlAsync($"{clientId}:{secret}", "grant_type=client_credentials");

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Contains(after.Headers.WwwAuthenticate, h => h.Scheme == "Bearer" && h.Parameter!.Contains("error=\"invalid_token\"", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
    }
}
