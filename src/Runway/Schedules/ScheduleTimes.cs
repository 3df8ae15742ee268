using Cronos;

namespace Runway.Schedules;

/// <summary>What a due schedule does now: the fire time to make a run for (null: none), how many fire times it missed, the next one.</summary>
public sealed record FirePlan(DateTimeOffset? FireFor, int Missed, DateTimeOffset? Next);

/// <summary>
/// Fire times, computed by Cronos in the schedule's time zone: a time that does not exist (spring forward) fires at
/// the first instant after the gap, a time that occurs twice (fall back) fires once, and an expression with an
/// interval in the hour field keeps its interval across either (Cronos's documented rules).
/// </summary>
public static class ScheduleTimes
{
    /// <summary>A fire this late is still made as on time; later than this it counts as missed (downtime).</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    public static CronExpression? ParseCron(string? cron, out string? error)
    {
        var fields = (cron ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length is not (5 or 6))
        {
            error = "must have 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first";
            return null;
        }
        try
        {
            error = null;
            return CronExpression.Parse(string.Join(' ', fields), fields.Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            error = e.Message;
            return null;
        }
    }

    public static TimeZoneInfo? ParseZone(string? id, out string? error)
    {
        error = null;
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(string.IsNullOrWhiteSpace(id) ? "UTC" : id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            error = $"'{id}' is not a known time zone; use an IANA id such as 'Europe/Berlin' or 'UTC'";
            return null;
        }
    }

    /// <summary>The next <paramref name="count"/> fire times after <paramref name="after"/>, with the zone's offset of each.</summary>
    public static IReadOnlyList<DateTimeOffset> Next(CronExpression cron, TimeZoneInfo zone, DateTimeOffset after, int count)
    {
        var times = new List<DateTimeOffset>(count);
        for (var at = after; times.Count < count && cron.GetNextOccurrence(at, zone) is { } next; at = next)
        {
            times.Add(next);
        }
        return times;
    }

    /// <summary>
    /// The plan for a schedule whose fire time <paramref name="due"/> has come (<paramref name="now"/> ≥ due):
    /// 1. only <paramref name="due"/> has passed, and by at most <see cref="Grace"/>: fire for it;
    /// 2. otherwise fire times were missed (no node ran): <c>catch_up: one</c> fires once, for the latest of them,
    ///    <c>none</c> fires for none of them;
    /// 3. either way the next fire time is the first after now, never one already past.
    /// <paramref name="due"/> counts as a fire time as it is, not looked up again: it was computed from the cron, and Cronos,
    /// asked from a time it moved past a spring-forward gap (02:30 → 03:00), does not find that time again.
    /// </summary>
    public static FirePlan Plan(CronExpression cron, TimeZoneInfo zone, DateTimeOffset due, DateTimeOffset now, string catchUp)
    {
        var next = cron.GetNextOccurrence(now, zone);
        if (now < due)
        {
            return new FirePlan(null, 0, due);
        }
        var passed = 1;
        var latest = due;
        foreach (var at in cron.GetOccurrences(due, now, zone, fromInclusive: false, toInclusive: true))
        {
            latest = at;
            passed++;
        }
        if (passed == 1 && now - latest <= Grace)
        {
            return new FirePlan(latest, 0, next);
        }
        return catchUp == ScheduleRules.CatchUpOne ? new FirePlan(latest, passed - 1, next) : new FirePlan(null, passed, next);
    }
}
