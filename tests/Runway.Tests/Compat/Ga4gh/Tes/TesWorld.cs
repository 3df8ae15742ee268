using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Compat.Ga4gh.Tes;

/// <summary>A server with TES on for the group <c>tes</c>: ana and bob are in it, carl is not.</summary>
public static class TesWorld
{
    public const string Group = "tes";

    /// <summary>An image no node has: such a task ends in SYSTEM_ERROR at once, with or without podman.</summary>
    public const string MissingImage = "localhost/runway-no-such-image:1";

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static RunwayApp App(bool enabled = true) => new(settings: new Dictionary<string, string>
    {
        ["Runway:Tes:Enabled"] = enabled ? "true" : "false",
        ["Runway:Tes:AllowedGroups:0"] = Group,
    });

    public static async Task<HttpClient> UserAsync(RunwayApp app, string name, bool inGroup = true)
    {
        await app.EnsureUserAsync(name, groups: inGroup ? [Group] : []);
        return await app.CreateUserClientAsync(name);
    }

    public static object Task(string? name = null, string image = MissingImage, IReadOnlyDictionary<string, string>? tags = null) => new
    {
        name,
        executors = new[] { new { image, command = new[] { "echo", "hello" } } },
        tags,
    };

    public static async Task<string> CreateAsync(HttpClient client, object task, string prefix = "/ga4gh/tes/v1")
    {
        using var response = await client.PostAsJsonAsync($"{prefix}/tasks", task, RunwayApp.Json, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"create answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    public static async Task<JsonElement> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Polls the task until its state is final, or fails at the deadline.</summary>
    public static async Task<JsonElement> WaitFinalAsync(HttpClient client, string id, TimeSpan? timeout = null, string view = "FULL")
    {
        JsonElement task = default;
        await Eventually.TrueAsync(async () =>
        {
            task = await GetAsync(client, $"/ga4gh/tes/v1/tasks/{id}?view={view}");
            return task.GetProperty("state").GetString() is not ("QUEUED" or "INITIALIZING" or "RUNNING" or "CANCELING");
        }, timeout ?? TimeSpan.FromSeconds(60), $"task {id} to end");
        return task;
    }
}
