using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Runway.Api;
using Runway.Auth;
using Runway.Data;
using Runway.Files;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Compat.Caesar;

/// <summary>
/// caesar-rest's API (SKA-INAF/caesar-rest, caesar_rest/*_route.py) over Runway's uploads, pipelines and runs, for
/// the scripts written against it: same paths, verbs, field names and states. Its answers are <c>{status: …}</c>
/// objects as caesar-rest's are; every check is the API's (<see cref="Uploads"/>, <see cref="OwnedFiles"/>,
/// <see cref="Submissions"/>, <see cref="RunCancel"/>).
/// </summary>
public static class CaesarApi
{
    public const string Prefix = "/caesar/api/v1.0";
    private static readonly string[] GetOrPost = [HttpMethods.Get, HttpMethods.Post];
    private static readonly string[] StatusFields = ["job_id", "pid", "state", "status", "exit_code", "elapsed_time", "tag"];

    public static IEndpointRouteBuilder MapCaesar(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).WithTags("caesar-rest");
        api.MapPost("/upload", UploadAsync).RequireAuthorization(Scopes.FilesWrite).DisableAntiforgery();
        api.MapMethods("/download/{uuid}", GetOrPost, DownloadAsync).RequireAuthorization(Scopes.FilesRead).DisableAntiforgery();
        // The name caesar-rest had before October 2020, which its README still shows.
        api.MapMethods("/download-id/{uuid}", GetOrPost, DownloadAsync).RequireAuthorization(Scopes.FilesRead).DisableAntiforgery();
        api.MapMethods("/delete/{uuid}", GetOrPost, DeleteAsync).RequireAuthorization(Scopes.FilesWrite).DisableAntiforgery();
        api.MapGet("/fileids", FileIdsAsync).RequireAuthorization(Scopes.FilesRead);
        api.MapGet("/apps", Apps).RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/app/{name}/describe", Describe).RequireAuthorization(Scopes.RunsRead);
        api.MapPost("/job", SubmitAsync).RequireAuthorization(Scopes.RunsWrite);
        api.MapGet("/jobs", JobsAsync).RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/job/{id}/status", StatusAsync).RequireAuthorization(Scopes.RunsRead);
        api.MapMethods("/job/{id}/cancel", GetOrPost, CancelAsync).RequireAuthorization(Scopes.RunsWrite).DisableAntiforgery();
        api.MapGet("/job/{id}/output", OutputAsync).RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/accounting", AccountingAsync).RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/appstats", AppStatsAsync).RequireAuthorization(Scopes.RunsRead);
        return app;
    }

    private static JsonHttpResult<Dictionary<string, object?>> Status(int code, string status) => TypedResults.Json(new Dictionary<string, object?> { ["status"] = status }, statusCode: code);

    /// <summary>
    /// caesar-rest deletes and cancels on GET too. A browser's sign-in cookie is accepted on GETs, so a link on another
    /// site could spend it there: these verbs take a token or Basic credentials only.
    /// </summary>
    private static bool ByCookie(HttpContext http) => http.User.FindFirstValue("auth_method") == "cookie";

    public static async Task<IResult> UploadAsync(HttpContext http, Uploads uploads, RunwayDb db, CancellationToken cancellationToken)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var result = await uploads.SaveMultipartAsync(http.Request.ContentType, http.Request.Body, Caller.NameOf(http.User), Audit.AddressOf(http), cancellationToken, fields);
        if (result.File is not { } file)
        {
            return Status(result.Failure switch
            {
                UploadFailure.TooLarge or UploadFailure.OverQuota => 413,
                UploadFailure.QuotaFull => 507,
                _ => 400,
            }, result.Detail ?? "no file uploaded");
        }
        var tag = fields.GetValueOrDefault("tag") is { Length: > 0 } given ? given[..Math.Min(given.Length, CaesarFileTag.MaxLength)] : "";
        if (tag.Length > 0)
        {
            db.Add(new CaesarFileTag { FileId = file.Id, Tag = tag });
            await db.SaveChangesAsync(cancellationToken);
        }
        return TypedResults.Json(new Dictionary<string, object?>
        {
            ["date"] = CaesarJobs.Date(file.CreatedAt),
            ["filename_orig"] = file.Name,
            ["format"] = Path.GetExtension(file.Name).TrimStart('.'),
            ["size"] = file.Size / (1024.0 * 1024.0),
            ["status"] = "File uploaded with success",
            ["uuid"] = file.Id,
            ["tag"] = tag,
        });
    }

    public static async Task<IResult> DownloadAsync(string uuid, HttpContext http, OwnedFiles files, Runway.Files.FileStore store, AuditTrail audit, CancellationToken cancellationToken)
    {
        var found = await FilesApi.DownloadAsync(uuid, http, files, store, audit, cancellationToken);
        return found.Result is PhysicalFileHttpResult file
            ? file
            : (IResult)Status(404, $"File with uuid {uuid} not found on the system!");
    }

    public static async Task<IResult> DeleteAsync(string uuid, HttpContext http, OwnedFiles files, CancellationToken cancellationToken)
    {
        if (ByCookie(http))
        {
            return Status(403, "delete takes a token, not a browser session");
        }
        return await files.DeleteAsync(http.User, uuid, Audit.AddressOf(http), cancellationToken)
            ? Status(200, "File deleted and removed from DB")
            : Status(404, $"File with uuid {uuid} not found on the system!");
    }

    public static async Task<IResult> FileIdsAsync(ClaimsPrincipal user, RunwayDb db, CancellationToken cancellationToken)
    {
        var me = Caller.NameOf(user);
        var files = await db.Files.AsNoTracking().Where(f => f.Owner == me).OrderByDescending(f => f.Id).Take(10_000).ToListAsync(cancellationToken);
        var ids = files.ConvertAll(f => f.Id);
        var tags = await db.Set<CaesarFileTag>().AsNoTracking().Where(t => ids.Contains(t.FileId)).ToDictionaryAsync(t => t.FileId, t => t.Tag, cancellationToken);
        return TypedResults.Json(files.Select(f => new Dictionary<string, object?>
        {
            ["fileid"] = f.Id,
            ["filename_orig"] = f.Name,
            ["fileext"] = Path.GetExtension(f.Name).TrimStart('.'),
            ["filesize"] = f.Size / (1024.0 * 1024.0),
            ["filedate"] = CaesarJobs.Date(f.CreatedAt),
            ["metadata"] = "",
            ["tag"] = tags.GetValueOrDefault(f.Id, ""),
        }).ToList());
    }

    public static IResult Apps(ClaimsPrincipal user, PipelineCatalog catalog) =>
        TypedResults.Json(new Dictionary<string, object?> { ["apps"] = catalog.All.Where(p => Caller.MayUse(user, p)).Select(p => p.Name).ToList() });

    public static IResult Describe(string name, ClaimsPrincipal user, PipelineCatalog catalog)
    {
        if (catalog.Find(name) is not { } pipeline || !Caller.MayUse(user, pipeline))
        {
            return Status(400, $"Unknown app {name} given!");
        }
        var options = new Dictionary<string, object?>();
        foreach (var p in pipeline.Parameters)
        {
            options[CaesarJobs.OptionName(p.Name)] = new Dictionary<string, object?>
            {
                ["mandatory"] = p.Required,
                ["type"] = p.Type.ToString().ToLowerInvariant(),
                ["description"] = p.Description ?? "",
                ["default"] = p.Default?.DeepClone(),
                ["min"] = p.Minimum,
                ["max"] = p.Maximum,
                ["enum"] = p.Values,
            };
        }
        return TypedResults.Json(options);
    }

    public static async Task<IResult> SubmitAsync(HttpContext http, Submissions submissions, PipelineCatalog catalog, TimeProvider clock, CancellationToken cancellationToken)
    {
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: cancellationToken) as JsonObject;
        }
        catch (JsonException e)
        {
            return Aborted($"Request body is not valid JSON: {e.Message}");
        }
        if (body?["app"] is not JsonValue appValue || !appValue.TryGetValue<string>(out var app))
        {
            return Aborted("No app given in the request body");
        }
        if (body["job_inputs"] is not JsonObject inputs)
        {
            return Aborted("No job_inputs object given in the request body");
        }
        var parameters = new JsonObject(inputs.Select(i => KeyValuePair.Create(CaesarJobs.ParameterName(i.Key), i.Value?.DeepClone())));
        var dataInputs = body["data_inputs"] is JsonValue d && d.TryGetValue<string>(out var uuid) && uuid.Length > 0 ? uuid : null;
        if (dataInputs is not null)
        {
            if (catalog.Find(app) is not { } pipeline || !Caller.MayUse(http.User, pipeline))
            {
                return Aborted($"Unknown app {app} given!");
            }
            if (CaesarJobs.DataParameter(pipeline) is not { } data)
            {
                return Aborted($"The app {app} takes no data_inputs (it has no single file option)");
            }
            parameters[data.Name] = dataInputs;
        }
        var tag = body["tag"] is JsonValue t && t.TryGetValue<string>(out var text) ? text : null;
        var result = await submissions.SubmitAsync(
            new RunSubmission(app, parameters, null, tag is null ? null : new Dictionary<string, string> { ["tag"] = tag }, null, null),
            Caller.SubmitterOf(http), cancellationToken);
        if (result.Run is not { } run)
        {
            return result.Failure switch
            {
                SubmissionFailure.UnknownPipeline => Aborted($"Unknown app {app} given!"),
                SubmissionFailure.Invalid => Aborted("Job inputs are not valid: " + string.Join("; ",
                    result.Errors!.Select(e => $"{CaesarJobs.OptionName(e.Key.Replace("params.", "", StringComparison.Ordinal))}: {string.Join(", ", e.Value)}"))),
                SubmissionFailure.OverQuota => Aborted(result.Detail!, 507),
                _ => Aborted(result.Detail!),
            };
        }
        return TypedResults.Json(new Dictionary<string, object?>
        {
            ["app"] = run.Pipeline,
            ["job_id"] = run.Id,
            ["job_inputs"] = inputs,
            ["data_inputs"] = dataInputs ?? "",
            ["tag"] = tag ?? "",
            ["state"] = "PENDING",
            ["status"] = "Job submitted with success",
            ["submit_date"] = CaesarJobs.Date(run.SubmittedAt),
        }, statusCode: StatusCodes.Status202Accepted);
    }

    private static JsonHttpResult<Dictionary<string, object?>> Aborted(string status, int code = 400) =>
        TypedResults.Json(new Dictionary<string, object?> { ["state"] = "ABORTED", ["status"] = status }, statusCode: code);

    public static async Task<IResult> JobsAsync(ClaimsPrincipal user, RunwayDb db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var me = Caller.NameOf(user);
        var runs = await db.Runs.AsNoTracking().Where(r => r.Owner == me).OrderByDescending(r => r.Id).Take(RunQuery.MaxLimit).ToListAsync(cancellationToken);
        return TypedResults.Json(runs.Select(r => CaesarJobs.Job(r, clock)).ToList());
    }

    public static async Task<IResult> StatusAsync(string id, ClaimsPrincipal user, IRunStore store, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await FindAsync(id, user, store, cancellationToken) is not { } run)
        {
            return JobNotFound(id);
        }
        var job = CaesarJobs.Job(run, clock);
        return TypedResults.Json(StatusFields.ToDictionary(k => k, k => job[k]));
    }

    public static async Task<IResult> CancelAsync(string id, HttpContext http, IRunStore store, RunCancel cancel, CancellationToken cancellationToken)
    {
        if (ByCookie(http))
        {
            return Status(403, "cancel takes a token, not a browser session");
        }
        if (await FindAsync(id, http.User, store, cancellationToken) is not { } before)
        {
            return JobNotFound(id);
        }
        if (before.State.IsFinal())
        {
            return Status(200, $"Job {id} already ended ({CaesarJobs.State(before)}), nothing to cancel");
        }
        return await cancel.CancelAsync(id, http, cancellationToken) is null ? JobNotFound(id) : Status(200, "Job canceled with success");
    }

    public static async Task<IResult> OutputAsync(
        string id, HttpContext http, IRunStore store, RunwayPaths paths, AuditTrail audit, TimeProvider clock,
        Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        if (await FindAsync(id, http.User, store, cancellationToken) is not { } run)
        {
            return JobNotFound(id);
        }
        if (!run.State.IsFinal())
        {
            return Status(202, $"Job {id} has not ended yet ({CaesarJobs.State(run)}): ask again later");
        }
        var archive = await RunFilesApi.ArchiveAsync(id, http, store, paths, audit, clock, json, cancellationToken);
        if (archive.Result is PushStreamHttpResult)
        {
            http.Response.Headers.ContentDisposition = $"attachment; filename=job_{id}.tar.gz";
        }
        return archive.Result is ProblemHttpResult { StatusCode: 410 } ? Status(404, $"The output of job {id} was purged") : archive.Result;
    }

    private static Task<Run?> FindAsync(string id, ClaimsPrincipal user, IRunStore store, CancellationToken cancellationToken) =>
        CompatViews.VisibleRunAsync(store, id, user, cancellationToken);

    private static JsonHttpResult<Dictionary<string, object?>> JobNotFound(string id) => Status(404, $"Job {id} not found!");

    public static async Task<IResult> AccountingAsync(ClaimsPrincipal user, RunwayDb db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var me = Caller.NameOf(user);
        var stats = await CaesarStats.OfAsync(db.Runs.AsNoTracking().Where(r => r.Owner == me), db.Files.AsNoTracking().Where(f => f.Owner == me), clock, cancellationToken);
        return TypedResults.Json(stats);
    }

    /// <summary>caesar-rest's service-wide figures, over the runs the caller may see (an admin's: everyone's), as the API's lists are.</summary>
    public static async Task<IResult> AppStatsAsync(ClaimsPrincipal user, RunwayDb db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var me = Caller.NameOf(user);
        var files = Caller.IsAdmin(user) ? db.Files.AsNoTracking() : db.Files.AsNoTracking().Where(f => f.Owner == me);
        var runs = RunQuery.VisibleTo(db, user);
        var stats = await CaesarStats.OfAsync(runs, files, clock, cancellationToken);
        stats["nusers"] = await runs.Select(r => r.Owner).Distinct().CountAsync(cancellationToken);
        stats["totsize"] = (double)stats["datasize"]! + (double)stats["jobsize"]!;
        var completed = (int)stats["njobs_completed"]!;
        stats["avg_completed_job_runtime"] = completed == 0 ? 0 : (double)stats["job_completed_runtime"]! / completed;
        return TypedResults.Json(stats);
    }
}
