namespace Runway.Files;

/// <summary>
/// A multipart section's body that reports a body cut short before its closing boundary as the client's
/// error it is (MultipartReader says IOException, "Unexpected end of Stream"), so it answers 400, not 500.
/// Only reads are wrapped: an IOException while writing the file (a full disk) stays the server's.
/// </summary>
internal sealed class TruncationGuard(Stream inner) : Stream
{
    public static InvalidDataException Truncated(IOException cause) =>
        new("the body ends before the closing boundary", cause);

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        try
        {
            return inner.Read(buffer, offset, count);
        }
        catch (IOException cut)
        {
            throw Truncated(cut);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException cut)
        {
            throw Truncated(cut);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
