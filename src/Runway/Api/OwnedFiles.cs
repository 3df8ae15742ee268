using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;
using Runway.Files;
using Runway.Runs;

namespace Runway.Api;

/// <summary>A page of files, newest first, and the cursor of the next (null on the last page).</summary>
public sealed record FilePage(IReadOnlyList<StoredFile> Files, string? NextCursor);

/// <summary>
/// The files a caller may see (their own; an admin's: everyone's), for /api/v1/files and the Files page:
/// the list, the lookup and the delete with its audit entry, one rule for both.
/// </summary>
public sealed class OwnedFiles(IDbContextFactory<RunwayDb> databases, Blobs blobs, AuditTrail audit)
{
    /// <summary>One page by id descending, or null with <paramref name="errors"/> filled when the limit or cursor is bad.</summary>
    public async Task<FilePage?> PageAsync(ClaimsPrincipal user, int? limit, string? cursor, string? sha256, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        var size = Keyset.Limit(limit, errors);
        var after = Keyset.After(cursor, Ids.IsFileId, errors);
        if (sha256 is not null && !(sha256.Length == 64 && sha256.All(char.IsAsciiHexDigit)))
        {
            errors["sha256"] = ["must be 64 hexadecimal digits (a SHA-256)"];
        }
        if (errors.Count > 0)
        {
            return null;
        }
        await using var db = await databases.CreateDbContextAsync(ct);
        var visible = VisibleTo(db, user);
        if (sha256 is not null)
        {
            // Mine only, even for an admin: the answer is "may I skip this upload", which another's file does not settle.
            var hash = sha256.ToLowerInvariant();
            var owner = Caller.NameOf(user);
            visible = visible.Where(f => f.Owner == owner && f.Sha256 == hash);
        }
        visible = after is null ? visible : visible.Where(f => f.Id.CompareTo(after) < 0);
        var files = await visible.OrderByDescending(f => f.Id).Take(size + 1).ToListAsync(ct);
        return new FilePage(files.Take(size).ToList(), Keyset.Next(files, size, f => f.Id));
    }

    public async Task<StoredFile?> FindAsync(ClaimsPrincipal user, string id, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        return await VisibleTo(db, user).FirstOrDefaultAsync(f => f.Id == id, ct);
    }

    /// <summary>Deletes the row, then the bytes when no other file or active run needs them (<see cref="Blobs"/>), then audits; false when there is no such file the caller may see.</summary>
    public async Task<bool> DeleteAsync(ClaimsPrincipal user, string id, string? address, CancellationToken ct)
    {
        StoredFile? file;
        await using (var db = await databases.CreateDbContextAsync(ct))
        {
            file = await VisibleTo(db, user).FirstOrDefaultAsync(f => f.Id == id, ct);
            if (file is null || await db.Files.Where(f => f.Id == id).ExecuteDeleteAsync(ct) == 0)
            {
                return false;
            }
        }
        await blobs.ReleaseAsync(file, ct);
        await audit.RecordAsync(Caller.NameOf(user), "file.delete", id, address, ct);
        return true;
    }

    private static IQueryable<StoredFile> VisibleTo(RunwayDb db, ClaimsPrincipal user)
    {
        var owner = Caller.NameOf(user);
        return Caller.IsAdmin(user) ? db.Files.AsNoTracking() : db.Files.AsNoTracking().Where(f => f.Owner == owner);
    }
}
