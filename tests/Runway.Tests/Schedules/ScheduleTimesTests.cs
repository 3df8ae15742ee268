using Runway.Schedules;

namespace Runway.Tests.Schedules;

/// <summary>Fire times and catch-up on a clock the test sets: the planner takes "now" as an argument, never the wall clock.</summary>
public sealed class ScheduleTimesTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    private static Cronos.CronExpression Cron(string text) => ScheduleTimes.ParseCron(text, out var error) ?? throw new InvalidOperationException(error);

    [Fact]
    public void Next_FiresAfterTheGap_WhenSpringForwardSkipsTheTime()
    {
        // 2026-03-29 in Berlin: 02:00 CET becomes 03:00 CEST, so 02:30 does not exist that night.
        var times = ScheduleTimes.Next(Cron("30 2 * * *"), Berlin, DateTimeOffset.Parse("2026-03-28T12:00:00Z", null), 3);

        Assert.Equal(
            [DateTimeOffset.Parse("2026-03-29T03:00:00+02:00", null), DateTimeOffset.Parse("2026-03-30T02:30:00+02:00", null), DateTimeOffset.Parse("2026-03-31T02:30:00+02:00", null)],
            times);
        Assert.Equal(TimeSpan.FromHours(2), times[0].Offset);
    }

    [Fact]
    public void Next_FiresOnce_WhenFallBackRepeatsTheTime()
    {
        // 2026-10-25 in Berlin: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice; a daily schedule runs once.
        var times = ScheduleTimes.Next(Cron("30 2 * * *"), Berlin, DateTimeOffset.Parse("2026-10-24T12:00:00Z", null), 2);

        Assert.Equal([DateTimeOffset.Parse("2026-10-25T02:30:00+02:00", null), DateTimeOffset.Parse("2026-10-26T02:30:00+01:00", null)], times);
    }

    [Fact]
    public void Next_KeepsAnHourlyScheduleHourly_AcrossFallBack()
    {
        var times = ScheduleTimes.Next(Cron("0 * * * *"), Berlin, DateTimeOffset.Parse("2026-10-24T23:30:00Z", null), 4);

        // Every real hour, the repeated 02:00 included: 02:00+02:00 and 02:00+01:00.
        Assert.Equal(["2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"],
            times.Select(t => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(2, times.Count(t => t.Hour == 2));
    }

    [Fact]
    public void Plan_FiresForTheDueTime_WhenOnTime()
    {
        var plan = ScheduleTimes.Plan(Cron("* * * * *"), TimeZoneInfo.Utc, At("10:00:00"), At("10:00:00.300"), ScheduleRules.CatchUpNone);

        Assert.Equal(new FirePlan(At("10:00:00"), 0, At("10:01:00")), plan);
    }

    [Fact]
    public void Plan_FiresForTheDueTime_WhenSpringForwardMovedItPastTheGap()
    {
        // Cronos puts the nonexistent 02:30 at 03:00 CEST, but does not find that time again when asked from it (inclusive):
        // the planner must fire for the stored due time itself, not look it up anew.
        var due = DateTimeOffset.Parse("2026-03-29T03:00:00+02:00", null);

        var plan = ScheduleTimes.Plan(Cron("30 2 * * *"), Berlin, due, due.AddMilliseconds(300), ScheduleRules.CatchUpNone);

        Assert.Equal(new FirePlan(due, 0, DateTimeOffset.Parse("2026-03-30T02:30:00+02:00", null)), plan);
    }

    [Fact]
    public void Plan_FiresOnceForTheLatestMissedTime_WhenCatchUpIsOne()
    {
        // Down from 10:00 to 13:00:30: 181 fire times passed; one run, for 13:00, and the next is 13:01.
        var plan = ScheduleTimes.Plan(Cron("* * * * *"), TimeZoneInfo.Utc, At("10:00:00"), At("13:00:30"), ScheduleRules.CatchUpOne);

        Assert.Equal(new FirePlan(At("13:00:00"), 180, At("13:01:00")), plan);
    }

    [Fact]
    public void Plan_SkipsToTheNextTime_WhenCatchUpIsNone()
    {
        var plan = ScheduleTimes.Plan(Cron("* * * * *"), TimeZoneInfo.Utc, At("10:00:00"), At("13:00:30"), ScheduleRules.CatchUpNone);

        Assert.Equal(new FirePlan(null, 181, At("13:01:00")), plan);
    }

    [Fact]
    public void Plan_CountsALoneFireAsMissed_WhenLaterThanTheGrace()
    {
        var none = ScheduleTimes.Plan(Cron("0 * * * *"), TimeZoneInfo.Utc, At("10:00:00"), At("10:05:00"), ScheduleRules.CatchUpNone);
        var one = ScheduleTimes.Plan(Cron("0 * * * *"), TimeZoneInfo.Utc, At("10:00:00"), At("10:05:00"), ScheduleRules.CatchUpOne);

        Assert.Equal(new FirePlan(null, 1, At("11:00:00")), none);
        Assert.Equal(new FirePlan(At("10:00:00"), 0, At("11:00:00")), one);
    }

    [Theory]
    [InlineData("* * * *")]
    [InlineData("* * * * * * *")]
    [InlineData("61 * * * *")]
    [InlineData("")]
    public void ParseCron_RefusesWithAReason(string text)
    {
        Assert.Null(ScheduleTimes.ParseCron(text, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void ParseCron_TakesSecondsAsASixthField()
    {
        var times = ScheduleTimes.Next(Cron("*/2 * * * * *"), TimeZoneInfo.Utc, At("10:00:01"), 3);

        Assert.Equal([At("10:00:02"), At("10:00:04"), At("10:00:06")], times);
    }

    private static DateTimeOffset At(string time) => DateTimeOffset.Parse($"2026-12-03T{time}Z", null);
}
