using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.StaticFiles;
using Runway.Auth;
using Runway.Files;

namespace Runway.Api;

public static class FilesApi
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static IEndpointRouteBuilder MapFiles(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/files").WithTags("Files");
        api.MapPost("/", UploadAsync).WithSummary("Upload a file (multipart/form-data, field 'file'), streamed to disk")
            .Accepts<IFormFile>("multipart/form-data").DisableAntiforgery().RequireAuthorization(Scopes.FilesWrite);
        api.MapGet("/", ListAsync).WithSummary("The caller's files (an admin's: everyone's), newest first; ?limit= (1-1000, default 100), then ?cursor=next_cursor; ?sha256= finds the caller's own files with those bytes").RequireAuthorization(Scopes.FilesRead);
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
            { Failure: UploadFailure.OverQuota, Quota: { } use } => Problems.OverQuota(StatusCodes.Status413PayloadTooLarge, result.Detail!, use),
            { Failure: UploadFailure.QuotaFull, Quota: { } use } => Problems.OverQuota(StatusCodes.Status507InsufficientStorage, result.Detail!, use),
            { Failure: UploadFailure.Malformed } => Problems.BadRequest(result.Detail!),
            _ => Problems.Invalid("file", result.Detail!),
        };
    }

    public static async Task<Results<Ok<FileListResponse>, ProblemHttpResult>> ListAsync(
        int? limit, string? cursor, string? sha256, ClaimsPrincipal user, OwnedFiles files, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        return await files.PageAsync(user, limit, cursor, sha256, errors, cancellationToken) is { } page
            ? TypedResults.Ok(new FileListResponse(page.Files.Select(FileResponse.From).ToList(), page.NextCursor))
            : Problems.Invalid(errors);
    }

    public static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> DownloadAsync(
        string id, HttpContext http, OwnedFiles files, FileStore store, AuditTrail audit, CancellationToken cancellationToken)
    {
        if (await files.FindAsync(http.User, id, cancellationToken) is not { } file)
        {
            return Problems.NotFound($"no file with id '{id}'");
        }
        var path = store.PathOf(file);
        if (!File.Exists(path))
        {
            // The row without its bytes: a crash between the two at upload, or a data directory restored from an older copy.
            return TypedResults.Problem(statusCode: StatusCodes.Status410Gone, title: "The file's bytes are gone",
                detail: $"file '{id}' is listed but its bytes are no longer on this server; delete it and upload it again");
        }
        await audit.RecordAsync(http, "file.download", id, cancellationToken);
        var contentType = ContentTypes.TryGetContentType(file.Name, out var type) ? type : "application/octet-stream";
        return TypedResults.PhysicalFile(path, contentType, file.Name, enableRangeProcessing: true);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string id, HttpContext http, OwnedFiles files, CancellationToken cancellationToken) =>
        await files.DeleteAsync(http.User, id, Audit.AddressOf(http), cancellationToken)
            ? TypedResults.NoContent()
            : Problems.NotFound($"no file with id '{id}'");
}

public sealed record FileResponse(string Id, string Name, long Size, string Sha256, string Owner, DateTimeOffset CreatedAt)
{
    public static FileResponse From(StoredFile f) => new(f.Id, f.Name, f.Size, f.Sha256, f.Owner, f.CreatedAt);
}

public sealed record FileListResponse(IReadOnlyList<FileResponse> Files, string? NextCursor);
