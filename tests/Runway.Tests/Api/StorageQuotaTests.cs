using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary><c>Runway:Quota</c> through HTTP: an upload that would pass it is 413, a user at it gets 507 on upload and on submission.</summary>
public sealed class StorageQuotaTests : IAsyncLifetime
{
    private readonly RunwayApp app = new(settings: new Dictionary<string, string>
    {
        ["Runway:Quota:UserBytes"] = "100",
        ["Runway:Quota:Groups:big:UserBytes"] = "100000",
    });
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => app.DisposeAsync();

    [Fact]
    public async Task Quota_RefusesAnUploadThatWouldPassIt_413_ThenEverythingOnceUsedUp_507()
    {
        using var ana = await app.CreateUserClientAsync("ana");

        Assert.Equal(HttpStatusCode.Created, await UploadAsync(ana, 80));
        var over = await ProblemAsync(await UploadRawAsync(ana, 50), HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal((80, 100), (over.GetProperty("used_bytes").GetInt64(), over.GetProperty("limit_bytes").GetInt64()));
        Assert.Equal(HttpStatusCode.Created, await UploadAsync(ana, 20));

        var full = await ProblemAsync(await UploadRawAsync(ana, 1), HttpStatusCode.InsufficientStorage);
        Assert.Equal((100, 100), (full.GetProperty("used_bytes").GetInt64(), full.GetProperty("limit_bytes").GetInt64()));
        Assert.Contains("100 bytes", full.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var submit = await ana.PostAsJsonAsync("/api/v1/runs", new { pipeline = "hello" }, RunwayApp.Json, Ct);
        var refused = await ProblemAsync(submit, HttpStatusCode.InsufficientStorage);
        Assert.Equal(100, refused.GetProperty("used_bytes").GetInt64());
        var files = await ana.GetFromJsonAsync<JsonElement>("/api/v1/files", Ct);
        Assert.Equal(2, files.GetProperty("files").GetArrayLength());
    }

    [Fact]
    public async Task Quota_OfAGroup_IsTheLargerOne()
    {
        await app.EnsureUserAsync("gil", groups: ["big"]);
        using var gil = await app.CreateUserClientAsync("gil");

        Assert.Equal(HttpStatusCode.Created, await UploadAsync(gil, 5000));
        var run = await RunwayApp.SubmitAsync(gil, new { pipeline = "hello" });
        await RunwayApp.WaitFinalAsync(gil, run.GetProperty("id").GetString()!);
    }

    private static async Task<HttpStatusCode> UploadAsync(HttpClient client, int bytes)
    {
        using var response = await UploadRawAsync(client, bytes);
        return response.StatusCode;
    }

    private static async Task<HttpResponseMessage> UploadRawAsync(HttpClient client, int bytes)
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[bytes]), "file", "data.bin" } };
        return await client.PostAsync("/api/v1/files", form, Ct);
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return JsonDocument.Parse(body).RootElement.Clone();
        }
    }
}
