using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;
using Runway.Pipelines;
using Runway.Runs;
using Runway.Schedules;

namespace Runway.Api;

public static class SchedulesApi
{
    private const int MaxJsonBody = 1024 * 1024;
    private const int NextShown = 5;
    private const int RunsShown = 10;

    public static IEndpointRouteBuilder MapSchedules(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/schedules").WithTags("Schedules");
        api.MapPost("/", CreateAsync).WithSummary("Create a cron schedule that submits a run at each fire time")
            .WithMetadata(new RequestSizeLimitAttribute(MaxJsonBody)).RequireAuthorization(Scopes.RunsWrite);
        api.MapGet("/", ListAsync).WithSummary("The caller's schedules (an admin's: everyone's)").RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/{id}", GetAsync).WithSummary("One schedule, its next fire times and its last runs").RequireAuthorization(Scopes.RunsRead);
        api.MapPatch("/{id}", UpdateAsync).WithSummary("Change a schedule (any field; enabled: false pauses it)")
            .WithMetadata(new RequestSizeLimitAttribute(MaxJsonBody)).RequireAuthorization(Scopes.RunsWrite);
        api.MapDelete("/{id}", DeleteAsync).WithSummary("Delete a schedule (its runs stay)").RequireAuthorization(Scopes.RunsWrite);
        return app;
    }

    public static async Task<Results<Created<ScheduleResponse>, ProblemHttpResult>> CreateAsync(
        ScheduleRequest? request, HttpContext http, RunwayDb db, PipelineCatalog catalog, ScheduleLoop loop, AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        if (request is null)
        {
            return Problems.BadRequest("the body must be a JSON object such as {\"name\": \"nightly\", \"pipeline\": \"hello\", \"cron\": \"0 3 * * *\", \"timezone\": \"Europe/Berlin\"}");
        }
        var now = clock.GetUtcNow();
        var schedule = new Schedule
        {
            Id = "s_" + Ids.NewUlid(now),
            Owner = Caller.NameOf(http.User),
            Name = request.Name ?? "",
            Pipeline = request.Pipeline ?? "",
            Cron = request.Cron ?? "",
            CreatedAt = now,
        };
        if (Apply(schedule, request, http, catalog, now) is { } invalid)
        {
            return invalid;
        }
        db.Schedules.Add(schedule);
        await db.SaveChangesAsync(ct);
        await audit.RecordAsync(http, "schedule.create", schedule.Id, ct);
        loop.Wake();
        return TypedResults.Created($"/api/v1/schedules/{schedule.Id}", await ResponseAsync(db, schedule, now, ct));
    }

    public static async Task<Ok<ScheduleListResponse>> ListAsync(ClaimsPrincipal user, RunwayDb db, TimeProvider clock, CancellationToken ct)
    {
        var me = Caller.NameOf(user);
        var query = Caller.IsAdmin(user) ? db.Schedules.AsNoTracking() : db.Schedules.AsNoTracking().Where(s => s.Owner == me);
        var schedules = await query.OrderBy(s => s.Id).Take(1000).ToListAsync(ct);
        var now = clock.GetUtcNow();
        return TypedResults.Ok(new ScheduleListResponse([.. schedules.Select(s => ScheduleResponse.From(s, now, NextShown, []))]));
    }

