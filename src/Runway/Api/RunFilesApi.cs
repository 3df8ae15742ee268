using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.StaticFiles;
using Runway.Auth;
using Runway.Execution;
using Runway.Runs;

namespace Runway.Api;

/// <summary>What a run leaves on disk: its logs, its outputs, and its whole directory as an archive.</summary>
public static class RunFilesApi
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static IEndpointRouteBuilder MapRunFiles(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/runs").WithTags("Runs").RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/{id}/log", LogAsync).WithSummary("stdout or stderr (?stream=); ?follow=true streams until the run ends");
        api.MapGet("/{id}/outputs", OutputsAsync).WithSummary("The files the run produced");
        api.MapGet("/{id}/outputs/{**path}", OutputAsync).WithSummary("One output file; honours Range");
        api.MapGet("/{id}/archive", ArchiveAsync).WithSummary("The run directory as a streamed .tar.gz");
        return app;
    }

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
        var path = Path.Combine(paths.RunDirectory(id), RunFiles.Log(stream ?? "stdout"));
        if (follow != true)
        {
            return File.Exists(path)
                ? TypedResults.File(OpenShared(path), "text/plain; charset=utf-8")
                : TypedResults.Stream(_ => Task.CompletedTask, "text/plain; charset=utf-8");
        }
        return TypedResults.Stream(body => LogFollower.CopyUntilFinalAsync(run.Id, path, body, store, clock, cancellationToken), "text/plain; charset=utf-8");
    }

    public static async Task<Results<Ok<OutputListResponse>, ProblemHttpResult>> OutputsAsync(
        string id, ClaimsPrincipal user, IRunStore store, RunwayPaths paths, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { } run || !Caller.CanSee(user, run.Owner))
        {
            return Problems.NotFound($"no run with id '{id}'");
        }
        var spec = RunSpecJson.Deserialize(run.SpecJson);
        var outputs = RunOutputs.List(paths.RunDirectory(id), spec.Outputs);
        return TypedResults.Ok(new OutputListResponse(outputs));
    }

    public static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> OutputAsync(
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
        var runDirectory = paths.RunDirectory(id);
        if (RunwayPaths.ResolveInside(runDirectory, path) is not { } full || !File.Exists(full))
        {
            return Problems.NotFound($"run '{id}' has no file '{path}'");
        }
        var contentType = ContentTypes.TryGetContentType(full, out var type) ? type : "application/octet-stream";
        await audit.RecordAsync(http, "run.download", $"{id}/{path}", cancellationToken);
        return TypedResults.PhysicalFile(full, contentType, Path.GetFileName(full), enableRangeProcessing: true);
    }

    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> ArchiveAsync(
        string id, HttpContext http, IRunStore store, RunwayPaths paths, AuditTrail audit, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { } run || !Caller.CanSee(http.User, run.Owner))
        {
            return Problems.NotFound($"no run with id '{id}'");
        }
        var runDirectory = paths.RunDirectory(id);
        await audit.RecordAsync(http, "run.download", $"{id}/archive", cancellationToken);
        return TypedResults.Stream(body => WriteArchiveAsync(runDirectory, id, body, cancellationToken), "application/gzip", $"{id}.tar.gz");
    }

    /// <summary>Streams the directory as tar inside gzip, file by file: nothing is staged in memory or on disk.</summary>
    private static async Task WriteArchiveAsync(string runDirectory, string id, Stream body, CancellationToken cancellationToken)
    {
        await using var gzip = new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true);
        await using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true);
        if (!Directory.Exists(runDirectory))
        {
            return;
        }
        foreach (var entry in new DirectoryInfo(runDirectory).EnumerateFileSystemInfos("*", SearchOption.AllDirectories).OrderBy(e => e.FullName, StringComparer.Ordinal))
        {
            var name = id + "/" + Path.GetRelativePath(runDirectory, entry.FullName).Replace('\\', '/');
            // Links are archived as links, never followed: a run cannot make the archive read outside its directory.
            await tar.WriteEntryAsync(entry.FullName, name, cancellationToken);
        }
    }

    private static FileStream OpenShared(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
}

public sealed record OutputListResponse(IReadOnlyList<RunOutput> Outputs);
