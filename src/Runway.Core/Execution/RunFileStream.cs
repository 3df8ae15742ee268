using Microsoft.Win32.SafeHandles;

namespace Runway.Execution;

/// <summary>
/// A regular file of a run directory opened by <see cref="RunTree.OpenFile"/>, read as a seekable stream
/// of the length fstat gave when it was opened.
/// </summary>
/// <remarks>
/// The run may still be writing (or a process it left behind): a file that keeps growing is cut at that
/// length, so a download or an archive always ends and a tar header's size is always right. A file that
/// shrinks meanwhile reads as zeros up to that length, for the same reason.
/// </remarks>
public sealed class RunFileStream : Stream
{
    private readonly SafeFileHandle handle;
    private long position;

    internal RunFileStream(SafeFileHandle handle, FileStatus status)
    {
        this.handle = handle;
        Length = status.Size;
        ModifiedAt = status.ModifiedAt;
        Permissions = status.Permissions;
    }

    public DateTimeOffset ModifiedAt { get; }
    public UnixFileMode Permissions { get; }

    /// <summary>The handle, for a reader that follows the file as it grows (a log being written).</summary>
    public SafeFileHandle Handle => handle;

    public override long Length { get; }
    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;

    public override long Position
    {
        get => position;
        set => position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var wanted = Wanted(buffer.Length);
        var read = wanted == 0 ? 0 : RandomAccess.Read(handle, buffer[..wanted], position);
        return Advance(buffer[..wanted], read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var wanted = Wanted(buffer.Length);
        var read = wanted == 0 ? 0 : await RandomAccess.ReadAsync(handle, buffer[..wanted], position, cancellationToken);
        return Advance(buffer.Span[..wanted], read);
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => position + offset,
        _ => Length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            handle.Dispose();
        }
        base.Dispose(disposing);
    }

    private int Wanted(int capacity) => (int)Math.Clamp(Length - position, 0, capacity);

    /// <summary>A read that hit the end early (the file shrank) is filled with zeros up to what was wanted.</summary>
    private int Advance(Span<byte> wanted, int read)
    {
        if (read == 0 && wanted.Length > 0)
        {
            wanted.Clear();
            read = wanted.Length;
        }
        position += read;
        return read;
    }
}
