using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.StaticFiles;
using Runway.Auth;
using Runway.Execution;
using Runway.Retention;
using Runway.Runs;
using Runway.Storage;

namespace Runway.Api;

/// <summary>What a run leaves on disk: its logs, its outputs, and those as an archive (the fetch rule is <see cref="RunOutputs"/>).</summary>
public static class RunFilesApi
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static IEndpointRouteBuilder MapRunFiles(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/runs").WithTags("Runs").RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/{id}/log", LogAsync).WithSummary("stdout or stderr (?stream=); ?follow=true streams until the run ends");
        api.MapGet("/{id}/outputs", OutputsAsync).WithSummary("The files the run produced");
        api.MapGet("/{id}/outputs/{**path}", OutputAsync).WithSummary("One output file; honours Range");
        api.MapGet("/{id}/archive", ArchiveAsync).WithSummary("Outputs, logs and run.sh as a streamed .tar.gz");
        api.MapDelete("/{id}/files", PurgeAsync).WithSummary("Remove a finished run's files (its directory), keep its record; 409 while it is queued or running")
            .RequireAuthorization(Scopes.RunsWrite);
        return app;
    }

    public static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> PurgeAsync(
        string id, HttpContext http, IRunStore store, RunFilesPurge purge, StorageQuota quota, AuditTrail audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { } run || !Caller.CanSee(http.User, run.Owner))
        {
            return Problems.NotFound($"no run with id '{id}'");
        }
        if (!run.State.IsFinal())
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The run is not finished",
                detail: $"run '{id}' is {run.State.ToWire()}: its files can be purged once it has ended (cancel it first)");
        }
        // Purging again changes nothing and answers the same: the files are gone either way.
        if (await purge.PurgeAsync(id, cancellationToken) is not null)
        {
            quota.Forget(run.Owner);
            await audit.RecordAsync(http, "run.purge_files", id, cancellationToken);
        }
        return TypedResults.Ok(RunResponse.From((await store.GetAsync(id, cancellationToken))!, clock));
    }

    /// <summary>As <see cref="Purged"/>, also for a run that serves another's outputs (RunCache) once that run's files were purged.</summary>
    private static async Task<ProblemHttpResult?> PurgedAsync(Run run, IRunStore store, CancellationToken ct)
    {
        if (Purged(run) is not null || run.CachedFrom is not { } from)
        {
            return Purged(run);
        }
        var source = await store.GetAsync(from, ct);
        return source is { FilesPurgedAt: null }
            ? null
            : TypedResults.Problem(statusCode: StatusCodes.Status410Gone, title: "The run's files were purged",
                detail: $"run '{run.Id}' reused the outputs of run '{from}', whose files were purged{(source?.FilesPurgedAt is { } at ? $" at {at:O}" : "")}");
    }

    /// <summary>410 for a run whose files were purged: the files existed and are gone for good, which 404 would not say.</summary>
    private static ProblemHttpResult? Purged(Run run) => run.FilesPurgedAt is { } at
        ? TypedResults.Problem(statusCode: StatusCodes.Status410Gone, title: "The run's files were purged",
            detail: $"run '{run.Id}' keeps its record, but its files were purged at {at:O}")
        : null;

    public static async Task<Results<FileStreamHttpResult, PushStreamHttpResult, ProblemHttpResult>> LogAsync(
        string id, string? stream, bool? follow, ClaimsPrincipal user, IRunStore store, RunwayPaths paths, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (stream is not (null or "stdout" or "stderr"))
        {
            return Problems.Invalid("stream", "must be stdout or stderr");
        }
        if (await store.GetAsync(id, cancellationToken) is not { } run || !Caller.CanSee(user, run.Owner))
        {
            return Problems.NotFound($"no run with id '{id}'");
        }
        if (await PurgedAsync(run, store, cancellationToken) is { } gone)
        {
            return gone;
        }
        var runDirectory = RunOutputs.DirectoryOf(run, paths);
        var name = RunFiles.Log(stream ?? "stdout");
        if (follow != true)
        {
            // No log yet, or something the run put in its place that is not a regular file: nothing to show.
            using var tree = RunTree.Open(runDirectory);
            return tree?.OpenFile(name) is { } log
                ? TypedResults.File(log, "text/plain; charset=utf-8", lastModified: log.ModifiedAt)
                : TypedResults.Stream(_ => Task.CompletedTask, "text/plain; charset=utf-8");
        }
        return TypedResults.Stream(body => LogFollower.CopyUntilFinalAsync(run.Id, runDirectory, name, body, store, clock, cancellationToken), "text/plain; charset=utf-8");
    }

    public static async Task<Results<Ok<OutputListResponse>, ProblemHttpResult>> OutputsAsync(
        string id, ClaimsPrincipal user, IRunStore store, RunwayPaths paths, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { } run || !Caller.CanSee(user, run.Owner))
        {
            return Problems.NotFound($"no run with id '{id}'");
        }
        if (await PurgedAsync(run, store, cancellationToken) is { } gone)
        {
            return gone;
        }
        var (outputs, truncated) = RunOutputs.ListOf(run, paths);
        return TypedResults.Ok(new OutputListResponse(outputs, truncated));
    }

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> OutputAsync(
        string id, string path, HttpContext http, IRunStore store, RunwayPaths paths, AuditTrail audit, CancellationToken cancellationToken)
    {
        if (path.Split('/', '\\').Any(segment => segment is ".." or "") || path.Contains('\0', StringComparison.Ordinal))
        {
            return Problems.BadRequest($"'{path}' is not a path inside the run directory");
        }
        if (await store.GetAsync(id, cancellationToken) is not { } run || !Caller.CanSee(http.User, run.Owner))
        {
            return Problems.NotFound($"no run with id '{id}'");
        }
        if (await PurgedAsync(run, store, cancellationToken) is { } gone)
        {
            return gone;
        }
        // The fetch rule (RunOutputs) first, by name; then RunTree opens it without following any link.
        if (RunOutputs.OpenFetchable(run, paths, path) is not { } file)
        {
            return Problems.NotFound($"run '{id}' has no file '{path}'");
        }
        var contentType = ContentTypes.TryGetContentType(path, out var type) ? type : "application/octet-stream";
        await audit.RecordAsync(http, "run.download", $"{id}/{path}", cancellationToken);
        return TypedResults.File(file, contentType, Path.GetFileName(path), file.ModifiedAt, enableRangeProcessing: true);
    }

    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> ArchiveAsync(
        string id, HttpContext http, IRunStore store, RunwayPaths paths, AuditTrail audit, TimeProvider clock,
        Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { } run || !Caller.CanSee(http.User, run.Owner))
        {
            return Problems.NotFound($"no run with id '{id}'");
        }
        if (await PurgedAsync(run, store, cancellationToken) is { } gone)
        {
            return gone;
        }
        var runDirectory = RunOutputs.DirectoryOf(run, paths);
        var rule = RunOutputs.Of(run);
        // The record as GET /runs/{id} shows it (resources_used among it), so an archive kept alone still says what ran and what it used.
        var record = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(
            RunResponse.From(run, clock, await store.ListEventsAsync(id, cancellationToken)), json.Value.SerializerOptions);
        await audit.RecordAsync(http, "run.download", $"{id}/archive", cancellationToken);
        return TypedResults.Stream(body => RunArchive.WriteAsync(runDirectory, id, rule, body, cancellationToken, record), "application/gzip", $"{id}.tar.gz");
    }
}

/// <param name="Truncated">The run directory holds more than one listing may look at (too many entries, or too deep): this is a part.</param>
public sealed record OutputListResponse(IReadOnlyList<RunOutput> Outputs, bool Truncated);
