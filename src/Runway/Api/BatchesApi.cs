using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Runway.Auth;
using Runway.Data;
using Runway.Pipelines;
using Runway.Runs;
using Runway.Sheets;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Runway.Api;

/// <summary>Batches (issue 14): many runs submitted together and watched as one.</summary>
public static class BatchesApi
{
    public static IEndpointRouteBuilder MapBatches(this IEndpointRouteBuilder app)
    {
        var limits = app.ServiceProvider.GetRequiredService<BatchOptions>();
        var api = app.MapGroup("/api/v1/batches").WithTags("Batches");
        api.MapPost("/", SubmitAsync).WithSummary("Submit a batch: {pipeline, rows} or fan-out {pipelines, params}, or multipart/form-data with a pipeline field and a rows file (CSV or XLSX)")
            .Accepts<SubmitBatchRequest>("application/json", "multipart/form-data")
            .WithMetadata(new RequestSizeLimitAttribute(limits.MaxBodyBytes)).DisableAntiforgery()
            .RequireAuthorization(Scopes.RunsWrite);
        api.MapGet("/", ListAsync).WithSummary("The caller's batches (an admin's: everyone's), newest first, one page per cursor").RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/{id}", GetAsync).WithSummary("One batch: counts per state, its state, and its runs, one page per cursor").RequireAuthorization(Scopes.RunsRead);
        api.MapPost("/{id}/cancel", CancelAsync).WithSummary("Cancel every queued or running run of the batch (idempotent)").RequireAuthorization(Scopes.RunsWrite);
        var templates = app.MapGroup("/api/v1/pipelines").WithTags("Pipelines").RequireAuthorization(Scopes.RunsRead);
        templates.MapGet("/{name}/template.csv", TemplateCsv).WithSummary("An empty batch sheet: header, a '#' row of descriptions (skipped on upload), a row of defaults");
        templates.MapGet("/{name}/template.xlsx", TemplateXlsx).WithSummary("The same sheet as XLSX");
        api.MapGet("/{id}/archive", ArchiveAsync).WithSummary("Every run's outputs, logs and record as one streamed .tar.gz, one folder per run").RequireAuthorization(Scopes.RunsRead);
        return app;
    }

