using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Runway.Runs;

namespace Runway.Files;

/// <summary>
/// The bytes of uploaded files, stored once per content: <c>blobs/&lt;aa&gt;/&lt;sha256&gt;</c> under the data directory,
/// read-only (0400). An upload streams into a temporary file while it is hashed and counted (<see cref="ReceiveAsync"/>);
/// once its row is stored, <see cref="Place"/> links it in under its hash when no blob holds those bytes yet, else
/// drops it. A broken or oversize upload leaves nothing behind. Files stored before blobs (<c>files/&lt;id&gt;</c>)
/// are read where they are and never shared: <see cref="PathOf"/> looks at the blob first, then there.
/// Which rows and runs still need a blob is the database's to say (Runway's <c>Blobs</c> removes them).
/// </summary>
public sealed class FileStore(RunwayPaths paths, TimeProvider clock)
{
    // The shards whose entry in blobs/ this process has synced.
    private readonly ConcurrentDictionary<string, byte> durableShards = new(StringComparer.Ordinal);

    private const int BufferSize = 128 * 1024;

    /// <summary>Streams <paramref name="content"/> into a temporary file, hashing it; the caller places or discards it.</summary>
    /// <param name="id">The id to store it under, when the caller makes it (a TES output's is derived from its run and path); else a new one.</param>
    public async Task<ReceivedFile> ReceiveAsync(Stream content, string? clientName, string owner, long maxBytes, CancellationToken cancellationToken, string? id = null)
    {
        id ??= Ids.NewFileId(clock);
        var temp = Path.Combine(paths.UploadsDirectory, id + ".part");
        long size = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous))
            {
                var buffer = new byte[BufferSize];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    size += read;
                    if (size > maxBytes)
                    {
                        throw new FileTooLargeException(maxBytes);
                    }
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(file.SafeFileHandle, UnixFileMode.UserRead);
                }
            }
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        var now = clock.GetUtcNow();
        var stored = new StoredFile
        {
            Id = id,
            Name = FileNames.Sanitize(clientName),
            Size = size,
            Sha256 = Convert.ToHexStringLower(hash.GetHashAndReset()),
            Owner = owner,
            CreatedAt = now,
            LastUsedAt = now,
        };
        return new ReceivedFile(stored, temp);
    }

    /// <summary>
    /// Puts the received bytes under their hash unless a blob holds them already (then they are dropped: the same
    /// bytes, so the blob serves this file too). link(2) never replaces a name, so of two uploads of the same bytes
    /// at once one places its file and the other finds it there; a blob is never rewritten once placed.
    /// </summary>
    public void Place(ReceivedFile received)
    {
        var blob = paths.BlobPath(received.File.Sha256);
        var shard = Path.GetDirectoryName(blob)!;
        Directory.CreateDirectory(shard);
        if (!Posix.Link(received.TempPath, blob) && !File.Exists(blob))
        {
            // No hard links here (not a POSIX file system): a rename that refuses to replace.
            try
            {
                File.Move(received.TempPath, blob, overwrite: false);
                SyncNames(shard);
                return;
            }
            catch (IOException) when (File.Exists(blob))
            {
                // Placed meanwhile by an upload of the same bytes.
            }
        }
        File.Delete(received.TempPath);
        SyncNames(shard);
    }

    /// <summary>
    /// The blob's name on disk before the upload is answered. Its bytes were synced under the temporary name, but the
    /// link (or rename) is an entry of the shard's directory, and the shard an entry of blobs/: only a sync of those
    /// directories makes them durable. Without it, a crash after the 201 could leave the file's row with no blob
    /// (ext4 without a journal, btrfs). A blob placed meanwhile by the same bytes is synced here too.
    /// </summary>
    /// <remarks>
    /// blobs/ is synced until this process has synced it once with the shard in it, not only by the upload that made
    /// the shard: an upload that finds the shard made by another still in flight, or by a process that crashed before
    /// its sync, must not answer before the shard's own name is durable. At most one more fsync per shard (256) and
    /// process.
    /// </remarks>
    private void SyncNames(string shard)
    {
        PosixFiles.SyncDirectory(shard);
        if (!durableShards.ContainsKey(shard))
        {
            PosixFiles.SyncDirectory(paths.BlobsDirectory);
            durableShards.TryAdd(shard, 0);
        }
    }

    public static void Discard(ReceivedFile received) => File.Delete(received.TempPath);

    /// <summary>Where the file's bytes are: its blob, or for a file stored before blobs, its own file.</summary>
    public string PathOf(StoredFile file) => paths.UploadPath(file.Sha256, file.Id);

    /// <summary>Removes a file stored before blobs (its bytes are its own); nothing when it has none.</summary>
    public void DeleteLegacy(string id) => File.Delete(paths.FilePath(id));

    /// <summary>
    /// What blobs/ holds, read lazily, one walk: each blob by its hash, and each blob set aside
    /// (<c>&lt;sha256&gt;.gone-&lt;unix seconds&gt;-&lt;guid&gt;</c>) with the path it was set aside to and when.
    /// An aside from before the time was in its name is dated <see cref="DateTimeOffset.MinValue"/>.
    /// </summary>
    public IEnumerable<BlobEntry> BlobEntries()
    {
        if (!Directory.Exists(paths.BlobsDirectory))
        {
            yield break;
        }
        foreach (var path in Directory.EnumerateFiles(paths.BlobsDirectory, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(path);
            if (name.Length < 64 || name.AsSpan(0, 64).ContainsAnyExcept(HexLower))
            {
                continue;
            }
            var sha256 = name[..64];
            if (name.Length == 64)
            {
                yield return new BlobEntry(sha256, null, default);
            }
            else if (name.AsSpan(64).StartsWith(AsideMark, StringComparison.Ordinal))
            {
                yield return new BlobEntry(sha256, path, SetAsideAt(name.AsSpan(64 + AsideMark.Length)));
            }
        }
    }

    private const string AsideMark = ".gone-";

    private static readonly SearchValues<char> HexLower = SearchValues.Create("0123456789abcdef");

    private static DateTimeOffset SetAsideAt(ReadOnlySpan<char> rest) =>
        rest.IndexOf('-') is > 0 and var dash && long.TryParse(rest[..dash], out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : DateTimeOffset.MinValue;

    /// <summary>
    /// Step one of removing a blob: renames it aside (atomically), so that from here an upload of the same bytes
    /// places a new blob. The name says when, so that one a stopped node left aside can be told from one in the middle
    /// of its removal (<see cref="BlobEntries"/>). Null when there is none.
    /// </summary>
    public string? SetAside(string sha256)
    {
        var blob = paths.BlobPath(sha256);
        var aside = $"{blob}{AsideMark}{clock.GetUtcNow().ToUnixTimeSeconds()}-{Guid.NewGuid():N}";
        try
        {
            File.Move(blob, aside, overwrite: false);
            return aside;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Step two: a blob set aside goes back (unless the same bytes were placed again meanwhile) or goes.</summary>
    public void Restore(string sha256, string aside)
    {
        if (!Posix.Link(aside, paths.BlobPath(sha256)) && !File.Exists(paths.BlobPath(sha256)))
        {
            File.Move(aside, paths.BlobPath(sha256), overwrite: false);
            return;
        }
        File.Delete(aside);
    }
}

/// <summary>A file of blobs/: a blob (<paramref name="Aside"/> null), or one set aside to <paramref name="Aside"/> at <paramref name="SetAsideAt"/>.</summary>
public readonly record struct BlobEntry(string Sha256, string? Aside, DateTimeOffset SetAsideAt);

/// <summary>An upload hashed into a temporary file, not yet placed under its hash.</summary>
public sealed record ReceivedFile(StoredFile File, string TempPath);

public sealed class FileTooLargeException(long maxBytes) : Exception($"the file is larger than the limit of {maxBytes} bytes")
{
    public long MaxBytes { get; } = maxBytes;
}
