using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>A cancel, single or bulk, leaves in the run's history who asked: the user, the admin who did it for them, or the OAuth client.</summary>
public sealed class CancelHistoryTests : UserClientTest
{
    [Fact]
    public async Task Cancel_RecordsTheUser_WhenTheRunIsRunning()
    {
        var id = await SubmitSleepAsync(Client);
        await WaitStateAsync(Client, id, "running");

        await CancelAsync(Client, id);

        Assert.Equal("canceled", (await RunwayApp.WaitFinalAsync(Client, id)).GetProperty("state").GetString());
        Assert.Contains(await ReasonsAsync(Client, id), r => r.Contains("canceled by ana", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancel_RecordsTheUser_WhenTheRunIsQueued()
    {
        // Two slots (RunwayApp's concurrency): the third run waits in the queue.
        var running = new[] { await SubmitSleepAsync(Client), await SubmitSleepAsync(Client) };
        var queued = await SubmitSleepAsync(Client);
        Assert.Equal("queued", (await Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{queued}", Ct)).GetProperty("state").GetString());

        await CancelAsync(Client, queued);

        Assert.Equal("canceled", (await RunwayApp.WaitFinalAsync(Client, queued)).GetProperty("state").GetString());
        Assert.Contains(await ReasonsAsync(Client, queued), r => r.Contains("canceled by ana", StringComparison.Ordinal));
        foreach (var id in running)
        {
            await CancelAsync(Client, id);
        }
    }

    [Fact]
    public async Task Cancel_RecordsTheAdmin_WhenAnAdminCancelsAnotherUsersRun()
    {
        var single = await SubmitSleepAsync(Client);
        var bulk = await SubmitSleepAsync(Client);
        await WaitStateAsync(Client, single, "running");
        using var admin = App.CreateAdminClient();

        await CancelAsync(admin, single);
        using var many = await admin.PostAsJsonAsync("/api/v1/runs/cancel", new { owner = "ana" }, RunwayApp.Json, Ct);
        Assert.Equal(HttpStatusCode.OK, many.StatusCode);

        await RunwayApp.WaitFinalAsync(Client, single);
        await RunwayApp.WaitFinalAsync(Client, bulk);
        Assert.Contains(await ReasonsAsync(Client, single), r => r.Contains("canceled by admin", StringComparison.Ordinal));
        Assert.DoesNotContain(await ReasonsAsync(Client, single), r => r.Contains("canceled by ana", StringComparison.Ordinal));
        Assert.Contains(await ReasonsAsync(Client, bulk), r => r.Contains("canceled by admin (bulk cancel)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancel_RecordsTheClient_WhenAnOAuthClientCancels()
    {
        using var admin = App.CreateAdminClient();
        using var created = await admin.PostAsJsonAsync("/api/v1/admin/clients", new { name = "nightly", owner = "ana", scopes = (string[])["runs:read", "runs:write"] }, RunwayApp.Json, Ct);
        var registered = await created.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var clientId = registered.GetProperty("client").GetProperty("client_id").GetString()!;
        using var anonymous = App.CreateClient();
        using var issued = await anonymous.PostAsync("/oauth/token", new FormUrlEncodedContent(
            [new("grant_type", "client_credentials"), new("client_id", clientId), new("client_secret", registered.GetProperty("client_secret").GetString()!)]), Ct);
        using var client = App.CreateClient();
        client.DefaultRequestHeaders.Authorization = RunwayApp.Bearer((await issued.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("access_token").GetString()!);
        var single = await SubmitSleepAsync(client);
        var bulk = await SubmitSleepAsync(client);

        await CancelAsync(client, single);
        using var many = await client.PostAsJsonAsync("/api/v1/runs/cancel", new { }, RunwayApp.Json, Ct);
        Assert.Equal(HttpStatusCode.OK, many.StatusCode);

        await RunwayApp.WaitFinalAsync(client, single);
        await RunwayApp.WaitFinalAsync(client, bulk);
        Assert.Contains(await ReasonsAsync(client, single), r => r.Contains($"canceled by ana (client {clientId})", StringComparison.Ordinal));
        Assert.Contains(await ReasonsAsync(client, bulk), r => r.Contains($"canceled by ana (client {clientId}) (bulk cancel)", StringComparison.Ordinal));
    }

    private static async Task<string> SubmitSleepAsync(HttpClient client) =>
        (await RunwayApp.SubmitAsync(client, new { pipeline = "sleep", @params = new { seconds = 60 } })).GetProperty("id").GetString()!;

    private static async Task CancelAsync(HttpClient client, string id)
    {
        using var response = await client.PostAsync($"/api/v1/runs/{id}/cancel", null, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
    }

    private static Task WaitStateAsync(HttpClient client, string id, string state) =>
        Eventually.TrueAsync(async () => (await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct)).GetProperty("state").GetString() == state,
            TimeSpan.FromSeconds(20), $"run {id} to be {state}");

    private static async Task<List<string>> ReasonsAsync(HttpClient client, string id) =>
        [.. (await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct)).GetProperty("events").EnumerateArray().Select(e => e.GetProperty("reason").GetString()!)];
}
