using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Runway.Api;
using Runway.Auth;
using Runway.Data;
using Runway.Runs;

namespace Runway.Compat.Ga4gh.Tes;

/// <summary>
/// GA4GH TES 1.1 at /ga4gh/tes/v1 and at /v1 (where py-tes, Funnel's client and the ELIXIR compliance suite also
/// look). A task is a Runway run of the kind <see cref="TesTaskCheck.Pipeline"/>: it goes through
/// <see cref="Submissions"/>, the scheduler and the local executor like any run, so the API, CLI and UI show it.
/// Off unless <c>Runway:Tes:Enabled</c> (404), and only for members of <c>Runway:Tes:AllowedGroups</c> (403).
/// </summary>
public static class TesApi
{
    public const int MaxJsonBody = 4 * 1024 * 1024;
    public const int DefaultPageSize = 256, MaxPageSize = 2048;
    public static readonly string[] Prefixes = ["/ga4gh/tes/v1", "/v1"];

    public static IEndpointRouteBuilder MapTes(this IEndpointRouteBuilder app)
    {
        foreach (var prefix in Prefixes)
        {
            var api = app.MapGroup(prefix).WithTags("GA4GH TES").AddEndpointFilter(OnlyWhenEnabledAsync);
            // Public, as GA4GH service-info is (Funnel, py-tes and the compliance suite ask it without a token); it holds
            // nothing of any user's. Still 404 while TES is off.
            api.MapGet("/service-info", ServiceInfo).WithSummary("TES service info (public)").AllowAnonymous();
            // py-tes before 1.0 asked here: kept, as a literal route wins over /tasks/{id}.
            api.MapGet("/tasks/service-info", ServiceInfo).WithSummary("TES service info (py-tes's older path; public)").AllowAnonymous();
            var tasks = api.MapGroup("/tasks").AddEndpointFilter(OnlyAllowedGroupsAsync);
            tasks.MapGet("/", ListAsync).WithSummary("List the caller's TES tasks").RequireAuthorization(Scopes.RunsRead);
            tasks.MapPost("/", CreateAsync).WithSummary("Create a TES task (a run)").WithMetadata(new RequestSizeLimitAttribute(MaxJsonBody))
                .RequireAuthorization(Scopes.RunsWrite);
            tasks.MapGet("/{id}", GetAsync).WithSummary("One TES task").RequireAuthorization(Scopes.RunsRead);
            // "{id}:cancel" is one path segment: matched whole and split here, as a route template cannot say it.
            tasks.MapPost("/{idAndVerb}", CancelAsync).WithSummary("Cancel a TES task: POST /tasks/{id}:cancel").RequireAuthorization(Scopes.RunsWrite);
        }
        return app;
    }

    public static Ok<Dictionary<string, object>> ServiceInfo(HttpContext http, TimeProvider clock)
    {
        var version = typeof(TesApi).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        return TypedResults.Ok(new Dictionary<string, object>
        {
            ["id"] = "org.runway.tes",
            ["name"] = "Runway",
            ["type"] = new Dictionary<string, string> { ["group"] = "org.ga4gh", ["artifact"] = "tes", ["version"] = TesTaskCheck.Version },
            ["description"] = "GA4GH TES 1.1 over Runway runs: each task is a run in local containers (podman), images never pulled.",
            ["organization"] = new Dictionary<string, string> { ["name"] = "Runway", ["url"] = $"{http.Request.Scheme}://{http.Request.Host}/" },
            ["version"] = version,
            ["storage"] = new[] { TesTaskCheck.FileScheme },
            ["tesResources_backend_parameters"] = Array.Empty<string>(),
        });
    }

