using System.Security.Cryptography;
using Runway.Runs;

namespace Runway.Files;

/// <summary>
/// The bytes of uploaded files. An upload streams into a temporary file while it is hashed and counted,
/// and is moved under its generated id only when complete, so a broken or oversize upload leaves nothing
/// behind. Metadata rows are the caller's (the API writes them next to this call).
/// </summary>
public sealed class FileStore(RunwayPaths paths, TimeProvider clock)
{
    private const int BufferSize = 128 * 1024;

    /// <param name="id">The id to store it under, when the caller makes it (a TES output's is derived from its run and path); else a new one.</param>
    public async Task<StoredFile> SaveAsync(Stream content, string? clientName, string owner, long maxBytes, CancellationToken cancellationToken, string? id = null)
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
            }
            File.Move(temp, paths.FilePath(id));
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        var now = clock.GetUtcNow();
        return new StoredFile
        {
            Id = id,
            Name = FileNames.Sanitize(clientName),
            Size = size,
            Sha256 = Convert.ToHexStringLower(hash.GetHashAndReset()),
            Owner = owner,
            CreatedAt = now,
            LastUsedAt = now,
        };
    }

    public string PathOf(string id) => paths.FilePath(id);

    public void Delete(string id) => File.Delete(paths.FilePath(id));
}

public sealed class FileTooLargeException(long maxBytes) : Exception($"the file is larger than the limit of {maxBytes} bytes")
{
    public long MaxBytes { get; } = maxBytes;
}
