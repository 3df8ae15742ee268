using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Runs;

namespace Runway.Files;

/// <summary>
/// Removes a blob once nothing refers to it: no file row with its sha256 and no queued or running run whose spec
/// names it (a run stages its inputs by hash, so it keeps its input when the file row goes). Called after a file row
/// is deleted (by its owner, by retention, or an upload whose row failed).
/// </summary>
/// <remarks>
/// The check and the removal are not one atomic step (the bytes are on disk, the references in the database), so:
/// <list type="number">
/// <item>Check the references; kept when any.</item>
/// <item>Set the blob aside (an atomic rename): from here an upload of the same bytes places a blob of its own.</item>
/// <item>Check again. An upload stores its row before it places its bytes (Uploads), so a row stored before this
/// check is seen here and the blob goes back, and a row stored after it finds no blob and places its own.</item>
/// <item>Delete what was set aside, or put it back (unless the same bytes were placed again meanwhile).</item>
/// </list>
/// Files stored before blobs (<c>files/&lt;id&gt;</c>) are their own and go with their row.
/// </remarks>
public sealed class Blobs(IDbContextFactory<RunwayDb> databases, FileStore store)
{
    private static readonly RunState[] Active = [RunState.Queued, RunState.Running];

    /// <summary>Whether the bytes were removed from disk (false: another file or an active run still needs them).</summary>
    public async Task<bool> ReleaseAsync(StoredFile deleted, CancellationToken ct)
    {
        store.DeleteLegacy(deleted.Id);
        if (await IsReferencedAsync(deleted.Sha256, ct) || store.SetAside(deleted.Sha256) is not { } aside)
        {
            return false;
        }
        // Past the aside, finish whatever the caller's token says: a blob left aside would be lost to every reader.
        if (await IsReferencedAsync(deleted.Sha256, CancellationToken.None))
        {
            store.Restore(deleted.Sha256, aside);
            return false;
        }
        File.Delete(aside);
        return true;
    }

    private async Task<bool> IsReferencedAsync(string sha256, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        return await db.Files.AnyAsync(f => f.Sha256 == sha256, ct)
            || await db.Runs.AnyAsync(r => Active.Contains(r.State) && r.SpecJson.Contains(sha256), ct);
    }
}