    public static async Task<Results<JsonHttpResult<TesListTasksResponse>, JsonHttpResult<TesError>>> ListAsync(
        [FromQuery(Name = "name_prefix")] string? namePrefix,
        [FromQuery(Name = "state")] string? state,
        [FromQuery(Name = "tag_key")] string[]? tagKeys,
        [FromQuery(Name = "tag_value")] string[]? tagValues,
        [FromQuery(Name = "page_size")] string? pageSize,
        [FromQuery(Name = "page_token")] string? pageToken,
        [FromQuery(Name = "view")] string? view,
        ClaimsPrincipal user, RunwayDb db, TesTaskView show, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var size = DefaultPageSize;
        if (pageSize is not null && (!int.TryParse(pageSize, System.Globalization.CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxPageSize))
        {
            errors["page_size"] = [$"must be a whole number from 1 to {MaxPageSize}"];
        }
        if (state is not null && !TesStates.All.Contains(state))
        {
            errors["state"] = [$"must be one of {string.Join(", ", TesStates.All)}"];
        }
        if (pageToken is not null && !Ids.IsRunId(pageToken))
        {
            errors["page_token"] = ["is not a page token this server gave"];
        }
        if (CheckView(view, errors) is not { } chosen || errors.Count > 0)
        {
            return Invalid(errors);
        }
        var me = Caller.NameOf(user);
        var query = db.Runs.AsNoTracking().Where(r => r.Owner == me && r.Pipeline == TesTaskCheck.Pipeline);
        if (!string.IsNullOrEmpty(namePrefix))
        {
            query = query.Where(r => r.Name != null && r.Name.StartsWith(namePrefix));
        }
        if (state is not null)
        {
            query = query.Where(TesStates.Filter(state, db.TesOutputs.Where(o => o.CollectedAt != null)));
        }
        var tags = TagFilter(tagKeys ?? [], tagValues ?? []);
        var found = new List<Run>();
        var after = pageToken;
        while (found.Count <= size)
        {
            var rest = after is null ? query : query.Where(r => r.Id.CompareTo(after) < 0);
            var batch = await rest.OrderByDescending(r => r.Id).Take(size + 1).ToListAsync(cancellationToken);
            found.AddRange(batch.Where(r => TagsMatch(r, tags)));
            if (batch.Count <= size)
            {
                break;
            }
            after = batch[^1].Id;
        }
        var page = found.Take(size).ToList();
        var ids = page.ConvertAll(r => r.Id);
        var outputs = await db.TesOutputs.AsNoTracking().Where(o => ids.Contains(o.RunId)).ToDictionaryAsync(o => o.RunId, cancellationToken);
        var tasks = page.ConvertAll(run => show.Show(run, outputs.GetValueOrDefault(run.Id), chosen));
        return TypedResults.Json(new TesListTasksResponse(tasks, found.Count > size ? found[size - 1].Id : null), TesJson.Options);
    }

    public static async Task<Results<JsonHttpResult<TesCreateTaskResponse>, JsonHttpResult<TesError>>> CreateAsync(
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, HttpContext http,
        TesTaskCheck check, TesInputFetch fetch, Submissions submissions, CancellationToken cancellationToken)
    {
        // Read whatever the Content-Type says: py-tes before 1.0 posts its JSON with none (requests' data=).
        TesTask? task;
        try
        {
            task = await System.Text.Json.JsonSerializer.DeserializeAsync<TesTask>(http.Request.Body, TesJson.Options, cancellationToken);
        }
        catch (System.Text.Json.JsonException e)
        {
            return Error(StatusCodes.Status400BadRequest, "Bad Request", $"the body is not a TES task in JSON: {e.Message}");
        }
        if (task is null)
        {
            return Error(StatusCodes.Status400BadRequest, "Bad Request", "the body must be a TES task: a JSON object with executors");
        }
        var fetchErrors = new Dictionary<string, string[]>();
        task = await fetch.FetchAsync(task, Caller.NameOf(http.User), Audit.AddressOf(http), fetchErrors, cancellationToken);
        if (fetchErrors.Count > 0)
        {
            return Invalid(fetchErrors);
        }
        var (kind, errors) = check.Check(task);
        if (kind is null)
        {
            return Invalid(errors);
        }
        var submission = new RunSubmission(TesTaskCheck.Pipeline, TesTaskCheck.Stored(task), task.Name, task.Tags, null, idempotencyKey) { Kind = kind };
        var result = await submissions.SubmitAsync(submission, Caller.SubmitterOf(http), cancellationToken);
        if (result.Run is { } run)
        {
            return TypedResults.Json(new TesCreateTaskResponse(run.Id), TesJson.Options);
        }
        return result.Failure switch
        {
            SubmissionFailure.OverQuota => Error(StatusCodes.Status507InsufficientStorage, "Insufficient Storage", result.Detail!),
            SubmissionFailure.KeyReused => Error(StatusCodes.Status422UnprocessableEntity, "Idempotency-Key reused with a different request", result.Detail!),
            SubmissionFailure.Invalid => Invalid(result.Errors!.ToDictionary()),
            _ => Error(StatusCodes.Status400BadRequest, "Bad Request", result.Detail!),
        };
    }

    public static async Task<Results<JsonHttpResult<TesTask>, JsonHttpResult<TesError>>> GetAsync(
        string id, [FromQuery(Name = "view")] string? view, ClaimsPrincipal user, IRunStore store, RunwayDb db, TesTaskView show, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (CheckView(view, errors) is not { } chosen)
        {
            return Invalid(errors);
        }
        if (await FindAsync(id, user, store, cancellationToken) is not { } run)
        {
            return NotFound(id);
        }
        var outputs = await db.TesOutputs.AsNoTracking().FirstOrDefaultAsync(o => o.RunId == run.Id, cancellationToken);
        return TypedResults.Json(show.Show(run, outputs, chosen), TesJson.Options);
    }

    public static async Task<Results<JsonHttpResult<Dictionary<string, string>>, JsonHttpResult<TesError>>> CancelAsync(
        string idAndVerb, HttpContext http, IRunStore store, RunCancel cancel, CancellationToken cancellationToken)
    {
        const string Verb = ":cancel";
        if (!idAndVerb.EndsWith(Verb, StringComparison.Ordinal))
        {
            return Error(StatusCodes.Status404NotFound, "Not Found", $"no such endpoint: POST tasks/{idAndVerb} (cancel is POST tasks/{{id}}{Verb})");
        }
        var id = idAndVerb[..^Verb.Length];
        if (await FindAsync(id, http.User, store, cancellationToken) is null || await cancel.CancelAsync(id, http, cancellationToken) is null)
        {
            return NotFound(id);
        }
        return TypedResults.Json(new Dictionary<string, string>(), TesJson.Options);
    }

    /// <summary>A TES task the caller may see (theirs; an admin's: anyone's), else null: another's answers 404, as Runway's runs do.</summary>
    private static async Task<Run?> FindAsync(string id, ClaimsPrincipal user, IRunStore store, CancellationToken cancellationToken) =>
        Ids.IsRunId(id) && await store.GetAsync(id, cancellationToken) is { Pipeline: TesTaskCheck.Pipeline } run && Caller.CanSee(user, run.Owner) ? run : null;

    private static string? CheckView(string? view, Dictionary<string, string[]> errors)
    {
        var chosen = view ?? TesTaskView.Minimal;
        if (TesTaskView.Views.Contains(chosen))
        {
            return chosen;
        }
        errors["view"] = ["must be MINIMAL, BASIC or FULL"];
        return null;
    }

    /// <summary>
    /// TES 1.1: tag_key and tag_value are zipped in order; a key without a value (or with an empty one) matches the key
    /// with any value; with a value, key and value must both match exactly; a task matches when every pair does.
    /// </summary>
    public static IReadOnlyList<(string Key, string Value)> TagFilter(string[] keys, string[] values) =>
        [.. keys.Select((key, i) => (key, i < values.Length ? values[i] : ""))];

    private static bool TagsMatch(Run run, IReadOnlyList<(string Key, string Value)> filter)
    {
        if (filter.Count == 0)
        {
            return true;
        }
        var tags = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(run.TagsJson) ?? [];
        return filter.All(f => tags.TryGetValue(f.Key, out var value) && (f.Value.Length == 0 || value == f.Value));
    }

    private static async ValueTask<object?> OnlyWhenEnabledAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.RequestServices.GetRequiredService<TesOptions>().Enabled
            ? await next(context)
            : Error(StatusCodes.Status404NotFound, "Not Found", "GA4GH TES is not turned on here (Runway:Tes:Enabled)");

    private static async ValueTask<object?> OnlyAllowedGroupsAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var allowed = context.HttpContext.RequestServices.GetRequiredService<TesOptions>().AllowedGroups;
        return context.HttpContext.User.FindAll("group").Any(g => allowed.Contains(g.Value))
            ? await next(context)
            : Error(StatusCodes.Status403Forbidden, "Forbidden", "TES tasks are for members of the groups in Runway:Tes:AllowedGroups only");
    }

    private static JsonHttpResult<TesError> NotFound(string id) => Error(StatusCodes.Status404NotFound, "Not Found", $"no task with id '{id}'");

    private static JsonHttpResult<TesError> Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        Error(StatusCodes.Status400BadRequest, "The task is not valid",
            string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")), errors);

    private static JsonHttpResult<TesError> Error(int status, string title, string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        TypedResults.Json(new TesError("about:blank", title, status, detail, detail, status, errors), TesJson.Options, "application/problem+json", status);
}
