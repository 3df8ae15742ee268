using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Schedules;

/// <summary>A real seconds-level schedule across a server restart, and two nodes on one PostgreSQL firing one schedule.</summary>
public sealed class ScheduleNodesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Schedule_KeepsFiring_OnePerFireTime_AcrossARestart()
    {
        using var data = new TempDirectory();
        var settings = new Dictionary<string, string> { ["Runway:DataDir"] = data.Path };
        string id;
        int before;
        await using (var first = new RunwayApp(settings: settings))
        {
            using var client = await first.CreateUserClientAsync();
            id = await CreateAsync(client, new { name = "every 2 s", pipeline = "hello", cron = "*/2 * * * * *", catch_up = "one" });
            await WaitForRunsAsync(client, id, 2);
            before = (await RunsAsync(client, id)).Count;
        }

        await using var second = new RunwayApp(settings: settings);
        using var again = await second.CreateUserClientAsync();
        await WaitForRunsAsync(again, id, before + 3);
        using var paused = await again.PatchAsJsonAsync($"/api/v1/schedules/{id}", new { enabled = false }, Ct);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);

        var runs = await RunsAsync(again, id);
        var fireTimes = runs.Select(r => r.GetProperty("scheduled_for").GetDateTimeOffset()).ToList();
        Assert.Equal(fireTimes.Count, fireTimes.Distinct().Count());
        Assert.All(fireTimes, t => Assert.Equal(0, t.Second % 2));
        // The newest runs came from the second server, on time (the first after the restart may be the catch-up).
        var latest = runs.OrderByDescending(r => r.GetProperty("scheduled_for").GetDateTimeOffset()).First();
        var lateBy = latest.GetProperty("submitted_at").GetDateTimeOffset() - latest.GetProperty("scheduled_for").GetDateTimeOffset();
        Assert.True(lateBy < TimeSpan.FromSeconds(1.5), $"the latest run was submitted {lateBy.TotalMilliseconds} ms after its fire time");
    }

    [Fact]
    public async Task TwoNodes_OnOnePostgres_MakeOneRunPerFireTime()
    {
        var database = Requires.Postgres();
        try
        {
            using var data = new TempDirectory();
            RunwayApp Node(string name) => new(settings: new Dictionary<string, string>
            {
                ["Runway:DataDir"] = data.Path,
                ["Runway:Database"] = database,
                ["Runway:Node"] = name,
            });
            await using var one = Node("sched-1");
            using var client = await one.CreateUserClientAsync();
            await using var two = Node("sched-2");
            using var other = two.CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/healthz", Ct)).StatusCode);

            var id = await CreateAsync(client, new { name = "every second", pipeline = "hello", cron = "* * * * * *" });
            await WaitForRunsAsync(client, id, 6);
            using var paused = await client.PatchAsJsonAsync($"/api/v1/schedules/{id}", new { enabled = false }, Ct);

            var fireTimes = (await RunsAsync(client, id)).Select(r => r.GetProperty("scheduled_for").GetDateTimeOffset()).ToList();
            Assert.Equal(fireTimes.Count, fireTimes.Distinct().Count());
            // Both nodes fired every time; the loser of each race found the winner's run instead of failing.
            var errors = one.Logs.Entries.Concat(two.Logs.Entries).Where(e => e.Category.Contains("Schedule", StringComparison.Ordinal) && e.Level >= LogLevel.Warning);
            Assert.Empty(errors);
        }
        finally
        {
            PostgresServer.Shared.DropDatabase(database);
        }
    }

    private static async Task<string> CreateAsync(HttpClient client, object body) =>
        (await SchedulesApiTests.CreateAsync(client, body)).GetProperty("id").GetString()!;

    private static Task WaitForRunsAsync(HttpClient client, string id, int count) =>
        Eventually.TrueAsync(async () => (await RunsAsync(client, id)).Count >= count, TimeSpan.FromSeconds(30), $"{count} runs of schedule {id}");

    private static Task<List<JsonElement>> RunsAsync(HttpClient client, string scheduleId) => SchedulesApiTests.ScheduledRunsAsync(client, scheduleId);
}
