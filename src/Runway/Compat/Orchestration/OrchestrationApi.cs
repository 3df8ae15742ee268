using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Runway.Api;
using Runway.Auth;
using Runway.Data;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Compat.Orchestration;

/// <summary>
/// LIneA Orchestration's API (linea-it/orchestration, backend/core/views.py) over Runway: a process is a run, a
/// pipeline a pipeline, <c>used_config</c> its parameters, <c>/o/token/</c> Runway's client-credentials endpoint.
/// Unlike the original, a caller sees only the processes the API would show them, and a bad request answers
/// 400, 404 or 422, never 500. Process ids are integers, as Orchestration's (<see cref="ProcessIds"/>); a run's own id
/// (a string) is accepted in their place too.
/// </summary>
public static class OrchestrationApi
{
    /// <summary>Orchestration's ProcessStatus: Successful=0, Pending=1, Running=2, Stopping=3, Stopped=4, Failed=5, Queued=6.</summary>
    public static int Status(Run run) => run.State switch
    {
        RunState.Succeeded => 0,
        RunState.Running when run.CancelRequestedAt is not null => 3,
        RunState.Running => 2,
        RunState.Canceled => 4,
        RunState.Queued => 6,
        _ => 5,
    };

    public static string StatusName(int status) => status switch
    {
        0 => "Successful",
        1 => "Pending",
        2 => "Running",
        3 => "Stopping",
        4 => "Stopped",
        5 => "Failed",
        _ => "Queued",
    };