    public static async Task<Results<Created<BatchResponse>, ProblemHttpResult>> SubmitAsync(
        HttpContext http, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, BatchSubmissions batches, SheetBatches sheets,
        RunwayDb db, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        if (http.Request.HasFormContentType)
        {
            return await SubmitSheetAsync(http, idempotencyKey, sheets, db, cancellationToken);
        }
        SubmitBatchRequest? request;
        try
        {
            request = await http.Request.ReadFromJsonAsync<SubmitBatchRequest>(json.Value.SerializerOptions, cancellationToken);
        }
        catch (JsonException e)
        {
            return Problems.BadRequest(BadRequestExceptionHandler.Describe(new BadHttpRequestException("", e)));
        }
        catch (InvalidOperationException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "send application/json, or multipart/form-data with a 'pipeline' field and a 'rows' file");
        }
        if (request is null)
        {
            return Problems.BadRequest("the body must be a JSON object such as {\"pipeline\": \"hello\", \"rows\": [{\"name\": \"Ada\"}]}");
        }
        var submission = new BatchSubmission(request.Pipeline, request.Rows, request.Pipelines, request.Params, request.Name, request.Tags, request.Cache, idempotencyKey);
        return await AnswerAsync(await batches.SubmitAsync(submission, Caller.SubmitterOf(http), cancellationToken), db, cancellationToken);
    }

    /// <summary>
    /// multipart/form-data: <c>pipeline</c>, the sheet in the file field <c>rows</c>, and optionally <c>name</c>, <c>tags</c>
    /// (a JSON object of strings) and <c>cache</c>. The form reader keeps a large file on disk, not in memory.
    /// </summary>
    private static async Task<Results<Created<BatchResponse>, ProblemHttpResult>> SubmitSheetAsync(
        HttpContext http, string? idempotencyKey, SheetBatches sheets, RunwayDb db, CancellationToken cancellationToken)
    {
        IFormCollection form;
        try
        {
            form = await http.Request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException e)
        {
            return Problems.BadRequest($"the form could not be read: {e.Message}");
        }
        Dictionary<string, string>? tags = null;
        if (form["tags"].FirstOrDefault() is { Length: > 0 } tagText)
        {
            try
            {
                tags = JsonSerializer.Deserialize<Dictionary<string, string>>(tagText);
            }
            catch (JsonException)
            {
                return Problems.Invalid("tags", "must be a JSON object of strings, such as {\"project\": \"m31\"}");
            }
        }
        bool? cache = null;
        if (form["cache"].FirstOrDefault() is { Length: > 0 } cacheText)
        {
            if (!bool.TryParse(cacheText, out var parsed))
            {
                return Problems.Invalid("cache", "must be true or false");
            }
            cache = parsed;
        }
        var file = form.Files.GetFile("rows");
        await using var rows = file?.OpenReadStream();
        var upload = new SheetUpload(form["pipeline"].FirstOrDefault(), rows, form["name"].FirstOrDefault(), tags, cache, idempotencyKey);
        return await AnswerAsync(await sheets.SubmitAsync(upload, Caller.SubmitterOf(http), cancellationToken), db, cancellationToken);
    }

    /// <summary>
    /// The 201 of a stored (or replayed) batch, or the problem of a refused one: every problem listed with its row, pipeline
    /// and field. A new batch's counts are its runs' states as stored (rows that reused earlier outputs are succeeded
    /// already); a replay's are the batch's as it is now, as GET shows it, since its runs have moved on since.
    /// </summary>
    public static async Task<Results<Created<BatchResponse>, ProblemHttpResult>> AnswerAsync(BatchResult result, RunwayDb db, CancellationToken ct)
    {
        if (result.Batch is { } batch)
        {
            var counts = result.Replayed
                ? (await BatchQuery.CountsAsync(db, [batch.Id], ct))[batch.Id]
                : result.Runs.GroupBy(r => r.State).ToDictionary(g => g.Key, g => g.Count());
            var response = await BatchQuery.ResponseAsync(db, batch, counts, ct);
            return TypedResults.Created($"/api/v1/batches/{batch.Id}", response);
        }
        return result.Failure switch
        {
            SubmissionFailure.UnknownPipeline => Problems.NotFound(result.Detail!),
            SubmissionFailure.KeyReused => TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "Idempotency-Key reused with a different request", detail: result.Detail),
            SubmissionFailure.OverQuota => Problems.OverQuota(StatusCodes.Status507InsufficientStorage, result.Detail!, result.Quota!),
            _ => Invalid(result),
        };
    }

    private static ProblemHttpResult Invalid(BatchResult result)
    {
        var listed = result.Problems.Take(BatchSubmissions.MaxProblemsListed).ToList();
        var errors = listed.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Select(p => p.Message).ToArray());
        return TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status422UnprocessableEntity,
            Title = "The batch is not valid",
            Type = "https://tools.ietf.org/html/rfc9110#section-15.5.21",
            Detail = result.Problems.Count > listed.Count ? $"{result.Detail}; the first {listed.Count} are listed" : result.Detail,
            Extensions = { ["problems"] = listed.Select(p => new { row = p.Row, pipeline = p.Pipeline, column = p.Column, field = p.Field, message = p.Message }).ToList() },
        });
    }

    public static async Task<Results<Ok<BatchListResponse>, ProblemHttpResult>> ListAsync(
        int? limit, string? cursor, ClaimsPrincipal user, RunwayDb db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var size = limit ?? RunQuery.DefaultLimit;
        if (size is < 1 or > RunQuery.MaxLimit)
        {
            errors["limit"] = [$"must be between 1 and {RunQuery.MaxLimit}"];
        }
        var after = Keyset.After(cursor, Batch.IsId, errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var query = BatchQuery.VisibleTo(db, user);
        if (after is not null)
        {
            query = query.Where(b => b.Id.CompareTo(after) < 0);
        }
        var page = await query.OrderByDescending(b => b.Id).Take(size + 1).ToListAsync(cancellationToken);
        var shown = page.Take(size).ToList();
        var counts = await BatchQuery.CountsAsync(db, [.. shown.Select(b => b.Id)], cancellationToken);
        var batches = new List<BatchResponse>(shown.Count);
        foreach (var batch in shown)
        {
            batches.Add(await BatchQuery.ResponseAsync(db, batch, counts[batch.Id], cancellationToken));
        }
        return TypedResults.Ok(new BatchListResponse(batches, Keyset.Next(page, size, b => b.Id)));
    }

    public static async Task<Results<Ok<BatchResponse>, ProblemHttpResult>> GetAsync(
        string id, int? limit, string? cursor, ClaimsPrincipal user, RunwayDb db, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await BatchQuery.FindAsync(db, user, id, cancellationToken) is not { } batch)
        {
            return Problems.NotFound($"no batch with id '{id}'");
        }
        // The state and counts before the runs page: a run's state only moves forward, so the page is then at least as
        // new as the state. Read the other way round, a run could end between the two reads, and a partly_failed
        // batch be answered with its failed run still running in the page.
        var counts = await BatchQuery.CountsAsync(db, [id], cancellationToken);
        var response = await BatchQuery.ResponseAsync(db, batch, counts[id], cancellationToken);
        var errors = new Dictionary<string, string[]>();
        // The batch's runs page as GET /api/v1/runs?batch_id= does: the same filter, cursor and limits.
        var page = await RunQuery.PageAsync(db, user, new RunFilter(BatchId: id), cursor, limit, errors, cancellationToken);
        if (page is null)
        {
            return Problems.Invalid(errors);
        }
        return TypedResults.Ok(response with { Runs = [.. page.Runs.Select(r => RunResponse.From(r, clock))], NextCursor = page.NextCursor });
    }

    public static async Task<Results<Ok<BatchResponse>, ProblemHttpResult>> CancelAsync(
        string id, HttpContext http, RunwayDb db, BatchCancel cancel, CancellationToken cancellationToken)
    {
        if (!await cancel.CancelAsync(id, http, cancellationToken) || await BatchQuery.FindAsync(db, http.User, id, cancellationToken) is not { } batch)
        {
            return Problems.NotFound($"no batch with id '{id}'");
        }
        var counts = await BatchQuery.CountsAsync(db, [id], cancellationToken);
        return TypedResults.Ok(await BatchQuery.ResponseAsync(db, batch, counts[id], cancellationToken));
    }

    public static Results<FileContentHttpResult, ProblemHttpResult> TemplateCsv(string name, ClaimsPrincipal user, PipelineCatalog catalog) =>
        catalog.Find(name) is { } pipeline && Caller.MayUse(user, pipeline)
            ? TypedResults.File(System.Text.Encoding.UTF8.GetBytes(SheetTemplate.Csv(pipeline)), "text/csv; charset=utf-8", $"{pipeline.Name}.csv")
            : Problems.NotFound($"no pipeline named '{name}'");

    public static Results<FileContentHttpResult, ProblemHttpResult> TemplateXlsx(string name, ClaimsPrincipal user, PipelineCatalog catalog) =>
        catalog.Find(name) is { } pipeline && Caller.MayUse(user, pipeline)
            ? TypedResults.File(SheetTemplate.Xlsx(pipeline), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", $"{pipeline.Name}.xlsx")
            : Problems.NotFound($"no pipeline named '{name}'");

    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> ArchiveAsync(
        string id, HttpContext http, IDbContextFactory<RunwayDb> databases, RunwayPaths paths, AuditTrail audit, TimeProvider clock,
        IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        await using (var db = await databases.CreateDbContextAsync(cancellationToken))
        {
            if (await BatchQuery.FindAsync(db, http.User, id, cancellationToken) is null)
            {
                return Problems.NotFound($"no batch with id '{id}'");
            }
        }
        await audit.RecordAsync(http, "batch.download", $"{id}/archive", cancellationToken);
        return TypedResults.Stream(body => WriteArchiveAsync(id, body, databases, paths, clock, json.Value.SerializerOptions, cancellationToken),
            "application/gzip", $"{id}.tar.gz");
    }

    /// <summary>
    /// One folder per run, each written by <see cref="RunArchive.WriteRunAsync"/> (the bounded walk that never follows a
    /// link), its record first. Runs are read a page at a time; a run whose files were purged gets its record only.
    /// </summary>
    private static async Task WriteArchiveAsync(
        string id, Stream body, IDbContextFactory<RunwayDb> databases, RunwayPaths paths, TimeProvider clock, JsonSerializerOptions json, CancellationToken ct)
    {
        await using var gzip = new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true);
        await using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true);
        string? after = null;
        while (true)
        {
            List<Run> runs;
            await using (var db = await databases.CreateDbContextAsync(ct))
            {
                var query = db.Runs.AsNoTracking().Where(r => r.BatchId == id);
                if (after is not null)
                {
                    query = query.Where(r => r.Id.CompareTo(after) > 0);
                }
                runs = await query.OrderBy(r => r.Id).Take(200).ToListAsync(ct);
            }
            foreach (var run in runs)
            {
                var record = JsonSerializer.SerializeToUtf8Bytes(RunResponse.From(run, clock), json);
                if (run.FilesPurgedAt is null)
                {
                    // A row that reused an earlier run's outputs (RunCache) serves them from that run's directory.
                    await RunArchive.WriteRunAsync(tar, RunOutputs.DirectoryOf(run, paths), run.Id, RunOutputs.Of(run), ct, record);
                }
                else
                {
                    using var content = new MemoryStream(record);
                    await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, $"{run.Id}/{RunArchive.RecordName}") { DataStream = content }, ct);
                }
            }
            if (runs.Count < 200)
            {
                return;
            }
            after = runs[^1].Id;
        }
    }
}
