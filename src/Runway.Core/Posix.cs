using System.Runtime.InteropServices;

namespace Runway;

/// <summary>The few libc calls .NET does not expose: real paths, signals to process groups, liveness, heap trimming, syncing a directory.</summary>
public static partial class Posix
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    /// <summary>The canonical absolute path with every symbolic link resolved, or null if it does not exist.</summary>
    public static string? RealPath(string path)
    {
        var result = NativeRealPath(path, IntPtr.Zero);
        if (result == IntPtr.Zero)
        {
            return null;
        }
        try
        {
            return Marshal.PtrToStringUTF8(result);
        }
        finally
        {
            Marshal.FreeHGlobal(result);
        }
    }

    /// <summary>Sends <paramref name="signal"/> to one process; false if it is gone.</summary>
    public static bool Signal(int pid, int signal) => pid > 1 && Kill(pid, signal) == 0;

    /// <summary>Sends <paramref name="signal"/> to every process of the group; false if the group is gone.</summary>
    public static bool KillGroup(int processGroup, int signal) => processGroup > 1 && Kill(-processGroup, signal) == 0;

    /// <summary>Whether a process (or group, when negative) exists, by signal 0.</summary>
    public static bool Exists(int pid) => pid != 0 && (Kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() == 1 /* EPERM: exists, not ours */);

    /// <summary>Creates a hard link (a second name for the same inode); false when the file system refuses, e.g. across devices.</summary>
    public static bool Link(string existing, string newPath) => NativeLink(existing, newPath) == 0;

    /// <summary>fsync(2) of a directory, so the names made in it so far are on disk (a file's own fsync does not promise its name).</summary>
    public static void SyncDirectory(string path) => PosixFiles.SyncDirectory(path);

    /// <summary>Returns glibc's free heap pages to the system (<c>malloc_trim(0)</c>): what freed native blocks still hold.</summary>
    public static void TrimNativeHeap() => _ = MallocTrim(0);

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int MallocTrim(nuint pad);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int NativeLink(string existing, string newPath);

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial IntPtr NativeRealPath(string path, IntPtr resolved);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Kill(int pid, int signal);
}