    public static IEndpointRouteBuilder MapOrchestration(this IEndpointRouteBuilder app)
    {
        app.MapPost("/o/token/", OAuthApi.TokenAsync).WithTags("LIneA Orchestration").AllowAnonymous().DisableAntiforgery()
            .RequireRateLimiting(AuthServiceCollectionExtensions.TokenEndpointLimit);
        var api = app.MapGroup("/api").WithTags("LIneA Orchestration");
        api.MapGet("/processes/", ListAsync).RequireAuthorization(Scopes.RunsRead);
        api.MapPost("/processes/", CreateAsync).RequireAuthorization(Scopes.RunsWrite).DisableAntiforgery();
        api.MapGet("/processes/{id}/", GetAsync).RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/processes/{id}/status/", StatusAsync).RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/processes/{id}/stop/", StopAsync).RequireAuthorization(Scopes.RunsWrite);
        api.MapGet("/pipelines/", Pipelines).RequireAuthorization(Scopes.RunsRead);
        return app;
    }

    public static Dictionary<string, object?> Process(Run run, long id) => new()
    {
        ["id"] = id,
        ["runway_run_id"] = run.Id,
        ["owner"] = run.Owner,
        ["path_str"] = $"{run.Pipeline}/{run.Id}",
        ["pipeline"] = run.Pipeline,
        ["pipeline_version"] = run.PipelineVersion,
        ["used_config"] = JsonNode.Parse(run.ParamsJson),
        ["created_at"] = run.SubmittedAt,
        ["started_at"] = run.StartedAt,
        ["ended_at"] = run.FinishedAt,
        ["executor"] = run.Executor,
        ["worker"] = run.Node,
        ["task_id"] = null,
        ["pid"] = run.NativeId,
        ["status"] = Status(run),
        ["comment"] = run.Message,
        ["user"] = run.Owner,
    };

    private static JsonHttpResult<Dictionary<string, object?>> Error(int status, string error) => TypedResults.Json(new Dictionary<string, object?> { ["error"] = error }, statusCode: status);

    public static async Task<IResult> ListAsync(ClaimsPrincipal user, RunwayDb db, ProcessIds processIds, CancellationToken cancellationToken)
    {
        var runs = await RunQuery.VisibleTo(db, user).OrderByDescending(r => r.Id).Take(RunQuery.MaxLimit).ToListAsync(cancellationToken);
        // Numbered oldest first, as a sequence of submissions would be.
        var ids = await processIds.IdsOfAsync([.. runs.Select(r => r.Id).Reverse()], cancellationToken);
        return TypedResults.Json(runs.Select(r => Process(r, ids[r.Id])).ToList());
    }

    public static async Task<IResult> CreateAsync(HttpContext http, Submissions submissions, ProcessIds processIds, CancellationToken cancellationToken)
    {
        string? pipeline;
        JsonNode? config;
        try
        {
            (pipeline, config) = await ReadAsync(http.Request, cancellationToken);
        }
        catch (JsonException e)
        {
            return Error(400, $"[config loader] used_config is not JSON: {e.Message}");
        }
        if (string.IsNullOrWhiteSpace(pipeline))
        {
            return Error(400, "[pipeline loader] pipeline is required");
        }
        if (config is not (null or JsonObject))
        {
            return Error(400, "[config loader] used_config must be a JSON object");
        }
        var result = await submissions.SubmitAsync(new RunSubmission(pipeline, config as JsonObject ?? [], null, null, null, null), Caller.SubmitterOf(http), cancellationToken);
        return result switch
        {
            { Run: { } run } => TypedResults.Json(Process(run, await processIds.IdOfAsync(run.Id, cancellationToken)), statusCode: StatusCodes.Status201Created),
            { Failure: SubmissionFailure.UnknownPipeline } => Error(404, $"[pipeline loader] {result.Detail}"),
            { Failure: SubmissionFailure.Invalid, Errors: { } errors } => TypedResults.Json(new Dictionary<string, object?>
            {
                ["error"] = "[config loader] the config is not valid for this pipeline",
                ["errors"] = errors.ToDictionary(e => e.Key.Replace("params.", "used_config.", StringComparison.Ordinal), e => e.Value),
            }, statusCode: StatusCodes.Status422UnprocessableEntity),
            { Failure: SubmissionFailure.OverQuota } => Error(507, result.Detail!),
            _ => Error(422, result.Detail!),
        };
    }

    /// <summary>The form (the README's curl -d) or a JSON body; used_config as an object or as JSON text, empty for the defaults.</summary>
    private static async Task<(string? Pipeline, JsonNode? Config)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true)
        {
            var form = await request.ReadFormAsync(cancellationToken);
            var text = form["used_config"].ToString();
            return (form["pipeline"].ToString(), string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text));
        }
        var body = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken) as JsonObject;
        var used = body?["used_config"];
        if (used is JsonValue value && value.TryGetValue<string>(out var json))
        {
            used = string.IsNullOrWhiteSpace(json) ? null : JsonNode.Parse(json);
        }
        return (body?["pipeline"] is JsonValue name && name.TryGetValue<string>(out var text2) ? text2 : null, used?.DeepClone());
    }

    public static async Task<IResult> GetAsync(string id, ClaimsPrincipal user, IRunStore store, ProcessIds processIds, CancellationToken cancellationToken) =>
        await FindAsync(id, user, store, processIds, cancellationToken) is { } run
            ? TypedResults.Json(Process(run, await processIds.IdOfAsync(run.Id, cancellationToken)))
            : NotFound();

    public static async Task<IResult> StatusAsync(string id, ClaimsPrincipal user, IRunStore store, ProcessIds processIds, CancellationToken cancellationToken) =>
        await FindAsync(id, user, store, processIds, cancellationToken) is { } run
            ? TypedResults.Json(new Dictionary<string, object?> { ["status"] = StatusName(Status(run)), ["started_at"] = run.StartedAt, ["ended_at"] = run.FinishedAt })
            : NotFound();

    /// <summary>A GET that stops, as Orchestration's is; so that no page of another site can spend a browser's session on it, it takes a token.</summary>
    public static async Task<IResult> StopAsync(string id, HttpContext http, IRunStore store, RunCancel cancel, ProcessIds processIds, CancellationToken cancellationToken)
    {
        if (http.User.FindFirstValue("auth_method") == "cookie")
        {
            return Error(403, "stop takes a token, not a browser session");
        }
        if (await FindAsync(id, http.User, store, processIds, cancellationToken) is not { } before)
        {
            return NotFound();
        }
        if (before.State.IsFinal())
        {
            return TypedResults.Json(new Dictionary<string, object?> { ["message"] = $"The process has already ended ({StatusName(Status(before))})." });
        }
        return await cancel.CancelAsync(before.Id, http, cancellationToken) is { } run
            ? TypedResults.Json(Process(run, await processIds.IdOfAsync(run.Id, cancellationToken)))
            : NotFound();
    }

    public static IResult Pipelines(ClaimsPrincipal user, PipelineCatalog catalog) =>
        TypedResults.Json(new Dictionary<string, object?>
        {
            ["pipelines"] = catalog.All.Where(p => Caller.MayUse(user, p)).ToDictionary(p => p.Name, p => new Dictionary<string, object?>
            {
                ["display_name"] = p.Title ?? p.Name,
                ["version"] = p.Version,
                ["description"] = p.Description,
                ["schema_config"] = ParameterSchema.ToJsonSchema(p),
            }),
        });

    /// <summary>The caller's process by its integer (or its run id); another user's answers as a missing one does.</summary>
    private static async Task<Run?> FindAsync(string id, ClaimsPrincipal user, IRunStore store, ProcessIds processIds, CancellationToken cancellationToken)
    {
        var runId = long.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? await processIds.RunIdOfAsync(number, cancellationToken)
            : id;
        return runId is null ? null : await CompatViews.VisibleRunAsync(store, runId, user, cancellationToken);
    }

    private static JsonHttpResult<Dictionary<string, object?>> NotFound() => TypedResults.Json(new Dictionary<string, object?> { ["detail"] = "Not found." }, statusCode: 404);
}
