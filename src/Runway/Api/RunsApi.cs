using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;
using Runway.Execution;
using Runway.Files;
using Runway.Pipelines;
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
        api.MapGet("/", ListAsync).WithSummary("List runs (the caller's; an admin's: everyone's), newest first, filtered, one page per cursor")
            .RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/{id}", GetAsync).WithSummary("One run with its state transitions").RequireAuthorization(Scopes.RunsRead);
        api.MapPost("/{id}/cancel", CancelAsync).WithSummary("Cancel a run (idempotent)").RequireAuthorization(Scopes.RunsWrite);
        return app;
    }

    public static async Task<Results<Created<RunResponse>, Ok<RunResponse>, ProblemHttpResult>> SubmitAsync(
        SubmitRunRequest? request,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        HttpContext http,
        PipelineCatalog catalog,
        RunwayDb db,
        RunStore store,
        RunScheduler scheduler,
        RunwayPaths paths,
        TimeProvider clock,
        AuditTrail audit,
        CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return Problems.BadRequest("the body must be a JSON object such as {\"pipeline\": \"hello\", \"params\": {}}");
        }
        if (string.IsNullOrWhiteSpace(request.Pipeline))
        {
            return Problems.Invalid("pipeline", "is required");
        }
        if (catalog.Find(request.Pipeline) is not { } pipeline || !Caller.MayUse(http.User, pipeline))
        {
            return Problems.NotFound($"no pipeline named '{request.Pipeline}'");
        }
        var owner = Caller.NameOf(http.User);
        var validation = ParameterValidator.Validate(pipeline, request.Params);
        var errors = validation.Errors.ToDictionary(e => $"params.{e.Key}", e => e.Value);
        SubmissionRules.Check(request, idempotencyKey, errors);
        var files = await ResolveFilesAsync(pipeline, validation.Params, owner, db, errors, cancellationToken);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var id = Ids.NewRunId(clock);
        var spec = RunSpecFactory.Create(pipeline, validation.Params, id, paths.RunDirectory(id), files);
        var run = new Run
        {
            Id = id,
            Pipeline = pipeline.Name,
            PipelineVersion = pipeline.Version,
            Name = request.Name,
            ParamsJson = validation.Params.ToJsonString(),
            TagsJson = JsonSerializer.Serialize(request.Tags ?? []),
            Priority = request.Priority ?? 0,
            Owner = owner,
            State = RunState.Queued,
            Executor = pipeline.Executor,
            SubmittedAt = WholeMicroseconds(clock.GetUtcNow()),
            SpecJson = RunSpecJson.Serialize(spec),
            IdempotencyKey = string.IsNullOrEmpty(idempotencyKey) ? null : idempotencyKey,
        };
        // The audit entry commits with the run: one durable transaction, shared with concurrent submissions.
        var (stored, created) = await store.AddAsync(run, audit.Entry(http, "run.submit", id), cancellationToken);
        if (!created)
        {
            return TypedResults.Ok(RunResponse.From(stored, clock));
        }
        scheduler.Wake();
        return TypedResults.Created($"/api/v1/runs/{stored.Id}", RunResponse.From(stored, clock));
    }

    public static async Task<Results<Ok<RunListResponse>, ProblemHttpResult>> ListAsync(
        string? state, string? pipeline, string? owner, string? tag, int? limit, string? cursor,
        ClaimsPrincipal user, RunwayDb db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var me = Caller.NameOf(user);
        var visible = Caller.IsAdmin(user) ? db.Runs.AsNoTracking() : db.Runs.AsNoTracking().Where(r => r.Owner == me);
        var query = RunQuery.Filter(visible, state, pipeline, owner, tag, cursor, errors);
        var size = limit ?? 50;
        if (size is < 1 or > 500)
        {
            errors["limit"] = ["must be between 1 and 500"];
        }
        if (errors.Count > 0 || query is null)
        {
            return Problems.Invalid(errors);
        }
        var page = await query.OrderByDescending(r => r.Id).Take(size + 1).ToListAsync(cancellationToken);
        var next = page.Count > size ? RunQuery.CursorAfter(page[size - 1].Id) : null;
        return TypedResults.Ok(new RunListResponse(page.Take(size).Select(r => RunResponse.From(r, clock)).ToList(), next));
    }

    public static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> GetAsync(
        string id, ClaimsPrincipal user, IRunStore store, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { } run || !Caller.CanSee(user, run.Owner))
        {
            return Problems.NotFound($"no run with id '{id}'");
        }
        var events = await store.ListEventsAsync(id, cancellationToken);
        return TypedResults.Ok(RunResponse.From(run, clock, events));
    }

    public static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> CancelAsync(
        string id, HttpContext http, IRunStore store, RunScheduler scheduler, AuditTrail audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { } owned || !Caller.CanSee(http.User, owned.Owner)
            || await scheduler.CancelAsync(id, cancellationToken) is not { } run)
        {
            return Problems.NotFound($"no run with id '{id}'");
        }
        await audit.RecordAsync(http, "run.cancel", id, cancellationToken);
        return TypedResults.Ok(RunResponse.From(run, clock));
    }

    /// <summary>The database keeps microseconds: the 201 must show the same instant a later GET does.</summary>
    private static DateTimeOffset WholeMicroseconds(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % 10), TimeSpan.Zero);

    /// <summary>Each file parameter names an upload of the caller's: look them up, or say which is missing.</summary>
    private static async Task<Dictionary<string, StoredFile>> ResolveFilesAsync(
        Pipeline pipeline, JsonObject validated, string owner, RunwayDb db, Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, StoredFile>();
        foreach (var parameter in pipeline.Parameters.Where(p => p.Type == ParameterType.File))
        {
            if (validated[parameter.Name]?.GetValue<string>() is not { } fileId || errors.ContainsKey($"params.{parameter.Name}"))
            {
                continue;
            }
            var file = await db.Files.AsNoTracking().FirstOrDefaultAsync(f => f.Id == fileId && f.Owner == owner, cancellationToken);
            if (file is null)
            {
                errors[$"params.{parameter.Name}"] = [$"no uploaded file with id '{fileId}'"];
                continue;
            }
            files[parameter.Name] = file;
        }
        return files;
    }
}
