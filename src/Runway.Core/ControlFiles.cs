using System.Runtime.InteropServices;
using System.Text;

namespace Runway;

/// <summary>
/// The kernel's control files (a cgroup's, /proc's): read and written with the bare calls, open, read or write, close.
/// A <see cref="FileStream"/> or <see cref="File.OpenHandle"/> adds an fstat or fstatfs, an lseek and a flock and its
/// undo to each, which a control file has no use for: five of the eight calls of each of the six a run's cgroups take
/// on its way (its limits, its kill, what it used).
/// </summary>
internal static partial class ControlFiles
{
    private const int ReadOnly = 0;
    private const int WriteOnly = 1;
    private const int CloseOnExec = 0x80000;
    private const int NoSuchFile = 2;
    private const int Interrupted = 4;
    private const int NotPermitted = 1;
    private const int AccessDenied = 13;

    /// <summary>The file's text, up to <paramref name="max"/> bytes; null when it cannot be opened or read.</summary>
    public static string? Read(string path, int max = 1 << 20)
    {
        var handle = Open(path, ReadOnly | CloseOnExec, 0);
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
                var read = NativeRead(handle, ref buffer[length], buffer.Length - length);
                if (read < 0 && Marshal.GetLastPInvokeError() == Interrupted)
                {
                    continue;
                }
                if (read < 0)
                {
                    return null;
                }
                if (read == 0)
                {
                    break;
                }
                length += (int)read;
            }
            return Encoding.ASCII.GetString(buffer, 0, length);
        }
        finally
        {
            _ = NativeClose(handle);
        }
    }

    /// <summary>Writes <paramref name="value"/> in one write(2), as a control file takes a value.</summary>
    /// <exception cref="DirectoryNotFoundException">Its folder is gone.</exception>
    /// <exception cref="FileNotFoundException">There is no such file (a controller or kernel without it).</exception>
    /// <exception cref="UnauthorizedAccessException">Not permitted.</exception>
    /// <exception cref="IOException">The kernel refused the value.</exception>
    public static void Write(string path, string value)
    {
        var handle = Open(path, WriteOnly | CloseOnExec, 0);
        if (handle < 0)
        {
            throw Failure(Marshal.GetLastPInvokeError(), path);
        }
        try
        {
            var bytes = Encoding.ASCII.GetBytes(value);
            nint written;
            do
            {
                written = NativeWrite(handle, ref MemoryMarshal.GetArrayDataReference(bytes), bytes.Length);
            }
            while (written < 0 && Marshal.GetLastPInvokeError() == Interrupted);
            if (written < 0)
            {
                throw Failure(Marshal.GetLastPInvokeError(), path);
            }
        }
        finally
        {
            _ = NativeClose(handle);
        }
    }

    private static Exception Failure(int errno, string path) => errno switch
    {
        // As File.Open tells them apart: a folder gone (a removed cgroup) is not a file its kernel lacks.
        NoSuchFile when !Directory.Exists(Path.GetDirectoryName(path)) => new DirectoryNotFoundException($"Could not find a part of the path '{path}'."),
        NoSuchFile => new FileNotFoundException($"Could not find file '{path}'.", path),
        NotPermitted or AccessDenied => new UnauthorizedAccessException($"Access to the path '{path}' is denied."),
        _ => new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno),
    };

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint NativeRead(int handle, ref byte buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint NativeWrite(int handle, ref byte buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int NativeClose(int handle);
}
