using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

public sealed class BulkCancelTests : UserClientTest
{
    [Fact]
    public async Task CancelMany_CancelsAFewHundredMatchingRuns_AndRecordsWhoInEachHistory()
    {
        const int count = 300;
        var mine = await SubmitManyAsync(Client, count, "a");
        var otherTag = await SubmitManyAsync(Client, 3, "b");
        using var bob = await App.CreateUserClientAsync("bob");
        var bobs = await SubmitManyAsync(bob, 3, "a");

        var watch = Stopwatch.StartNew();
        using var response = await Client.PostAsJsonAsync("/api/v1/runs/cancel", new { pipeline = "sleep", tags = new { batch = "a" } }, RunwayApp.Json, Ct);
        watch.Stop();
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var result = JsonDocument.Parse(text).RootElement;
        Assert.Equal(count, result.GetProperty("canceled").GetInt32());
        Assert.Equal(count, result.GetProperty("canceled_queued").GetInt32() + result.GetProperty("stop_requested").GetInt32());
        Assert.Equal(mine.Order(StringComparer.Ordinal), result.GetProperty("run_ids").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal));
        TestContext.Current.SendDiagnosticMessage($"bulk cancel of {count} runs took {watch.ElapsedMilliseconds} ms");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"bulk cancel of {count} runs took {watch.Elapsed}");
        foreach (var id in mine)
        {
            var run = await RunwayApp.WaitFinalAsync(Client, id);
            Assert.Equal("canceled", run.GetProperty("state").GetString());
            var events = (await Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct)).GetProperty("events").EnumerateArray();
            Assert.Contains(events, e => e.GetProperty("reason").GetString()!.Contains("canceled by ana", StringComparison.Ordinal));
        }
        foreach (var (client, id) in otherTag.Select(id => (Client, id)).Concat(bobs.Select(id => (bob, id))))
        {
            var run = await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct);
            Assert.Contains(run.GetProperty("state").GetString(), (string[])["queued", "running"]);
        }
    }

    [Fact]
    public async Task CancelMany_WithAnEmptyFilter_CancelsEveryActiveRunOfTheCallersOnly()
    {
        var mine = await SubmitManyAsync(Client, 4, "x");
        using var bob = await App.CreateUserClientAsync("bob");
        var bobs = await SubmitManyAsync(bob, 2, "x");

        using var response = await Client.PostAsJsonAsync("/api/v1/runs/cancel", new { }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(4, (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("canceled").GetInt32());
        foreach (var id in bobs)
        {
            Assert.Contains((await bob.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct)).GetProperty("state").GetString(), (string[])["queued", "running"]);
        }
        using var admin = App.CreateAdminClient();
        using var asAdmin = await admin.PostAsJsonAsync("/api/v1/runs/cancel", new { owner = "bob" }, Ct);
        Assert.Equal(2, (await asAdmin.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("canceled").GetInt32());
    }

    [Theory]
    [InlineData("""{"state": "succeeded"}""", "state")]
    [InlineData("""{"owner": "bob"}""", "owner")]
    [InlineData("""{"tags": {"": "x"}}""", "tag")]
    public async Task CancelMany_Answers422NamingTheField_WhenTheFilterIsWrong(string body, string field)
    {
        var id = (await RunwayApp.SubmitAsync(Client, new { pipeline = "sleep", @params = new { seconds = 30 } })).GetProperty("id").GetString()!;

        using var response = await Client.PostAsync("/api/v1/runs/cancel", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("errors").TryGetProperty(field, out _));
        Assert.Contains((await Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct)).GetProperty("state").GetString(), (string[])["queued", "running"]);
    }

    [Fact]
    public async Task CancelMany_ByBatchId_CancelsThatBatchsRunsOnly()
    {
        var other = await SubmitManyAsync(Client, 2, "x");
        using var made = await Client.PostAsJsonAsync("/api/v1/batches",
            new { pipeline = "sleep", rows = new[] { new { seconds = 60 }, new { seconds = 61 }, new { seconds = 62 } } }, Ct);
        Assert.Equal(HttpStatusCode.Created, made.StatusCode);
        var batch = (await made.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;

        using var response = await Client.PostAsJsonAsync("/api/v1/runs/cancel", new { batch_id = batch }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("canceled").GetInt32());
        foreach (var id in other)
        {
            Assert.Contains((await Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct)).GetProperty("state").GetString(), (string[])["queued", "running"]);
        }
    }

    [Fact]
    public async Task CancelMany_Answers400_WithoutABody()
    {
        using var response = await Client.PostAsync("/api/v1/runs/cancel", new StringContent("", System.Text.Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static async Task<List<string>> SubmitManyAsync(HttpClient client, int count, string batch)
    {
        var ids = new List<string>();
        foreach (var chunk in Enumerable.Range(0, count).Chunk(50))
        {
            var runs = await Task.WhenAll(chunk.Select(_ => RunwayApp.SubmitAsync(client, new { pipeline = "sleep", @params = new { seconds = 60 }, tags = new { batch } })));
            ids.AddRange(runs.Select(r => r.GetProperty("id").GetString()!));
        }
        return ids;
    }
}
