using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;
using Runway.Files;
using Runway.Runs;

namespace Runway.Api;

public static class FilesApi
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static IEndpointRouteBuilder MapFiles(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/files").WithTags("Files");
        api.MapPost("/", UploadAsync).WithSummary("Upload a file (multipart/form-data, field 'file'), streamed to disk")
            .Accepts<IFormFile>("multipart/form-data").DisableAntiforgery().RequireAuthorization(Scopes.FilesWrite);
        api.MapGet("/", ListAsync).WithSummary("The caller's files (an admin's: everyone's), newest first; ?limit= (1-1000, default 100), then ?cursor=next_cursor").RequireAuthorization(Scopes.FilesRead);
        api.MapGet("/{id}", DownloadAsync).WithSummary("Download a file; honours Range").RequireAuthorization(Scopes.FilesRead);
        api.MapDelete("/{id}", DeleteAsync).WithSummary("Delete a file").RequireAuthorization(Scopes.FilesWrite);
        return app;
    }

    public static async Task<Results<Created<FileResponse>, ProblemHttpResult>> UploadAsync(
        HttpRequest request, Uploads uploads, CancellationToken cancellationToken)
    {
        var http = request.HttpContext;
        var result = await uploads.SaveMultipartAsync(request.ContentType, request.Body, Caller.NameOf(http.User), Audit.AddressOf(http), cancellationToken);
        return result switch
        {
            { File: { } file } => TypedResults.Created($"/api/v1/files/{file.Id}", FileResponse.From(file)),
            { Failure: UploadFailure.TooLarge } => Problems.TooLarge(result.Detail!),
            { Failure: UploadFailure.Malformed } => Problems.BadRequest(result.Detail!),
            _ => Problems.Invalid("file", result.Detail!),
        };
    }

    public static async Task<Results<Ok<FileListResponse>, ProblemHttpResult>> ListAsync(
        int? limit, string? cursor, HttpContext http, RunwayDb db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var size = Keyset.Limit(limit, errors);
        var after = Keyset.After(cursor, Ids.IsFileId, errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var owner = Caller.NameOf(http.User);
        var visible = Caller.IsAdmin(http.User) ? db.Files.AsNoTracking() : db.Files.AsNoTracking().Where(f => f.Owner == owner);
        visible = after is null ? visible : visible.Where(f => f.Id.CompareTo(after) < 0);
        var files = await visible.OrderByDescending(f => f.Id).Take(size + 1).ToListAsync(cancellationToken);
        return TypedResults.Ok(new FileListResponse(files.Take(size).Select(FileResponse.From).ToList(), Keyset.Next(files, size, f => f.Id)));
    }

    public static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> DownloadAsync(
        string id, HttpContext http, RunwayDb db, FileStore store, AuditTrail audit, CancellationToken cancellationToken)
    {
        if (await FindAsync(id, http, db, cancellationToken) is not { } file)
        {
            return Problems.NotFound($"no file with id '{id}'");
        }
        await audit.RecordAsync(http, "file.download", id, cancellationToken);
        var contentType = ContentTypes.TryGetContentType(file.Name, out var type) ? type : "application/octet-stream";
        return TypedResults.PhysicalFile(store.PathOf(file.Id), contentType, file.Name, enableRangeProcessing: true);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string id, HttpContext http, RunwayDb db, FileStore store, AuditTrail audit, CancellationToken cancellationToken)
    {
        var owner = Caller.NameOf(http.User);
        var admin = Caller.IsAdmin(http.User);
        var deleted = await db.Files.Where(f => f.Id == id && (admin || f.Owner == owner)).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return Problems.NotFound($"no file with id '{id}'");
        }
        store.Delete(id);
        await audit.RecordAsync(http, "file.delete", id, cancellationToken);
        return TypedResults.NoContent();
    }

    private static Task<StoredFile?> FindAsync(string id, HttpContext http, RunwayDb db, CancellationToken cancellationToken)
    {
        var owner = Caller.NameOf(http.User);
        var admin = Caller.IsAdmin(http.User);
        return db.Files.AsNoTracking().FirstOrDefaultAsync(f => f.Id == id && (admin || f.Owner == owner), cancellationToken);
    }
}

public sealed record FileResponse(string Id, string Name, long Size, string Sha256, string Owner, DateTimeOffset CreatedAt)
{
    public static FileResponse From(StoredFile f) => new(f.Id, f.Name, f.Size, f.Sha256, f.Owner, f.CreatedAt);
}

public sealed record FileListResponse(IReadOnlyList<FileResponse> Files, string? NextCursor);