    public static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> GetAsync(
        string id, ClaimsPrincipal user, RunwayDb db, TimeProvider clock, CancellationToken ct) =>
        await db.Schedules.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct) is { } schedule && Caller.CanSee(user, schedule.Owner)
            ? TypedResults.Ok(await ResponseAsync(db, schedule, clock.GetUtcNow(), ct))
            : Problems.NotFound($"no schedule with id '{id}'");

    public static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> UpdateAsync(
        string id, ScheduleRequest? request, HttpContext http, RunwayDb db, PipelineCatalog catalog, ScheduleLoop loop, AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        if (await db.Schedules.FirstOrDefaultAsync(s => s.Id == id, ct) is not { } schedule || !Caller.CanSee(http.User, schedule.Owner))
        {
            return Problems.NotFound($"no schedule with id '{id}'");
        }
        if (request is null)
        {
            return Problems.BadRequest("the body must be a JSON object of the fields to change, such as {\"enabled\": false}");
        }
        var now = clock.GetUtcNow();
        if (Apply(schedule, request, http, catalog, now) is { } invalid)
        {
            return invalid;
        }
        await db.SaveChangesAsync(ct);
        await audit.RecordAsync(http, "schedule.update", schedule.Id, ct);
        loop.Wake();
        return TypedResults.Ok(await ResponseAsync(db, schedule, now, ct));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string id, HttpContext http, RunwayDb db, ScheduleLoop loop, AuditTrail audit, CancellationToken ct)
    {
        if (await db.Schedules.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct) is not { } schedule || !Caller.CanSee(http.User, schedule.Owner)
            || await db.Schedules.Where(s => s.Id == id).ExecuteDeleteAsync(ct) == 0)
        {
            return Problems.NotFound($"no schedule with id '{id}'");
        }
        await audit.RecordAsync(http, "schedule.delete", id, ct);
        loop.Wake();
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Sets the request's fields on the schedule and checks the whole (a PATCH leaves the fields it omits); the next fire
    /// time is computed anew from now when the timing changed: a resumed schedule does not make up its pause.
    /// </summary>
    private static ProblemHttpResult? Apply(Schedule schedule, ScheduleRequest request, HttpContext http, PipelineCatalog catalog, DateTimeOffset now)
    {
        var timing = (schedule.Cron, schedule.TimeZone, schedule.Enabled);
        schedule.Name = request.Name ?? schedule.Name;
        schedule.Pipeline = request.Pipeline ?? schedule.Pipeline;
        schedule.ParamsJson = request.Params?.ToJsonString() ?? schedule.ParamsJson;
        schedule.Cron = request.Cron ?? schedule.Cron;
        schedule.TimeZone = request.Timezone ?? schedule.TimeZone;
        schedule.Enabled = request.Enabled ?? schedule.Enabled;
        schedule.CatchUp = request.CatchUp ?? schedule.CatchUp;
        schedule.Overlap = request.Overlap ?? schedule.Overlap;
        var errors = new Dictionary<string, string[]>();
        if (request.Params is { } parameters && JsonText.FindInvalid(parameters, "params") is { } broken)
        {
            errors[broken] = ["is not valid text: invalid UTF-8 or a lone UTF-16 surrogate"];
        }
        else
        {
            ScheduleRules.Check(schedule, catalog, Caller.SubmitterOf(http), errors);
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        if (schedule.NextFireAt is null || timing != (schedule.Cron, schedule.TimeZone, schedule.Enabled))
        {
            schedule.NextFireAt = ScheduleRules.FirstFireAfter(schedule, now);
        }
        schedule.UpdatedAt = now;
        return null;
    }

    private static async Task<ScheduleResponse> ResponseAsync(RunwayDb db, Schedule schedule, DateTimeOffset now, CancellationToken ct)
    {
        var runs = await db.Runs.AsNoTracking().Where(r => r.ScheduleId == schedule.Id).OrderByDescending(r => r.Id).Take(RunsShown)
            .Select(r => new ScheduledRun(r.Id, r.State, r.ScheduledFor, r.SubmittedAt, r.FinishedAt)).ToListAsync(ct);
        return ScheduleResponse.From(schedule, now, NextShown, runs);
    }
}

/// <summary>POST's body (name, pipeline and cron required) and PATCH's (only the fields to change).</summary>
public sealed record ScheduleRequest(
    string? Name, string? Pipeline, JsonObject? Params, string? Cron, string? Timezone, bool? Enabled, string? CatchUp, string? Overlap);

public sealed record ScheduleListResponse(IReadOnlyList<ScheduleResponse> Schedules);

public sealed record ScheduledRun(string Id, RunState State, DateTimeOffset? ScheduledFor, DateTimeOffset SubmittedAt, DateTimeOffset? FinishedAt);

/// <summary>The latest fire: the time it was for, <c>submitted</c> / <c>skipped</c> / <c>failed</c>, why, and its run.</summary>
public sealed record ScheduleFire(DateTimeOffset? For, string Outcome, string? Detail, string? RunId);

public sealed record ScheduleResponse(
    string Id, string Name, string Owner, string Pipeline, JsonObject Params, string Cron, string Timezone, bool Enabled,
    string CatchUp, string Overlap, DateTimeOffset? NextFireAt, IReadOnlyList<DateTimeOffset> NextFireTimes,
    ScheduleFire? LastFire, IReadOnlyList<ScheduledRun> LastRuns, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    /// <summary>Next fire times in the schedule's own zone (their offsets show daylight-saving changes); none while paused.</summary>
    public static ScheduleResponse From(Schedule s, DateTimeOffset now, int next, IReadOnlyList<ScheduledRun> runs) => new(
        s.Id, s.Name, s.Owner, s.Pipeline, JsonNode.Parse(s.ParamsJson)?.AsObject() ?? [], s.Cron, s.TimeZone, s.Enabled, s.CatchUp, s.Overlap,
        s.NextFireAt,
        s.Enabled && s.NextFireAt is { } first && ScheduleTimes.ParseCron(s.Cron, out _) is { } cron && ScheduleTimes.ParseZone(s.TimeZone, out _) is { } zone
            ? [TimeZoneInfo.ConvertTime(first, zone), .. ScheduleTimes.Next(cron, zone, first > now ? first : now, next - 1)]
            : [],
        s.LastOutcome is { } outcome ? new ScheduleFire(s.LastFireFor, outcome, s.LastDetail, s.LastRunId) : null,
        runs, s.CreatedAt, s.UpdatedAt);
}
