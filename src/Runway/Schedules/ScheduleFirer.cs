using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Runs;

namespace Runway.Schedules;

/// <summary>
/// Makes one due schedule's fire, on any node, exactly once however many nodes try at the same moment:
/// 1. plan the fire from the stored next fire time (<see cref="ScheduleTimes.Plan"/>);
/// 2. with <c>overlap: skip</c>, skip it while an earlier run of the schedule is active;
/// 3. submit through <see cref="Submissions"/>, the one submission path (a changed pipeline is a recorded failure);
///    the run carries (schedule_id, scheduled_for), unique, so a second node's insert is skipped and it gets the first run;
/// 4. compare-and-set the schedule from this fire time to the next, with the outcome: only one node's write lands.
/// A node that dies between 3 and 4 leaves the fire time due; the next pass finds its run and only does step 4.
/// </summary>
public sealed class ScheduleFirer(IDbContextFactory<RunwayDb> databases, Submissions submissions, TimeProvider clock, ILogger<ScheduleFirer> logger)
{
    public async Task FireAsync(Schedule schedule, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (schedule.NextFireAt is not { } due || ScheduleTimes.ParseCron(schedule.Cron, out _) is not { } cron
            || ScheduleTimes.ParseZone(schedule.TimeZone, out _) is not { } zone)
        {
            return;
        }
        var plan = ScheduleTimes.Plan(cron, zone, due, clock.GetUtcNow(), schedule.CatchUp);
        var (outcome, detail, runId) = plan.FireFor is { } at
            ? await SubmitAsync(schedule, at, ct)
            : ("skipped", (string?)null, (string?)null);
        if (plan.Missed > 0)
        {
            var missed = $"{plan.Missed} fire time(s) missed while no node was running (catch_up: {schedule.CatchUp})";
            detail = detail is null ? missed : $"{detail}; {missed}";
        }
        await using var db = await databases.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var moved = await db.Schedules.Where(s => s.Id == schedule.Id && s.NextFireAt == due)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.NextFireAt, plan.Next)
                .SetProperty(x => x.LastFireFor, plan.FireFor ?? due)
                .SetProperty(x => x.LastOutcome, outcome)
                .SetProperty(x => x.LastDetail, detail)
                .SetProperty(x => x.LastRunId, runId)
                .SetProperty(x => x.UpdatedAt, now), ct);
        if (moved == 1)
        {
            logger.LogInformation("Schedule {ScheduleId} fire for {FireFor}: {Outcome} {Detail}; next at {Next}",
                schedule.Id, plan.FireFor ?? due, outcome, detail ?? runId, plan.Next);
        }
    }

    private async Task<(string Outcome, string? Detail, string? RunId)> SubmitAsync(Schedule schedule, DateTimeOffset at, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        if (schedule.Overlap == ScheduleRules.OverlapSkip
            && await db.Runs.AsNoTracking()
                .Where(r => r.ScheduleId == schedule.Id && r.ScheduledFor != at && (r.State == RunState.Queued || r.State == RunState.Running))
                .Select(r => r.Id).FirstOrDefaultAsync(ct) is { } active)
        {
            return ("skipped", $"run {active} of the previous fire is still active (overlap: skip)", null);
        }
        if (await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Username == schedule.Owner && u.Enabled, ct) is not { } account)
        {
            return ("failed", $"the owner '{schedule.Owner}' is no longer an enabled user", null);
        }
        var submission = new RunSubmission(schedule.Pipeline, JsonNode.Parse(schedule.ParamsJson)?.AsObject(), schedule.Name, Tags: null, Priority: null,
            IdempotencyKey: null, ScheduleId: schedule.Id, ScheduledFor: at);
        var result = await submissions.SubmitAsync(submission, new Submitter(account.Username, account.IsAdmin, account.GroupList, Address: null), ct);
        if (result.Run is { } run)
        {
            return ("submitted", null, run.Id);
        }
        var errors = result.Errors is { Count: > 0 } fields ? ": " + string.Join("; ", fields.Select(f => $"{f.Key} {string.Join(", ", f.Value)}")) : "";
        return ("failed", $"{result.Detail}{errors}", null);
    }
}
