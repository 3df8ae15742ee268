using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;
using Runway.Runs;

namespace Runway.Api;

public static class RunsApi
{
    private const int MaxJsonBody = 1024 * 1024;

    public static IEndpointRouteBuilder MapRuns(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/runs").WithTags("Runs");
        api.MapPost("/", SubmitAsync).WithSummary("Submit a run").WithMetadata(new RequestSizeLimitAttribute(MaxJsonBody))
            .RequireAuthorization(Scopes.RunsWrite);
        api.MapGet("/", ListAsync).WithSummary("List runs (the caller's; an admin's: everyone's), newest first, filtered (state, pipeline, owner, tag, text in the name, batch_id), one page per cursor")
            .RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/{id}", GetAsync).WithSummary("One run with its state transitions").RequireAuthorization(Scopes.RunsRead);
        api.MapPost("/{id}/cancel", CancelAsync).WithSummary("Cancel a run (idempotent)").RequireAuthorization(Scopes.RunsWrite);
        api.MapPost("/cancel", CancelManyAsync).WithMetadata(new RequestSizeLimitAttribute(MaxJsonBody))
            .WithSummary("Cancel every active run of the caller's that matches a filter (pipeline, tags, batch_id, state; admins also owner); {} cancels them all")
            .RequireAuthorization(Scopes.RunsWrite);
        api.MapPost("/{id}/resubmit", ResubmitAsync).WithMetadata(new RequestSizeLimitAttribute(MaxJsonBody))
            .WithSummary("A new run with the same parameters and input files as one of the caller's runs, on the pipeline's current version")
            .RequireAuthorization(Scopes.RunsWrite);
        return app;
    }

    public static async Task<Results<Created<RunResponse>, ProblemHttpResult>> SubmitAsync(
        SubmitRunRequest? request,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        HttpContext http,
        Submissions submissions,
        Notifications.NotificationOutbox outbox,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return Problems.BadRequest("the body must be a JSON object such as {\"pipeline\": \"hello\", \"params\": {}}");
        }
        var submission = new RunSubmission(request.Pipeline, request.Params, request.Name, request.Tags, request.Priority, idempotencyKey, request.Notify)
        {
            Cache = request.Cache,
            PipelineVersion = request.PipelineVersion,
        };
        var result = await submissions.SubmitAsync(submission, Caller.SubmitterOf(http), cancellationToken);
        if (result.Run is { } run)
        {
            // A replay answers what the first request did: the run as it was submitted, with its Location.
            // Its notifications as they were then too: pending, none tried.
            var targets = result.Replayed
                ? (await outbox.OfRunAsync(run.Id, cancellationToken)).Select(n => (n.Id, n.Target, n.Kind))
                : run.Notify.Select(t => (t.Id, t.Target, t.Kind));
            var response = (result.Replayed ? RunResponse.AsSubmitted(run, clock) : RunResponse.From(run, clock)) with
            {
                Notifications = [.. targets.Select(t => new NotificationResponse(t.Id, t.Target, t.Kind, Data.Notification.Pending, 0, null, null, null, null))],
            };
            return TypedResults.Created($"/api/v1/runs/{run.Id}", response);
        }
        return Refused(result);
    }

    public static async Task<Results<Created<RunResponse>, ProblemHttpResult>> ResubmitAsync(
        string id, ResubmitRequest? request, HttpContext http, Submissions submissions, TimeProvider clock, CancellationToken cancellationToken)
    {
        var result = await submissions.ResubmitAsync(id, request?.PipelineVersion, Caller.SubmitterOf(http), cancellationToken);
        return result.Run is { } run ? TypedResults.Created($"/api/v1/runs/{run.Id}", RunResponse.From(run, clock)) : Refused(result);
    }

    public static async Task<Results<Ok<RunCancelResult>, ProblemHttpResult>> CancelManyAsync(
        RunCancelFilter? filter, HttpContext http, RunBulkCancel bulk, CancellationToken cancellationToken)
    {
        if (filter is null)
        {
            return Problems.BadRequest("the body must be a JSON filter such as {\"pipeline\": \"sleep\", \"tags\": {\"project\": \"m31\"}}; {} cancels all your active runs");
        }
        var errors = new Dictionary<string, string[]>();
        return await bulk.CancelAsync(filter, http, errors, cancellationToken) is { } result
            ? TypedResults.Ok(result)
            : Problems.Invalid(errors);
    }

    /// <summary>Why a submission (or resubmit) made no run, as problem details.</summary>
    private static ProblemHttpResult Refused(SubmissionResult result) =>
        result.Failure switch
        {
            SubmissionFailure.UnknownRun => Problems.NotFound(result.Detail!),
            SubmissionFailure.UnknownPipeline => Problems.NotFound(result.Detail!),
            SubmissionFailure.PriorityNotAllowed => Problems.Forbidden(result.Detail!),
            SubmissionFailure.KeyReused => TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "Idempotency-Key reused with a different request", detail: result.Detail),
            SubmissionFailure.OverLimit => TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "The run asks for more than its executor allows", detail: result.Detail),
            SubmissionFailure.OverQuota => Problems.OverQuota(StatusCodes.Status507InsufficientStorage, result.Detail!, result.Quota!),
            _ => Problems.Invalid(result.Errors!.ToDictionary()),
        };

    public static async Task<Results<Ok<RunListResponse>, ProblemHttpResult>> ListAsync(
        string? state, string? pipeline, string? owner, string? tag, string? name, int? limit, string? cursor,
        [FromQuery(Name = "batch_id")] string? batchId, ClaimsPrincipal user, RunwayDb db, QueueReason queue, TimeProvider clock, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var page = await RunQuery.PageAsync(db, user, new RunFilter(state, pipeline, owner, tag, name, batchId), cursor, limit, errors, cancellationToken);
        if (page is null)
        {
            return Problems.Invalid(errors);
        }
        // Why the page's queued runs wait, computed for those only (the rest of the list pays nothing).
        var why = await queue.WhyAsync(page.Runs, cancellationToken);
        foreach (var run in page.Runs.Where(r => why.ContainsKey(r.Id)))
        {
            run.Message = why[run.Id];
        }
        return TypedResults.Ok(new RunListResponse(page.Runs.Select(r => RunResponse.From(r, clock)).ToList(), page.NextCursor));
    }

    public static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> GetAsync(
        string id, ClaimsPrincipal user, IRunStore store, QueueReason queue, Notifications.NotificationOutbox outbox, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { } run || !Caller.CanSee(user, run.Owner))
        {
            return Problems.NotFound($"no run with id '{id}'");
        }
        run.Message = await queue.WhyAsync(run, cancellationToken);
        var events = await store.ListEventsAsync(id, cancellationToken);
        var notifications = await outbox.OfRunAsync(id, cancellationToken);
        return TypedResults.Ok(RunResponse.From(run, clock, events) with { Notifications = [.. notifications.Select(NotificationResponse.From)] });
    }

    public static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> CancelAsync(
        string id, HttpContext http, RunCancel cancel, TimeProvider clock, CancellationToken cancellationToken) =>
        await cancel.CancelAsync(id, http, cancellationToken) is { } run
            ? TypedResults.Ok(RunResponse.From(run, clock))
            : Problems.NotFound($"no run with id '{id}'");
}
