using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Auth;

/// <summary>A token makes only tokens narrower than itself, and only a full credential manages the user's tokens.</summary>
public sealed class TokenNarrowingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> CreateAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/tokens", body, RunwayApp.Json, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating a token answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static HttpClient With(RunwayApp app, string token)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = RunwayApp.Bearer(token);
        return client;
    }

    [Fact]
    public async Task ARunsReadToken_CanNeitherCreateTokens_NorRevokeTheUsersOtherTokens()
    {
        await using var app = new RunwayApp();
        var other = await app.CreateTokenAsync("ana", name: "other");
        var reader = await app.CreateTokenAsync("ana", ["runs:read"], name: "reader");
        using var password = app.CreateClient();
        password.DefaultRequestHeaders.Authorization = RunwayApp.Basic("ana", RunwayApp.PasswordOf("ana"));
        var otherId = (await password.GetFromJsonAsync<JsonElement>("/api/v1/tokens", Ct)).GetProperty("tokens").EnumerateArray()
            .Single(t => t.GetProperty("name").GetString() == "other").GetProperty("id").GetString();
        using var client = With(app, reader);

        using var create = await client.PostAsJsonAsync("/api/v1/tokens", new { name = "same", scopes = (string[])["runs:read"] }, RunwayApp.Json, Ct);
        using var revoke = await client.DeleteAsync($"/api/v1/tokens/{otherId}", Ct);
        using var stillValid = With(app, other);
        using var me = await stillValid.GetAsync("/api/v1/me", Ct);

        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task ANarrowToken_MayStillRevokeItself()
    {
        await using var app = new RunwayApp();
        var reader = await app.CreateTokenAsync("ana", ["runs:read"], name: "reader");
        using var client = With(app, reader);
        var id = (await client.GetFromJsonAsync<JsonElement>("/api/v1/tokens", Ct)).GetProperty("tokens").EnumerateArray()
            .Single(t => t.GetProperty("name").GetString() == "reader").GetProperty("id").GetString();

        using var revoke = await client.DeleteAsync($"/api/v1/tokens/{id}", Ct);
        using var after = await client.GetAsync("/api/v1/me", Ct);

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task AFullToken_CreatesNarrowerTokens_ButNoneThatOutlivesIt()
    {
        await using var app = new RunwayApp();
        await app.EnsureUserAsync("ana");
        using var password = app.CreateClient();
        password.DefaultRequestHeaders.Authorization = RunwayApp.Basic("ana", RunwayApp.PasswordOf("ana"));
        var full = await CreateAsync(password, new { name = "full", expires_in_days = 7 });
        using var client = With(app, full.GetProperty("token").GetString()!);
        var expires = full.GetProperty("expires_at").GetDateTimeOffset();

        var narrower = await CreateAsync(client, new { name = "narrower", scopes = (string[])["runs:read"], expires_in_days = 1 });
        var unlimited = await CreateAsync(client, new { name = "asks for no expiry" });
        using var later = await client.PostAsJsonAsync("/api/v1/tokens", new { name = "later", expires_in_days = 30 }, RunwayApp.Json, Ct);
        using var laterAt = await client.PostAsJsonAsync("/api/v1/tokens", new { name = "later", expires_at = expires.AddMinutes(1) }, RunwayApp.Json, Ct);

        Assert.True(narrower.GetProperty("expires_at").GetDateTimeOffset() < expires);
        Assert.Equal(expires, unlimited.GetProperty("expires_at").GetDateTimeOffset());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, later.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, laterAt.StatusCode);
    }
}
