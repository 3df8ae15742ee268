using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Schedules;

public sealed class SchedulesApiTests : UserClientTest
{
    [Fact]
    public async Task SecondsSchedule_FiresOnTime_OneRunPerFireTime()
    {
        var schedule = await CreateAsync(Client, new { name = "every 2 s", pipeline = "hello", @params = new { name = "cron" }, cron = "*/2 * * * * *", timezone = "UTC" });
        var id = schedule.GetProperty("id").GetString()!;
        Assert.Equal(5, schedule.GetProperty("next_fire_times").GetArrayLength());

        List<JsonElement> runs = [];
        await Eventually.TrueAsync(async () =>
        {
            runs = await ScheduledRunsAsync(Client, id);
            return runs.Count >= 3;
        }, TimeSpan.FromSeconds(20), "three runs of the schedule");
        using var paused = await Client.PatchAsJsonAsync($"/api/v1/schedules/{id}", new { enabled = false }, Ct);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);

        runs = await ScheduledRunsAsync(Client, id);
        var fireTimes = runs.Select(r => r.GetProperty("scheduled_for").GetDateTimeOffset()).ToList();
        Assert.Equal(fireTimes.Count, fireTimes.Distinct().Count());
        foreach (var run in runs)
        {
            var firedFor = run.GetProperty("scheduled_for").GetDateTimeOffset();
            var lateBy = run.GetProperty("submitted_at").GetDateTimeOffset() - firedFor;
            Assert.Equal(0, firedFor.Second % 2);
            Assert.True(lateBy >= TimeSpan.Zero && lateBy < TimeSpan.FromSeconds(1.5), $"run for {firedFor:O} was submitted {lateBy.TotalMilliseconds} ms after it");
            Assert.Equal("cron", run.GetProperty("params").GetProperty("name").GetString());
        }
        var shown = await Client.GetFromJsonAsync<JsonElement>($"/api/v1/schedules/{id}", Ct);
        Assert.Equal("submitted", shown.GetProperty("last_fire").GetProperty("outcome").GetString());
        Assert.True(shown.GetProperty("last_runs").GetArrayLength() >= 3);
        Assert.Equal(0, shown.GetProperty("next_fire_times").GetArrayLength());
    }

    [Fact]
    public async Task Fire_IsARecordedFailure_WhenThePipelineChangedUnderIt()
    {
        using var pipelines = new Fakes.TempDirectory();
        File.Copy(Path.Combine(Repository.PipelinesDirectory, "hello.yaml"), Path.Combine(pipelines.Path, "hello.yaml"));
        await using var app = new RunwayApp(pipelines.Path);
        using var client = await app.CreateUserClientAsync();
        var id = (await CreateAsync(client, new { name = "greets", pipeline = "hello", @params = new { name = "Ana" }, cron = "* * * * * *" })).GetProperty("id").GetString()!;

        // The operator adds a required parameter the schedule does not set.
        var yaml = await File.ReadAllTextAsync(Path.Combine(pipelines.Path, "hello.yaml"), Ct);
        await File.WriteAllTextAsync(Path.Combine(pipelines.Path, "hello.yaml"),
            yaml.Replace("parameters:\n", "parameters:\n  greeting:\n    type: string\n    required: true\n", StringComparison.Ordinal), Ct);

        JsonElement shown = default;
        await Eventually.TrueAsync(async () =>
        {
            shown = await client.GetFromJsonAsync<JsonElement>($"/api/v1/schedules/{id}", Ct);
            return shown.TryGetProperty("last_fire", out var fire) && fire.ValueKind == JsonValueKind.Object && fire.GetProperty("outcome").GetString() == "failed";
        }, TimeSpan.FromSeconds(20), "a failed fire recorded on the schedule");
        Assert.Contains("params.greeting", shown.GetProperty("last_fire").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(shown.GetProperty("enabled").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz", Ct)).StatusCode);
    }

    [Fact]
    public async Task Fire_IsSkipped_WhileThePreviousRunIsActive_WhenOverlapIsSkip()
    {
        var id = (await CreateAsync(Client, new { name = "slow", pipeline = "sleep", @params = new { seconds = 60 }, cron = "* * * * * *", overlap = "skip" }))
            .GetProperty("id").GetString()!;

        JsonElement shown = default;
        await Eventually.TrueAsync(async () =>
        {
            shown = await Client.GetFromJsonAsync<JsonElement>($"/api/v1/schedules/{id}", Ct);
            return shown.TryGetProperty("last_fire", out var fire) && fire.ValueKind == JsonValueKind.Object && fire.GetProperty("outcome").GetString() == "skipped";
        }, TimeSpan.FromSeconds(20), "a fire skipped for overlap");
        using var paused = await Client.PatchAsJsonAsync($"/api/v1/schedules/{id}", new { enabled = false }, Ct);

        Assert.Contains("still active", shown.GetProperty("last_fire").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Single(await ScheduledRunsAsync(Client, id));
    }

    [Theory]
    [InlineData("""{"name": "x", "pipeline": "hello", "cron": "* * *"}""", "cron")]
    [InlineData("""{"name": "x", "pipeline": "hello", "cron": "0 3 * * *", "timezone": "Mars/Olympus"}""", "timezone")]
    [InlineData("""{"name": "x", "pipeline": "nope", "cron": "0 3 * * *"}""", "pipeline")]
    [InlineData("""{"name": "x", "pipeline": "sleep", "params": {"seconds": -1}, "cron": "0 3 * * *"}""", "params.seconds")]
    [InlineData("""{"name": "x", "pipeline": "hello", "cron": "0 3 * * *", "catch_up": "all"}""", "catch_up")]
    [InlineData("""{"name": "x", "pipeline": "hello", "cron": "0 3 * * *", "overlap": "queue"}""", "overlap")]
    [InlineData("""{"pipeline": "hello", "cron": "0 3 * * *"}""", "name")]
    public async Task Create_Answers422NamingTheField_WhenInvalid(string body, string field)
    {
        using var response = await Client.PostAsync("/api/v1/schedules", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, text);
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
    }

    [Fact]
    public async Task Schedule_IsNotFound_ForAnotherUser()
    {
        var id = (await CreateAsync(Client, new { name = "mine", pipeline = "hello", cron = "0 3 * * *", timezone = "Europe/Berlin" })).GetProperty("id").GetString()!;
        using var bob = await App.CreateUserClientAsync("bob");

        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/v1/schedules/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.DeleteAsync($"/api/v1/schedules/{id}", Ct)).StatusCode);
        Assert.Equal(0, (await bob.GetFromJsonAsync<JsonElement>("/api/v1/schedules", Ct)).GetProperty("schedules").GetArrayLength());
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/api/v1/schedules/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"/api/v1/schedules/{id}", Ct)).StatusCode);
    }

    internal static async Task<JsonElement> CreateAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/schedules", body, RunwayApp.Json, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    internal static async Task<List<JsonElement>> ScheduledRunsAsync(HttpClient client, string scheduleId)
    {
        var page = await client.GetFromJsonAsync<JsonElement>("/api/v1/runs?limit=500", Ct);
        return [.. page.GetProperty("runs").EnumerateArray().Where(r => r.TryGetProperty("schedule_id", out var s) && s.GetString() == scheduleId).Select(r => r.Clone())];
    }
}
