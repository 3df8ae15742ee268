using System.Reflection;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Runway.Api;
using Runway.Auth;
using Runway.Data;
using Runway.Execution;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Compat.Ga4gh.Wes;

/// <summary>
/// GA4GH WES 1.1 over Runway's runs (issue 17): a workflow is a pipeline (<c>workflow_url</c> names it,
/// <c>workflow_type</c> RUNWAY), a WES run is a run. Reads go through the API's own queries and ownership rule,
/// submissions through <see cref="Submissions"/> (<see cref="WesSubmit"/>), cancel through <see cref="RunCancel"/>.
/// </summary>
public static class WesApi
{
    public const string Prefix = "/ga4gh/wes/v1";
    public const string WorkflowType = "RUNWAY";
    private const int DefaultPageSize = 50;

    public static IEndpointRouteBuilder MapWes(this IEndpointRouteBuilder app)
    {
        var wes = app.MapGroup(Prefix).WithTags("GA4GH WES 1.1");
        // Public, as GA4GH service-info is (Sapporo, wes-client and the compliance runners ask it without a token).
        wes.MapGet("/service-info", ServiceInfoAsync).RequireAuthorization(AuthServiceCollectionExtensions.AnyonePolicy)
            .WithSummary("WES service-info, public: the pipelines open to the caller as RUNWAY workflow type versions; the caller's runs per state when a runs:read credential is sent");
        wes.MapGet("/runs", ListAsync).RequireAuthorization(Scopes.RunsRead)
            .WithSummary("The caller's runs, newest first; page_size, page_token; Sapporo's state=, tags=key:value, run_ids= (repeated) filters and sort_order=asc|desc");
        wes.MapPost("/runs", WesSubmit.SubmitAsync).RequireAuthorization(Scopes.RunsWrite).DisableAntiforgery()
            .WithSummary("Submit a run (multipart: workflow_url = pipeline or pipeline@version, workflow_type RUNWAY, workflow_params, tags, workflow_attachment)");
        wes.MapGet("/runs/{run_id}", GetAsync).RequireAuthorization(Scopes.RunsRead).WithSummary("The run log");
        wes.MapGet("/runs/{run_id}/status", StatusAsync).RequireAuthorization(Scopes.RunsRead).WithSummary("The run's state");
        wes.MapGet("/runs/{run_id}/tasks", TasksAsync).RequireAuthorization(Scopes.RunsRead).WithSummary("The run's one task");
        wes.MapGet("/runs/{run_id}/tasks/{task_id}", TaskAsync).RequireAuthorization(Scopes.RunsRead).WithSummary("The run's one task, by its id");
        wes.MapPost("/runs/{run_id}/cancel", CancelAsync).RequireAuthorization(Scopes.RunsWrite).WithSummary("Cancel the run (idempotent)");
        return app;
    }

