using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>POST /api/v1/runs with an Idempotency-Key, as draft-ietf-httpapi-idempotency-key-header describes it.</summary>
public sealed class IdempotencyTests : UserClientTest
{
    [Fact]
    public async Task Replay_AnswersExactlyWhatTheFirstRequestDid_LocationIncluded()
    {
        const string body = """{"pipeline": "hello", "params": {"name": "Ada"}, "tags": {"batch": "7"}}""";
        var (firstStatus, firstLocation, firstBody) = await PostAsync("batch-7", body);
        var id = JsonDocument.Parse(firstBody).RootElement.GetProperty("id").GetString()!;
        await RunwayApp.WaitFinalAsync(Client, id);

        var (status, location, replayed) = await PostAsync("batch-7", body);

        Assert.Equal(HttpStatusCode.Created, firstStatus);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal($"/api/v1/runs/{id}", firstLocation);
        Assert.Equal(firstLocation, location);
        Assert.Equal(firstBody, replayed);
        var list = await Client.GetFromJsonAsync<JsonElement>("/api/v1/runs", Ct);
        Assert.Single(list.GetProperty("runs").EnumerateArray());
    }

    [Theory]
    [InlineData("""{"pipeline": "hello", "params": {"name": "Bob"}}""")]
    [InlineData("""{"pipeline": "sleep", "params": {"seconds": 0}}""")]
    [InlineData("""{"pipeline": "hello", "params": {"name": "Ada"}, "priority": -1}""")]
    [InlineData("""{"pipeline": "hello", "params": {"name": "Ada"}, "name": "other"}""")]
    public async Task Reuse_WithADifferentBody_Answers422Problem(string other)
    {
        var (firstStatus, _, _) = await PostAsync("key-1", """{"pipeline": "hello", "params": {"name": "Ada"}}""");

        using var request = Request("key-1", other);
        using var response = await Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Created, firstStatus);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("Idempotency-Key", problem.ToString(), StringComparison.Ordinal);
        var list = await Client.GetFromJsonAsync<JsonElement>("/api/v1/runs", Ct);
        Assert.Single(list.GetProperty("runs").EnumerateArray());
    }

    [Fact]
    public async Task SameKey_OfAnotherUser_IsAnotherRun()
    {
        using var other = await App.CreateUserClientAsync("bo");
        var (first, _, a) = await PostAsync("shared", """{"pipeline": "hello"}""");
        using var request = Request("shared", """{"pipeline": "sleep", "params": {"seconds": 0}}""");
        using var response = await other.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Created, first);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var b = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.NotEqual(JsonDocument.Parse(a).RootElement.GetProperty("id").GetString(), b.GetProperty("id").GetString());
    }

    [Fact]
    public async Task HandledConflicts_AreNotLoggedAsErrors()
    {
        const string body = """{"pipeline": "hello"}""";
        // Concurrent submissions with one key race for the unique index; sequential ones replay.
        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => PostAsync("race", body)));
        var (_, _, again) = await PostAsync("race", body);

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.Status));
        Assert.Single(answers.Select(a => a.Body).Append(again).Distinct());
        var errors = App.Logs.Entries.Where(e => e.Level >= LogLevel.Error).ToList();
        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    private async Task<(HttpStatusCode Status, string? Location, string Body)> PostAsync(string key, string body)
    {
        using var request = Request(key, body);
        using var response = await Client.SendAsync(request, Ct);
        return (response.StatusCode, response.Headers.Location?.OriginalString, await response.Content.ReadAsStringAsync(Ct));
    }

    private static HttpRequestMessage Request(string key, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/runs") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }
}
