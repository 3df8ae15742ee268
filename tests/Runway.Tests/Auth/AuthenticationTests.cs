using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Runway.Data;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Auth;

public sealed class AuthenticationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<HttpStatusCode> StatusAsync(RunwayApp app, System.Net.Http.Headers.AuthenticationHeaderValue? auth, string path = "/api/v1/me")
    {
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = auth;
        using var response = await client.GetAsync(path, Ct);
        return response.StatusCode;
    }

    [Fact]
    public async Task Basic_TakesThePasswordOrAToken_ButNotSomeoneElsesToken()
    {
        await using var app = new RunwayApp();
        var anasToken = await app.CreateTokenAsync("ana");
        await app.EnsureUserAsync("bob");

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, RunwayApp.Basic("ana", RunwayApp.PasswordOf("ana"))));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, RunwayApp.Basic("ana", anasToken)));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, RunwayApp.Basic("bob", anasToken)));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, RunwayApp.Basic("nobody", "whatever-it-is")));
    }

    [Fact]
    public async Task FailedLogins_AreLimitedPerUser_WithA429_EvenForTheRightPasswordAfterwards()
    {
        await using var app = new RunwayApp(settings: new Dictionary<string, string> { ["Runway:Auth:FailedLoginsPerUser"] = "3" });
        await app.EnsureUserAsync("ana");
        await app.EnsureUserAsync("bob");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, RunwayApp.Basic("ana", "guess" + i)));
        }

        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = RunwayApp.Basic("ana", RunwayApp.PasswordOf("ana"));
        using var blocked = await client.GetAsync("/api/v1/me", Ct);
        var problem = await blocked.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.NotNull(blocked.Headers.RetryAfter);
        Assert.Contains("too many failed logins", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, RunwayApp.Basic("bob", RunwayApp.PasswordOf("bob"))));
    }

    [Fact]
    public async Task FailedLogins_AreLimitedPerAddress_WhicheverNamesAreTried()
    {
        await using var app = new RunwayApp(settings: new Dictionary<string, string> { ["Runway:Auth:FailedLoginsPerAddress"] = "3" });
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, RunwayApp.Basic("user" + i, "guess")));
        }

        // Tokens are too long to guess, so a wrong one is only unauthorized; passwords from here wait.
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, RunwayApp.Bearer("rwt_not-a-token")));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(app, RunwayApp.Basic("admin", RunwayApp.AdminPassword)));
    }

    [Fact]
    public async Task Token_CannotBeWiderThanTheCredentialThatMadeIt()
    {
        await using var app = new RunwayApp();
        using var full = await app.CreateUserClientAsync("ana");

        using var admin = await full.PostAsJsonAsync("/api/v1/tokens", new { name = "admin", scopes = (string[])["admin"] }, RunwayApp.Json, Ct);
        using var same = await full.PostAsJsonAsync("/api/v1/tokens", new { name = "same", scopes = (string[])["runs:read"] }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, admin.StatusCode);
        Assert.Equal(HttpStatusCode.Created, same.StatusCode);
    }

    [Fact]
    public async Task DisablingAUser_StopsTheirPasswordAndTheirTokens()
    {
        await using var app = new RunwayApp();
        var token = await app.CreateTokenAsync("ana");
        using var admin = app.CreateAdminClient();

        using var disabled = await admin.PatchAsJsonAsync("/api/v1/admin/users/ana", new { enabled = false }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, RunwayApp.Bearer(token)));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(app, RunwayApp.Basic("ana", RunwayApp.PasswordOf("ana"))));
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheCredentials_AndWhichEndpointsNeedNone()
    {
        await using var app = new RunwayApp();
        using var client = app.CreateClient();

        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Ct);

        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("basic", schemes.GetProperty("basic").GetProperty("scheme").GetString());
        Assert.Equal("bearer", schemes.GetProperty("bearer").GetProperty("scheme").GetString());
        Assert.Equal("/oauth/token", schemes.GetProperty("oauth2").GetProperty("flows").GetProperty("clientCredentials").GetProperty("tokenUrl").GetString());
        Assert.Equal(0, document.GetProperty("paths").GetProperty("/oauth/token").GetProperty("post").GetProperty("security").GetArrayLength());
        Assert.False(document.GetProperty("paths").GetProperty("/api/v1/runs").GetProperty("get").TryGetProperty("security", out _));
    }

    [Fact]
    public async Task Tokens_AreStoredOnlyAsHashes()
    {
        await using var app = new RunwayApp();
        var token = await app.CreateTokenAsync("ana");

        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RunwayDb>();
        var stored = await db.ApiTokens.AsNoTracking().Select(t => t.TokenHash).ToListAsync(Ct);
        var users = await db.Users.AsNoTracking().Select(u => u.PasswordHash).ToListAsync(Ct);

        Assert.DoesNotContain(stored, h => h.Contains(token, StringComparison.Ordinal) || token.Contains(h, StringComparison.Ordinal));
        Assert.Equal(64, Assert.Single(stored, h => h == Runway.Auth.Secrets.Hash(token)).Length);
        Assert.DoesNotContain(users, h => h.Contains(RunwayApp.PasswordOf("ana"), StringComparison.Ordinal));
    }
}
