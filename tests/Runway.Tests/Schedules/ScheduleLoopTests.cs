using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Runway.Data;
using Runway.Runs;
using Runway.Schedules;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Schedules;

/// <summary>
/// The schedule loop itself (<see cref="ScheduleLoop"/> and <see cref="ScheduleFirer"/>, the classes the server runs) on a
/// <see cref="FakeTimeProvider"/>, over the real server's database and submission path. The fake clock is set in 2027, so the
/// server's own loop, on the wall clock, never finds these schedules due: every run here is made by the loop under test.
/// </summary>
public sealed class ScheduleLoopTests : UserClientTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Loop_FiresOnceJustAfterTheGap_WhenSpringForwardSkips0230()
    {
        // 2027-03-28 in Berlin: 02:00 CET becomes 03:00 CEST, so 02:30 does not exist that night.
        var clock = new FakeTimeProvider(At("2027-03-27T12:00:00Z"));
        var id = await CreateAsync(clock, new { name = "nightly", pipeline = "hello", cron = "30 2 * * *", timezone = "Europe/Berlin" });
        Assert.Equal(At("2027-03-28T03:00:00+02:00"), await NextFireAtAsync(id));
        await using var loop = await StartLoopAsync(clock);

        loop.MoveTo(At("2027-03-28T01:00:00Z"));
        await WaitForRunsAsync(id, 1);
        await WaitForNextFireAsync(id, At("2027-03-29T02:30:00+02:00"));
        loop.MoveTo(At("2027-03-29T00:30:00Z"));
        await WaitForRunsAsync(id, 2);

        Assert.Equal([At("2027-03-28T01:00:00Z"), At("2027-03-29T00:30:00Z")], await FireTimesAsync(id));
        Assert.Null((await ScheduleAsync(id)).LastDetail);
    }

    [Fact]
    public async Task Loop_FiresOnce_WhenFallBackRepeats0230()
    {
        // 2027-10-31 in Berlin: 03:00 CEST becomes 02:00 CET, so 02:30 happens at 00:30Z and again at 01:30Z.
        var clock = new FakeTimeProvider(At("2027-10-30T12:00:00Z"));
        var id = await CreateAsync(clock, new { name = "nightly", pipeline = "hello", cron = "30 2 * * *", timezone = "Europe/Berlin" });
        await using var loop = await StartLoopAsync(clock);

        loop.MoveTo(At("2027-10-31T00:30:00Z"));
        await WaitForRunsAsync(id, 1);
        await WaitForNextFireAsync(id, At("2027-11-01T02:30:00+01:00"));
        // The second 02:30: a pass then finds nothing due.
        loop.MoveTo(At("2027-10-31T01:30:00Z"));
        await loop.PassAsync();
        Assert.Single(await RunsAsync(id));
        Assert.Equal(At("2027-11-01T02:30:00+01:00"), await NextFireAtAsync(id));
        loop.MoveTo(At("2027-11-01T01:30:00Z"));
        await WaitForRunsAsync(id, 2);

        Assert.Equal([At("2027-10-31T00:30:00Z"), At("2027-11-01T01:30:00Z")], await FireTimesAsync(id));
        // Had the loop fired or planned the repeated 02:30, the last fire would count a missed time.
        Assert.Null((await ScheduleAsync(id)).LastDetail);
    }

    [Fact]
    public async Task Loop_MakesOneRunForFiveMissedHours_WhenCatchUpIsOne()
    {
        var clock = new FakeTimeProvider(At("2027-01-10T09:30:00Z"));
        var id = await CreateAsync(clock, new { name = "hourly", pipeline = "hello", cron = "0 * * * *", catch_up = "one" });

        // Down from 09:30 to 14:20: the fire times 10:00 … 14:00 pass with no loop running.
        clock.SetUtcNow(At("2027-01-10T14:20:00Z"));
        await using var loop = await StartLoopAsync(clock);
        await WaitForRunsAsync(id, 1);
        await Eventually.TrueAsync(async () => (await ScheduleAsync(id)).NextFireAt == At("2027-01-10T15:00:00Z"), Wait, "the next fire time after the catch-up");

        Assert.Equal([At("2027-01-10T14:00:00Z")], await FireTimesAsync(id));
        var schedule = await ScheduleAsync(id);
        Assert.Equal("submitted", schedule.LastOutcome);
        Assert.Contains("4 fire time(s) missed", schedule.LastDetail, StringComparison.Ordinal);

        loop.MoveTo(At("2027-01-10T15:00:00Z"));
        await WaitForRunsAsync(id, 2);
        Assert.Equal([At("2027-01-10T14:00:00Z"), At("2027-01-10T15:00:00Z")], await FireTimesAsync(id));
    }

    [Fact]
    public async Task Loop_MakesNoRunForMissedHours_WhenCatchUpIsNone()
    {
        var clock = new FakeTimeProvider(At("2027-01-10T09:30:00Z"));
        var id = await CreateAsync(clock, new { name = "hourly", pipeline = "hello", cron = "0 * * * *", catch_up = "none" });

        clock.SetUtcNow(At("2027-01-10T14:20:00Z"));
        await using var loop = await StartLoopAsync(clock);
        await Eventually.TrueAsync(async () => (await ScheduleAsync(id)).NextFireAt == At("2027-01-10T15:00:00Z"), Wait, "the missed hours passed over");

        Assert.Empty(await FireTimesAsync(id));
        var schedule = await ScheduleAsync(id);
        Assert.Equal("skipped", schedule.LastOutcome);
        Assert.Contains("5 fire time(s) missed", schedule.LastDetail, StringComparison.Ordinal);

        // Back on time, it fires as usual.
        loop.MoveTo(At("2027-01-10T15:00:00Z"));
        await WaitForRunsAsync(id, 1);
        Assert.Equal([At("2027-01-10T15:00:00Z")], await FireTimesAsync(id));
    }

    [Fact]
    public async Task Loop_SkipsAFire_WhileThePreviousRunIsActive_WhenOverlapIsSkip()
    {
        var clock = new FakeTimeProvider(At("2027-01-10T09:59:30Z"));
        var id = await CreateAsync(clock, new { name = "slow", pipeline = "sleep", @params = new { seconds = 600 }, cron = "* * * * *", overlap = "skip" });
        await using var loop = await StartLoopAsync(clock);

        loop.MoveTo(At("2027-01-10T10:00:00Z"));
        await WaitForRunsAsync(id, 1);
        loop.MoveTo(At("2027-01-10T10:01:00Z"));
        await Eventually.TrueAsync(async () => (await ScheduleAsync(id)).NextFireAt == At("2027-01-10T10:02:00Z"), Wait, "the 10:01 fire");

        var skipped = await ScheduleAsync(id);
        Assert.Equal("skipped", skipped.LastOutcome);
        Assert.Contains("still active (overlap: skip)", skipped.LastDetail, StringComparison.Ordinal);
        var first = Assert.Single(await RunsAsync(id));

        // Once the run has ended, the next fire makes a run again.
        using var cancelled = await Client.PostAsync($"/api/v1/runs/{first.Id}/cancel", null, Ct);
        Assert.True(cancelled.IsSuccessStatusCode, await cancelled.Content.ReadAsStringAsync(Ct));
        await RunwayApp.WaitFinalAsync(Client, first.Id);
        loop.MoveTo(At("2027-01-10T10:02:00Z"));
        await WaitForRunsAsync(id, 2);
        Assert.Equal([At("2027-01-10T10:00:00Z"), At("2027-01-10T10:02:00Z")], await FireTimesAsync(id));
        // Stopped before the server is: a server that stops leaves its runs running, and this one sleeps 600 s.
        await CancelAllAsync();
        foreach (var run in await RunsAsync(id))
        {
            await RunwayApp.WaitFinalAsync(Client, run.Id);
        }
    }

    /// <summary>Made through the API (checked as users make them), then given its first fire time on the fake clock.</summary>
    private async Task<string> CreateAsync(FakeTimeProvider clock, object body)
    {
        var created = await SchedulesApiTests.CreateAsync(Client, body);
        var id = created.GetProperty("id").GetString()!;
        await using var db = await Databases.CreateDbContextAsync(Ct);
        var schedule = await db.Schedules.SingleAsync(s => s.Id == id, Ct);
        schedule.NextFireAt = ScheduleRules.FirstFireAfter(schedule, clock.GetUtcNow());
        await db.SaveChangesAsync(Ct);
        return id;
    }

    private async Task<LoopHandle> StartLoopAsync(FakeTimeProvider clock)
    {
        var services = App.Services;
        var firer = new ScheduleFirer(Databases, services.GetRequiredService<Submissions>(), clock, services.GetRequiredService<ILogger<ScheduleFirer>>());
        var loop = new ScheduleLoop(Databases, firer, clock, services.GetRequiredService<ILogger<ScheduleLoop>>());
        await loop.StartAsync(Ct);
        return new LoopHandle(loop, clock);
    }

    private sealed class LoopHandle(ScheduleLoop loop, FakeTimeProvider clock) : IAsyncDisposable
    {
        /// <summary>
        /// Moves the fake clock and wakes the loop. Moving the clock alone is not enough: if it jumps after the loop read the
        /// time for its pass but before it armed its sleep, the sleep is measured from the new time and never ends (CI saw
        /// this). On a real clock time does not jump, and the sleep ends at most a few milliseconds late.
        /// </summary>
        public void MoveTo(DateTimeOffset at)
        {
            clock.SetUtcNow(at);
            loop.Wake();
        }

        public Task<TimeSpan> PassAsync() => loop.PassAsync(TestContext.Current.CancellationToken);

        public async ValueTask DisposeAsync()
        {
            await loop.StopAsync(CancellationToken.None);
            loop.Dispose();
        }
    }

    private IDbContextFactory<RunwayDb> Databases => App.Services.GetRequiredService<IDbContextFactory<RunwayDb>>();

    private async Task<Schedule> ScheduleAsync(string id)
    {
        await using var db = await Databases.CreateDbContextAsync(Ct);
        return await db.Schedules.AsNoTracking().SingleAsync(s => s.Id == id, Ct);
    }

    private async Task<DateTimeOffset?> NextFireAtAsync(string id) => (await ScheduleAsync(id)).NextFireAt;

    private async Task<List<Run>> RunsAsync(string id)
    {
        await using var db = await Databases.CreateDbContextAsync(Ct);
        return await db.Runs.AsNoTracking().Where(r => r.ScheduleId == id).OrderBy(r => r.Id).ToListAsync(Ct);
    }

    private async Task<List<DateTimeOffset>> FireTimesAsync(string id) =>
        [.. (await RunsAsync(id)).Select(r => r.ScheduledFor!.Value.ToUniversalTime()).Order()];

    /// <summary>The fire's run is stored before the schedule's next fire time: a test that saw the run waits for the schedule too.</summary>
    private Task WaitForNextFireAsync(string id, DateTimeOffset at) =>
        Eventually.TrueAsync(async () => await NextFireAtAsync(id) == at, Wait, $"schedule {id}'s next fire time to be {at:O}");

    private Task WaitForRunsAsync(string id, int count) =>
        Eventually.TrueAsync(async () => (await RunsAsync(id)).Count >= count, Wait, $"{count} run(s) of schedule {id}");

    private async Task CancelAllAsync()
    {
        using var response = await Client.PostAsJsonAsync("/api/v1/runs/cancel", new { }, RunwayApp.Json, Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
}
