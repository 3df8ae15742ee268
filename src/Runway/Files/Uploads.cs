using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using Runway.Auth;
using Runway.Data;
using Runway.Storage;

namespace Runway.Files;

public enum UploadFailure
{
    /// <summary>Not multipart/form-data, or no part named 'file' (422).</summary>
    NoFile,

    /// <summary>Over Runway:MaxUploadBytes (413).</summary>
    TooLarge,

    /// <summary>The multipart body is cut short or not multipart at all inside (400).</summary>
    Malformed,

    /// <summary>The file would pass the user's storage quota (413; <see cref="UploadResult.Quota"/> says how far).</summary>
    OverQuota,

    /// <summary>The user's storage quota is used up already (507).</summary>
    QuotaFull,
}

public sealed record UploadResult(StoredFile? File, UploadFailure? Failure = null, string? Detail = null, QuotaUse? Quota = null);

/// <summary>
/// Stores an upload: the bytes hashed into a temporary file (<see cref="FileStore"/>), then its row, then the bytes
/// under their hash (once per content), then its audit entry. The one path
/// for the API, the web UI's form and later protocol views; a failed upload leaves nothing behind.
/// </summary>
public sealed class Uploads(IDbContextFactory<RunwayDb> databases, FileStore store, RunwayOptions options, AuditTrail audit, StorageQuota quota)
{
    /// <summary>
    /// Reads a multipart/form-data body section by section with MultipartReader, so the file goes straight
    /// from the socket through the hash into its temporary file; IFormFile would buffer it first.
    /// </summary>
    /// <param name="fields">When given, receives the body's small text fields (before or after the file; at most
    /// <see cref="MaxFields"/> of <see cref="MaxFieldLength"/> characters each): caesar-rest's upload sends a <c>tag</c>.</param>
    public async Task<UploadResult> SaveMultipartAsync(string? contentType, Stream body, string owner, string? address, CancellationToken cancellationToken,
        IDictionary<string, string>? fields = null)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            return new UploadResult(null, UploadFailure.NoFile, "send the file as multipart/form-data in a field named 'file' (curl -F file=@path)");
        }
        var reader = new MultipartReader(boundary, body);
        try
        {
            while (await NextSectionAsync(reader, cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    continue;
                }
                if (!disposition.IsFileDisposition() || disposition.Name.Value?.Trim('"') != "file")
                {
                    await ReadFieldAsync(section, disposition, fields, cancellationToken);
                    continue;
                }
                var clientName = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                StoredFile saved;
                await using (var content = new TruncationGuard(section.Body))
                {
                    saved = await SaveAsync(content, clientName, owner, address, cancellationToken);
                }
                // The fields after the file (curl -F file=@x -F tag=y sends them in that order).
                while (fields is not null && await NextSectionAsync(reader, cancellationToken) is { } after)
                {
                    if (ContentDispositionHeaderValue.TryParse(after.ContentDisposition, out var field))
                    {
                        await ReadFieldAsync(after, field, fields, cancellationToken);
                    }
                }
                return new UploadResult(saved);
            }
        }
        catch (FileTooLargeException tooLarge)
        {
            return new UploadResult(null, UploadFailure.TooLarge, tooLarge.Message);
        }
        catch (StorageQuotaException over)
        {
            return new UploadResult(null, over.Full ? UploadFailure.QuotaFull : UploadFailure.OverQuota, over.Message, over.Use);
        }
        catch (InvalidDataException malformed)
        {
            return new UploadResult(null, UploadFailure.Malformed, $"the multipart body is malformed: {malformed.Message}");
        }
        return new UploadResult(null, UploadFailure.NoFile, "no file field named 'file' in the multipart body (curl -F file=@path)");
    }

    /// <summary>
    /// Stores one file's bytes under a new id, then its row and audit entry. Throws <see cref="FileTooLargeException"/>,
    /// and <see cref="StorageQuotaException"/> when the owner's quota is used up or this file would pass it.
    /// </summary>
    public async Task<StoredFile> SaveAsync(Stream content, string? clientName, string owner, string? address, CancellationToken cancellationToken)
    {
        var use = await quota.OfUserAsync(owner, cancellationToken);
        if (use is { Exceeded: true })
        {
            throw new StorageQuotaException(use, full: true);
        }
        ReceivedFile received;
        try
        {
            received = await store.ReceiveAsync(content, clientName, owner, Math.Min(options.MaxUploadBytes, use?.LeftBytes ?? long.MaxValue), cancellationToken);
        }
        catch (FileTooLargeException) when (use is not null && use.LeftBytes < options.MaxUploadBytes)
        {
            throw new StorageQuotaException(use, full: false);
        }
        var file = received.File;
        bool held;
        // The row before the bytes: Blobs' re-check relies on it (a blob it sets aside goes back once this row is seen).
        try
        {
            await using var db = await databases.CreateDbContextAsync(cancellationToken);
            held = await db.Files.AnyAsync(f => f.Owner == owner && f.Sha256 == file.Sha256, cancellationToken);
            db.Files.Add(file);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch
        {
            FileStore.Discard(received);
            throw;
        }
        try
        {
            store.Place(received);
        }
        catch
        {
            FileStore.Discard(received);
            await using var db = await databases.CreateDbContextAsync(CancellationToken.None);
            await db.Files.Where(f => f.Id == file.Id).ExecuteDeleteAsync(CancellationToken.None);
            throw;
        }
        // A user is charged a blob once, however many of their files share it (StorageUse).
        if (!held)
        {
            quota.Added(owner, file.Size);
        }
        await audit.RecordAsync(owner, "file.upload", file.Id, address, cancellationToken);
        RunwayMetrics.Uploads.Add(1);
        RunwayMetrics.UploadedBytes.Add(file.Size);
        return file;
    }

    public const int MaxFields = 16, MaxFieldLength = 4096;

    private static async Task ReadFieldAsync(MultipartSection section, ContentDispositionHeaderValue disposition, IDictionary<string, string>? fields, CancellationToken cancellationToken)
    {
        if (fields is null || fields.Count >= MaxFields || !disposition.IsFormDisposition() || disposition.Name.Value?.Trim('"') is not { Length: > 0 } name)
        {
            return;
        }
        using var text = new StreamReader(new TruncationGuard(section.Body));
        var buffer = new char[MaxFieldLength];
        var read = await text.ReadBlockAsync(buffer.AsMemory(), cancellationToken);
        fields[name] = new string(buffer, 0, read);
    }

    internal static async Task<MultipartSection?> NextSectionAsync(MultipartReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadNextSectionAsync(cancellationToken);
        }
        catch (IOException cut)
        {
            throw TruncationGuard.Truncated(cut);
        }
    }
}