    public static async Task<Ok<WesServiceInfo>> ServiceInfoAsync(
        HttpContext http, PipelineCatalog catalog, RunwayDb db, CancellationToken cancellationToken)
    {
        // Anonymous callers get no counts at all (an empty system_state_counts), never anyone's runs: counting every
        // user's would tell strangers how busy the service is and who runs what when; a caller's own need a credential.
        var states = new Dictionary<string, long>();
        if (http.User.HasClaim(Scopes.ClaimType, Scopes.RunsRead))
        {
            var (counts, _) = await RunQuery.CountsAsync(db, http.User, new RunFilter(), 10_000, cancellationToken);
            states = WesStates.All.ToDictionary(s => s, _ => 0L);
            foreach (var (state, count) in counts)
            {
                // Counted by stored state: a run being cancelled is still counted as RUNNING here.
                states[WesStates.Of(state, canceling: false)] += count;
            }
        }
        var pipelines = catalog.All.Where(p => Caller.MayUse(http.User, p)).Select(p => $"{p.Name}@{p.Version}").ToList();
        var version = typeof(WesApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
        var baseUrl = BaseUrl(http);
        return TypedResults.Ok(new WesServiceInfo(
            "org.runway.wes", "Runway", new WesServiceType("org.ga4gh", "wes", "1.1.0"),
            "Runway's pipelines as WES workflows: workflow_type RUNWAY, workflow_url the pipeline's name (or name@version)",
            new WesOrganization("Runway", baseUrl), version,
            new Dictionary<string, WesTypeVersions> { [WorkflowType] = new(pipelines) },
            ["1.1.0"], [], new Dictionary<string, WesEngineVersions> { ["runway"] = new([version]) }, [], states,
            $"{baseUrl}/tokens", new Dictionary<string, string> { ["runs_api"] = $"{baseUrl}/api/v1/runs" }));
    }

    public static async Task<Results<Ok<WesRunList>, JsonHttpResult<ErrorResponse>>> ListAsync(
        [FromQuery(Name = "page_size")] long? pageSize, [FromQuery(Name = "page_token")] string? pageToken, string? state, string? tags,
        [FromQuery(Name = "sort_order")] string? sortOrder, [FromQuery(Name = "run_ids")] string[]? runIds,
        ClaimsPrincipal user, RunwayDb db, CancellationToken cancellationToken)
    {
        if (pageSize is < 1 or > RunQuery.MaxLimit)
        {
            return ErrorResponse.Of(400, $"page_size must be between 1 and {RunQuery.MaxLimit}");
        }
        // Sapporo's extensions (sapporo-wes-2.0.0): sort_order by start (here submission: run ids are time-ordered),
        // newest first by default; run_ids, repeated, keeps the listed runs the caller may see.
        if (sortOrder is not (null or "asc" or "desc"))
        {
            return ErrorResponse.Of(400, "sort_order must be asc or desc");
        }
        if (runIds is { Length: > RunQuery.MaxLimit })
        {
            return ErrorResponse.Of(400, $"at most {RunQuery.MaxLimit} run_ids");
        }
        string? stored = null;
        if (!string.IsNullOrEmpty(state))
        {
            if (WesStates.Stored(state) is not { } states)
            {
                return ErrorResponse.Of(400, $"'{state}' is not a WES state; one of: {string.Join(", ", WesStates.All)}");
            }
            if (states.Count == 0)
            {
                return TypedResults.Ok(new WesRunList([], ""));
            }
            stored = string.Join(',', states.Select(s => s.ToWire()));
        }
        var errors = new Dictionary<string, string[]>();
        var query = RunQuery.Filter(RunQuery.VisibleTo(db, user), new RunFilter(stored, Tag: tags), null, errors);
        var after = string.IsNullOrEmpty(pageToken) ? null : RunQuery.DecodeCursor(pageToken);
        if (query is null || (!string.IsNullOrEmpty(pageToken) && after is null))
        {
            errors.TryAdd("page_token", ["is not a page token this server gave out"]);
            return ErrorResponse.Of(400, string.Join("; ", errors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}")));
        }
        if (runIds is { Length: > 0 })
        {
            query = query.Where(r => runIds.Contains(r.Id));
        }
        var ascending = sortOrder == "asc";
        if (after is not null)
        {
            query = ascending ? query.Where(r => r.Id.CompareTo(after) > 0) : query.Where(r => r.Id.CompareTo(after) < 0);
        }
        var size = (int?)pageSize ?? DefaultPageSize;
        var found = await (ascending ? query.OrderBy(r => r.Id) : query.OrderByDescending(r => r.Id)).Take(size + 1).ToListAsync(cancellationToken);
        var runs = found.Take(size).Select(r => new WesRunSummary(r.Id, WesStates.Of(r), WesStates.Time(r.StartedAt), WesStates.Time(r.FinishedAt), TagsOf(r))).ToList();
        // The spec: an empty string says there are no more pages.
        return TypedResults.Ok(new WesRunList(runs, found.Count > size ? RunQuery.CursorAfter(found[size - 1].Id) : ""));
    }

    public static async Task<Results<Ok<WesRunLog>, JsonHttpResult<ErrorResponse>>> GetAsync(
        [FromRoute(Name = "run_id")] string runId, HttpContext http, IRunStore store, RunwayPaths paths, CancellationToken cancellationToken)
    {
        if (await FindAsync(runId, http.User, store, cancellationToken) is not { } run)
        {
            return NotFound(runId);
        }
        var baseUrl = BaseUrl(http);
        var outputs = run.FilesPurgedAt is null
            ? RunOutputs.ListOf(run, paths).Outputs.ToDictionary(o => o.Path, o => $"{baseUrl}/api/v1/runs/{run.Id}/outputs/{Uri.EscapeDataString(o.Path).Replace("%2F", "/", StringComparison.Ordinal)}")
            : [];
        var request = new WesRunRequest(JsonNode.Parse(run.ParamsJson)!.AsObject(), WorkflowType, run.PipelineVersion, TagsOf(run),
            new Dictionary<string, string>(), "runway", "", $"{run.Pipeline}@{run.PipelineVersion}");
        return TypedResults.Ok(new WesRunLog(run.Id, request, WesStates.Of(run), LogOf(run, baseUrl, id: null),
            $"{baseUrl}{Prefix}/runs/{run.Id}/tasks", null, outputs));
    }

    public static async Task<Results<Ok<WesRunStatus>, JsonHttpResult<ErrorResponse>>> StatusAsync(
        [FromRoute(Name = "run_id")] string runId, ClaimsPrincipal user, IRunStore store, CancellationToken cancellationToken) =>
        await FindAsync(runId, user, store, cancellationToken) is { } run
            ? TypedResults.Ok(new WesRunStatus(run.Id, WesStates.Of(run)))
            : NotFound(runId);

    /// <summary>A run is one task today (its id is the run's); a pipeline of steps will list one per step here.</summary>
    public static async Task<Results<Ok<WesTaskList>, JsonHttpResult<ErrorResponse>>> TasksAsync(
        [FromRoute(Name = "run_id")] string runId, [FromQuery(Name = "page_size")] long? pageSize, [FromQuery(Name = "page_token")] string? pageToken, HttpContext http, IRunStore store, CancellationToken cancellationToken)
    {
        if (await FindAsync(runId, http.User, store, cancellationToken) is not { } run)
        {
            return NotFound(runId);
        }
        if (pageSize is < 1)
        {
            return ErrorResponse.Of(400, "page_size must be at least 1");
        }
        // The one page holds every task, so any page after it is empty.
        IReadOnlyList<WesLog> tasks = string.IsNullOrEmpty(pageToken) ? [LogOf(run, BaseUrl(http), run.Id)] : [];
        return TypedResults.Ok(new WesTaskList(tasks, ""));
    }

    public static async Task<Results<Ok<WesLog>, JsonHttpResult<ErrorResponse>>> TaskAsync(
        [FromRoute(Name = "run_id")] string runId, [FromRoute(Name = "task_id")] string taskId, HttpContext http, IRunStore store, CancellationToken cancellationToken) =>
        await FindAsync(runId, http.User, store, cancellationToken) is { } run && taskId == run.Id
            ? TypedResults.Ok(LogOf(run, BaseUrl(http), run.Id))
            : ErrorResponse.Of(404, $"no task '{taskId}' in a run '{runId}' of yours");

    public static async Task<Results<Ok<WesRunId>, JsonHttpResult<ErrorResponse>>> CancelAsync(
        [FromRoute(Name = "run_id")] string runId, HttpContext http, RunCancel cancel, CancellationToken cancellationToken) =>
        await cancel.CancelAsync(runId, http, cancellationToken) is { } run
            ? TypedResults.Ok(new WesRunId(run.Id))
            : NotFound(runId);

    private static Task<Run?> FindAsync(string id, ClaimsPrincipal user, IRunStore store, CancellationToken cancellationToken) =>
        CompatViews.VisibleRunAsync(store, id, user, cancellationToken);

    private static JsonHttpResult<ErrorResponse> NotFound(string id) => ErrorResponse.Of(404, $"no run with id '{id}'");

    private static WesLog LogOf(Run run, string baseUrl, string? id)
    {
        var spec = RunSpecJson.Deserialize(run.SpecJson);
        var logs = $"{baseUrl}/api/v1/runs/{run.Id}/log?stream=";
        // Why it ended as it did (failed, timed out, system error, cancelled): the spec's place for it.
        IReadOnlyList<string> system = run.Message is { Length: > 0 } message ? [$"{run.State.ToWire()}: {message}"] : run.State == RunState.TimedOut ? ["timed_out"] : [];
        return new WesLog(id, run.Pipeline, spec.Argv, WesStates.Time(run.StartedAt), WesStates.Time(run.FinishedAt),
            logs + "stdout", logs + "stderr", run.ExitCode, system, null);
    }

    private static Dictionary<string, string> TagsOf(Run run) => JsonSerializer.Deserialize<Dictionary<string, string>>(run.TagsJson) ?? [];

    public static string BaseUrl(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";
}
