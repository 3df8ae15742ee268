using System.Text;

namespace Runway;

/// <summary>
/// The kernel's control files (a cgroup's, /proc's): read and written with the bare calls, open, read or write, close.
/// A <see cref="FileStream"/> or <see cref="File.OpenHandle"/> adds an fstat or fstatfs, an lseek and a flock and its
/// undo to each, which a control file has no use for: five of the eight calls of each of the six a run's cgroups take
/// on its way (its limits, its kill, what it used).
/// </summary>
internal static class ControlFiles
{
    private const int AccessDenied = 13;
    private const int NotPermitted = 1;

    /// <summary>The file's text, up to <paramref name="max"/> bytes; null when it cannot be opened or read.</summary>
    public static string? Read(string path, int max = 1 << 20)
    {
        var handle = PosixFiles.OpenControl(path, write: false);
        if (handle < 0)
        {
            return null;
        }
        try
        {
            var buffer = new byte[Math.Min(max, 4096)];
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= max)
                    {
                        break;
                    }
                    Array.Resize(ref buffer, (int)Math.Min(max, (long)buffer.Length * 2));
                }
                var read = PosixFiles.Read(handle, buffer.AsSpan(length));
                if (read < 0)
                {
                    return null;
                }
                if (read == 0)
                {
                    break;
                }
                length += read;
            }
            return Encoding.ASCII.GetString(buffer, 0, length);
        }
        finally
        {
            PosixFiles.Close(handle);
        }
    }

    /// <summary>Writes <paramref name="value"/> in one write(2), as a control file takes a value.</summary>
    /// <exception cref="DirectoryNotFoundException">Its folder is gone.</exception>
    /// <exception cref="FileNotFoundException">There is no such file (a controller or kernel without it).</exception>
    /// <exception cref="UnauthorizedAccessException">Not permitted.</exception>
    /// <exception cref="IOException">The kernel refused the value.</exception>
    public static void Write(string path, string value)
    {
        var handle = PosixFiles.OpenControl(path, write: true);
        var error = handle < 0 ? System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : 0;
        if (handle >= 0)
        {
            error = PosixFiles.WriteAll(handle, Encoding.ASCII.GetBytes(value));
            PosixFiles.Close(handle);
        }
        if (error is NotPermitted or AccessDenied)
        {
            throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.");
        }
        if (error != 0)
        {
            throw PosixFiles.Failure(error, path);
        }
    }
}
