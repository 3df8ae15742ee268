using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Runs;

namespace Runway.Files;

/// <summary>
/// Removes a blob once nothing refers to it: no file row with its sha256 and no queued or running run whose spec
/// names it (a run stages its inputs by hash, so it keeps its input when the file row goes). Called after a file row
/// is deleted (by its owner, by retention, or an upload whose row failed), and by the retention sweep for the blobs
/// an active run kept after their last file went (<see cref="SweepUnreferencedAsync"/>).
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
/// A node that stops between the second step and the last leaves the blob aside; the retention sweep finishes it once
/// it has been there for <see cref="LeftAside"/>, so a file row stored meanwhile gets its bytes back.
/// Files stored before blobs (<c>files/&lt;id&gt;</c>) are their own and go with their row.
/// </remarks>
public sealed class Blobs(IDbContextFactory<RunwayDb> databases, FileStore store, TimeProvider clock)
{
    /// <summary>
    /// How long after it was set aside a blob counts as left there by a node that stopped mid-removal, which takes
    /// milliseconds: a later sweep finishes it (<see cref="FinishAsync"/>), not one still in another node's hands.
    /// </summary>
    public static readonly TimeSpan LeftAside = TimeSpan.FromHours(1);

    private static readonly RunState[] Active = [RunState.Queued, RunState.Running];

    /// <summary>Hashes looked up per query when sweeping.</summary>
    private const int HashesPerQuery = 500;

    /// <summary>Whether the bytes were removed from disk (false: another file or an active run still needs them).</summary>
    public async Task<bool> ReleaseAsync(StoredFile deleted, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(deleted);
        store.DeleteLegacy(deleted.Id);
        return await ReleaseAsync(deleted.Sha256, ct) is not null;
    }

    /// <summary>
    /// Removes, at most <paramref name="max"/> of them, the blobs that no file row holds and no queued or running run
    /// needs: those a run kept when their last file was deleted while it was queued or running. Nothing else tells when
    /// that run ends (it may end on any node, in any of several ways), so the retention sweep, which one node runs at a
    /// time, asks this. Each goes by <see cref="ReleaseAsync(string, CancellationToken)"/>'s protocol, checked again under
    /// its condition before the unlink, so an upload of the same bytes or a run submitted meanwhile keeps it.
    /// In the same walk it finishes the removals a node left half done (<see cref="LeftAside"/>).
    /// </summary>
    /// <returns>The hashes removed, with their sizes.</returns>
    public async Task<List<(string Sha256, long Bytes)>> SweepUnreferencedAsync(int max, CancellationToken ct)
    {
        var removed = new List<(string, long)>();
        var before = clock.GetUtcNow() - LeftAside;
        foreach (var chunk in store.BlobEntries().Chunk(HashesPerQuery))
        {
            foreach (var left in chunk.Where(e => e.Aside is not null && e.SetAsideAt < before))
            {
                if (await FinishAsync(left.Sha256, left.Aside!, ct) is { } bytes)
                {
                    removed.Add((left.Sha256, bytes));
                }
            }
            var hashes = chunk.Where(e => e.Aside is null).Select(e => e.Sha256).ToArray();
            HashSet<string> held;
            await using (var db = await databases.CreateDbContextAsync(ct))
            {
                held = [.. await db.Files.Where(f => hashes.Contains(f.Sha256)).Select(f => f.Sha256).Distinct().ToListAsync(ct)];
            }
            foreach (var sha256 in hashes.Where(h => !held.Contains(h)))
            {
                if (await ReleaseAsync(sha256, ct) is { } bytes)
                {
                    removed.Add((sha256, bytes));
                }
                if (removed.Count >= max)
                {
                    return removed;
                }
            }
        }
        return removed;
    }

    /// <summary>The blob's size when it was removed; null when it is kept (something refers to it) or there is none.</summary>
    private async Task<long?> ReleaseAsync(string sha256, CancellationToken ct)
    {
        if (await IsReferencedAsync(sha256, ct) || store.SetAside(sha256) is not { } aside)
        {
            return null;
        }
        // Past the aside, finish whatever the caller's token says: a blob left aside would be lost to every reader.
        return await FinishAsync(sha256, aside, CancellationToken.None);
    }

    /// <summary>
    /// The removal's last steps: the blob set aside goes back when something refers to it again, else its bytes go.
    /// A blob left aside (a node stopped between the two) is finished the same way by a later sweep: a file row stored
    /// meanwhile by an upload that found the blob still in place, and so kept no bytes of its own, gets them back.
    /// </summary>
    private async Task<long?> FinishAsync(string sha256, string aside, CancellationToken ct)
    {
        if (await IsReferencedAsync(sha256, ct))
        {
            store.Restore(sha256, aside);
            return null;
        }
        var bytes = new FileInfo(aside).Length;
        File.Delete(aside);
        return bytes;
    }

    private async Task<bool> IsReferencedAsync(string sha256, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        return await db.Files.AnyAsync(f => f.Sha256 == sha256, ct)
            || await db.Runs.AnyAsync(r => Active.Contains(r.State) && r.SpecJson.Contains(sha256), ct);
    }
}
