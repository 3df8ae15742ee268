using System.Net;
using System.Net.Http.Json;
using System.Text;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Compat;

/// <summary>The old systems' APIs answer only when the operator turns them on (Runway:Compat:*); off, their paths do not exist.</summary>
public sealed class CompatOffTests : IAsyncLifetime
{
    private readonly RunwayApp app = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => app.DisposeAsync();

    [Theory]
    [InlineData("GET", "/caesar/api/v1.0/apps")]
    [InlineData("GET", "/caesar/api/v1.0/jobs")]
    [InlineData("POST", "/caesar/api/v1.0/job")]
    [InlineData("POST", "/api/v1/new-run/")]
    [InlineData("GET", "/api/processes/")]
    [InlineData("POST", "/api/processes/")]
    [InlineData("GET", "/api/pipelines/")]
    [InlineData("POST", "/o/token/")]
    public async Task View_IsNotFound_WhenOff(string method, string path)
    {
        using var admin = app.CreateAdminClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };

        using var response = await admin.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Views_AreThere_WhenOn_AndInTheOpenApiDocument()
    {
        await using var on = new RunwayApp(settings: new Dictionary<string, string>
        {
            ["Runway:Compat:Caesar"] = "true",
            ["Runway:Compat:Centro"] = "true",
            ["Runway:Compat:Orchestration"] = "true",
        });
        using var admin = on.CreateAdminClient();

        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/caesar/api/v1.0/apps", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/processes/", Ct)).StatusCode);
        var paths = (await admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/openapi/v1.json", Ct)).GetProperty("paths");
        Assert.True(paths.TryGetProperty("/caesar/api/v1.0/job/{id}/output", out _));
        // The document drops the routes' trailing slashes (the routes answer with and without).
        Assert.True(paths.TryGetProperty("/api/v1/new-run", out _));
        Assert.True(paths.TryGetProperty("/o/token", out _));
    }
}
