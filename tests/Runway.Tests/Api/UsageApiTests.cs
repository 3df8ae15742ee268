using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>The accounting endpoints over HTTP: their shape, the caller's own figures, and 400s for a bad query.</summary>
public sealed class UsageApiTests : IAsyncLifetime
{
    private readonly RunwayApp app = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => app.DisposeAsync();

    [Theory]
    [InlineData("?from=yesterday", "from")]
    [InlineData("?to=2026-13-01", "to")]
    [InlineData("?from=2026-11-02&to=2026-11-01", "to")]
    [InlineData("?group_by=planet", "group_by")]
    [InlineData("?group_by=User", "group_by")]
    [InlineData("?group_by=1", "group_by")]
    public async Task Usage_Answers400WithTheField_WhenTheQueryIsBad(string query, string field)
    {
        using var admin = app.CreateAdminClient();

        using var response = await admin.GetAsync("/api/v1/admin/usage" + query, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task MyUsage_CountsOnlyTheCallersRuns()
    {
        using var ana = await app.CreateUserClientAsync("ana");
        using var bob = await app.CreateUserClientAsync("bob");
        var id = (await RunwayApp.SubmitAsync(ana, new { pipeline = "hello" })).GetProperty("id").GetString()!;
        await RunwayApp.WaitFinalAsync(ana, id);

        var mine = await ana.GetFromJsonAsync<JsonElement>("/api/v1/me/usage?group_by=pipeline", Ct);
        var theirs = await bob.GetFromJsonAsync<JsonElement>("/api/v1/me/usage", Ct);

        var row = Assert.Single(mine.GetProperty("rows").EnumerateArray());
        Assert.Equal(("pipeline", "hello", 1), (mine.GetProperty("group_by").GetString(), row.GetProperty("key").GetString(), row.GetProperty("runs").GetInt32()));
        Assert.Equal(1, row.GetProperty("runs_by_state").GetProperty("succeeded").GetInt32());
        Assert.True(row.GetProperty("wall_hours").GetDouble() > 0);
        Assert.Empty(theirs.GetProperty("rows").EnumerateArray());
    }

    [Fact]
    public async Task Usage_SaysWhatEachUserStores_UploadsAndRunDirectories()
    {
        using var ana = await app.CreateUserClientAsync("ana");
        using var bob = await app.CreateUserClientAsync("bob");
        using var admin = app.CreateAdminClient();
        using var content = new MultipartFormDataContent();
        using var part = new ByteArrayContent(new byte[12345]);
        part.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        content.Add(part, "file", "a.bin");
        using (var uploaded = await ana.PostAsync("/api/v1/files", content, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        }

        var mine = Assert.Single((await ana.GetFromJsonAsync<JsonElement>("/api/v1/me/usage", Ct)).GetProperty("storage").EnumerateArray());
        var theirs = Assert.Single((await bob.GetFromJsonAsync<JsonElement>("/api/v1/me/usage", Ct)).GetProperty("storage").EnumerateArray());
        var all = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/usage", Ct)).GetProperty("storage").EnumerateArray().ToList();

        Assert.Equal(("ana", 12345L, 12345L), (mine.GetProperty("user").GetString(), mine.GetProperty("uploads_bytes").GetInt64(), mine.GetProperty("total_bytes").GetInt64()));
        Assert.Equal(("bob", 0L), (theirs.GetProperty("user").GetString(), theirs.GetProperty("total_bytes").GetInt64()));
        Assert.Equal(12345L, Assert.Single(all, u => u.GetProperty("user").GetString() == "ana").GetProperty("uploads_bytes").GetInt64());
        Assert.DoesNotContain(all, u => u.GetProperty("user").GetString() == "bob");
    }
}
