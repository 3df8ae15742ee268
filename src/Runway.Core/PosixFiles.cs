using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Runway;

/// <summary>
/// The libc calls for reading a tree that someone else controls (a run directory): every call is relative to
/// a directory handle and none follows a symbolic link in the last component, so a directory swapped for a
/// link between two calls cannot redirect the reader. Linux only, as Runway is.
/// </summary>
internal static partial class PosixFiles
{
    public const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const int AtRemoveDir = 0x200;
    private const uint StatxBasicStats = 0x7ff;

    // O_DIRECTORY and O_NOFOLLOW differ between architectures (asm-generic vs the ARM and PowerPC values);
    // O_NONBLOCK, O_NOCTTY and O_CLOEXEC are the same on every architecture .NET runs on under Linux.
    private static readonly bool ArmLayout = RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 or Architecture.Ppc64le;
    private static readonly int Directory = ArmLayout ? 0x4000 : 0x10000;
    private static readonly int NoFollow = ArmLayout ? 0x8000 : 0x20000;
    private const int NonBlock = 0x800;
    private const int WriteOnly = 0x1;
    private const int Create = 0x40;
    private const int Truncate = 0x200;
    private const int Exclusive = 0x80;
    private const int NoCtty = 0x100;
    private const int CloseOnExec = 0x80000;
    private const int Interrupted = 4; // EINTR

    /// <summary>Opens a directory, refusing a link in its last component; -1 when absent, not a directory, or a link.</summary>
    public static int OpenDirectory(int parent, string name) => OpenAt(parent, name, Directory | NoFollow | CloseOnExec, 0);

    /// <summary>
    /// Opens for reading without following a link and without blocking (a FIFO answers at once instead of
    /// waiting for a writer); the caller checks the handle's type. -1 on failure.
    /// </summary>
    public static int OpenReadNoFollow(int parent, string name) => OpenAt(parent, name, NoFollow | NonBlock | NoCtty | CloseOnExec, 0);

    /// <summary>Creates or truncates a file for writing, refusing a link in its last component (0644); -1 on failure.</summary>
    public static int OpenWriteNoFollow(int parent, string name) => OpenAt(parent, name, WriteOnly | Create | Truncate | NoFollow | NonBlock | NoCtty | CloseOnExec, 0b110_100_100);

    /// <summary>
    /// Creates a file that must not exist (O_EXCL, which never follows a link, even a dangling one), 0666 less the umask,
    /// and writes <paramref name="bytes"/> to it: 0, or the errno when it could not (17, EEXIST: something is there).
    /// </summary>
    public static int CreateNew(string path, ReadOnlySpan<byte> bytes, UnixFileMode? mode)
    {
        var handle = OpenAt(AtFdCwd, path, WriteOnly | Create | Exclusive | NoFollow | NoCtty | CloseOnExec, 0b110_110_110);
        if (handle < 0)
        {
            return Marshal.GetLastPInvokeError();
        }
        var error = WriteAll(handle, bytes);
        if (error == 0 && mode is { } permissions && FchMod(handle, (uint)permissions) != 0)
        {
            error = Marshal.GetLastPInvokeError();
        }
        _ = NativeClose(handle);
        if (error != 0)
        {
            _ = UnlinkAt(AtFdCwd, path, 0); // made here, half written: not left behind
        }
        return error;
    }

    /// <summary>
    /// Opens a kernel control file (a cgroup's, /proc's) by path, following links as the kernel's own trees have them:
    /// never for a tree someone else controls. -1 with the errno on failure.
    /// </summary>
    public static int OpenControl(string path, bool write) => OpenAt(AtFdCwd, path, (write ? WriteOnly : 0) | CloseOnExec, 0);

    /// <summary>read(2) into <paramref name="into"/>, again on EINTR: the count, 0 at the end, or -1 with the errno.</summary>
    public static int Read(int handle, Span<byte> into)
    {
        nint read;
        do
        {
            read = NativeRead(handle, ref MemoryMarshal.GetReference(into), into.Length);
        }
        while (read < 0 && Marshal.GetLastPInvokeError() == Interrupted);
        return (int)read;
    }

    /// <summary>write(2) of all of <paramref name="bytes"/>, again on EINTR: 0, or the errno (EIO when the disk took nothing).</summary>
    public static int WriteAll(int handle, ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            var written = NativeWrite(handle, ref MemoryMarshal.GetReference(bytes), bytes.Length);
            if (written > 0)
            {
                bytes = bytes[(int)written..];
            }
            else if (written == 0)
            {
                return 5; // EIO
            }
            else if (Marshal.GetLastPInvokeError() is var error and not Interrupted)
            {
                return error;
            }
        }
        return 0;
    }

    /// <summary>The exception File's methods throw for <paramref name="errno"/> on <paramref name="path"/>.</summary>
    public static IOException Failure(int errno, string path) => errno switch
    {
        // As File.Open tells them apart: a folder gone (a removed cgroup, a run directory) is not a missing file.
        2 when !System.IO.Directory.Exists(Path.GetDirectoryName(path)) => new DirectoryNotFoundException($"Could not find a part of the path '{path}'."),
        2 => new FileNotFoundException($"Could not find file '{path}'.", path),
        _ => new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno),
    };

    /// <summary>
    /// fsync(2) of a directory: the entries made, linked or renamed in it so far are on disk when it returns, which a
    /// file's own fsync does not promise for its name. Throws <see cref="IOException"/>.
    /// </summary>
    public static void SyncDirectory(string path)
    {
        var handle = OpenAt(AtFdCwd, path, Directory | CloseOnExec, 0);
        if (handle < 0)
        {
            throw Failure(Marshal.GetLastPInvokeError(), path);
        }
        try
        {
            if (NativeFsync(handle) != 0)
            {
                throw Failure(Marshal.GetLastPInvokeError(), path);
            }
        }
        finally
        {
            _ = NativeClose(handle);
        }
    }

    /// <summary>mkdirat (0755): true when made or already there (the caller opens it without following a link).</summary>
    public static bool MakeDirectory(int parent, string name) => MkdirAt(parent, name, 0b111_101_101) == 0 || Marshal.GetLastPInvokeError() == 17;

    /// <summary>lstat relative to a directory handle: the entry itself, a link included, never what it points at.</summary>
    public static bool TryStat(int parent, string name, out FileStatus status) => Stat(parent, name, AtSymlinkNoFollow, out status);

    /// <summary>stat of a path, its links followed: for /proc/PID/exe, the program the process runs, even once it was deleted or replaced.</summary>
    public static bool TryStatFollowing(string path, out FileStatus status) => Stat(AtFdCwd, path, 0, out status);

    /// <summary>fstat: what an open handle refers to, whatever its name now is.</summary>
    public static bool TryStat(int handle, out FileStatus status) => Stat(handle, "", AtEmptyPath, out status);

    /// <summary>
    /// fchownat with AT_SYMLINK_NOFOLLOW: gives the entry itself (a link stays a link, its target untouched) to
    /// the user and group; an empty name changes the directory handle's own directory.
    /// </summary>
    public static bool ChangeOwner(int parent, string name, uint uid, uint gid) =>
        FchownAt(parent, name, uid, gid, name.Length == 0 ? AtEmptyPath : AtSymlinkNoFollow) == 0;

    /// <summary>A link's target as text, read relative to its directory; null when it is not a link (any more).</summary>
    public static string? ReadLink(int parent, string name)
    {
        var buffer = new byte[4096];
        var length = ReadLinkAt(parent, name, buffer, buffer.Length);
        return length < 0 || length >= buffer.Length ? null : System.Text.Encoding.UTF8.GetString(buffer, 0, (int)length);
    }

    /// <summary>unlinkat: removes the entry itself (a link, never what it points at), or an empty directory when asked.</summary>
    public static bool Remove(int parent, string name, bool directory) => UnlinkAt(parent, name, directory ? AtRemoveDir : 0) == 0;

    /// <summary>renameat within one file system: moves the entry itself, a link included, never following one.</summary>
    public static bool Move(int parent, string name, int newParent, string newName) => RenameAt(parent, name, newParent, newName) == 0;

    /// <summary>unlink(2) of a path: 0, or the errno (2, ENOENT: nothing there). File.Delete adds a stat of the folder when nothing is there.</summary>
    public static int Unlink(string path) => Remove(AtFdCwd, path, directory: false) ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>rename(2) of one path over another: 0, or the errno. File.Move adds an lstat of the source.</summary>
    public static int Rename(string path, string newPath) => Move(AtFdCwd, path, AtFdCwd, newPath) ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>fchmod on an open handle: whatever its name now is, never through a link.</summary>
    public static bool ChangeMode(int handle, UnixFileMode mode) => FchMod(handle, (uint)mode) == 0;

    /// <summary>
    /// Opens a subdirectory (refusing a link: one swapped in since readdir fails to open and is skipped), hands its
    /// handle to <paramref name="use"/> and closes it; false when it could not be opened.
    /// </summary>
    public static bool InDirectory(int parent, string name, Action<int> use)
    {
        var child = OpenDirectory(parent, name);
        if (child < 0)
        {
            return false;
        }
        try
        {
            use(child);
            return true;
        }
        finally
        {
            Close(child);
        }
    }

    public static SafeFileHandle Own(int handle) => new(handle, ownsHandle: true);

    public static void Close(int handle)
    {
        if (handle >= 0)
        {
            _ = NativeClose(handle);
        }
    }

    /// <summary>Names and types (d_type) of a directory's entries, without . and ..; stops after <paramref name="max"/>.</summary>
    /// <returns>Whether the directory held more than <paramref name="max"/> entries.</returns>
    public static bool ReadEntries(int directory, List<(string Name, byte Type)> into, int max)
    {
        // fdopendir takes the descriptor it is given: hand it a fresh one of the same directory ("."
        // relative to the handle), so the caller's handle stays open for the *at calls on the entries.
        var own = OpenAt(directory, ".", Directory | CloseOnExec, 0);
        var stream = own < 0 ? IntPtr.Zero : FdOpenDir(own);
        if (stream == IntPtr.Zero)
        {
            Close(own);
            return false;
        }
        try
        {
            while (ReadDir(stream) is var entry && entry != IntPtr.Zero)
            {
                // struct dirent on 64-bit Linux (glibc and musl): d_ino 8, d_off 8, d_reclen 2, d_type 1, d_name.
                var name = Marshal.PtrToStringUTF8(entry + 19)!;
                if (name is "." or "..")
                {
                    continue;
                }
                if (into.Count >= max)
                {
                    return true;
                }
                into.Add((name, Marshal.ReadByte(entry, 18)));
            }
            return false;
        }
        finally
        {
            _ = CloseDir(stream);
        }
    }

    private static bool Stat(int directory, string name, int flags, out FileStatus status)
    {
        // statx rather than fstatat: its buffer has one layout on every architecture, struct stat has not.
        if (NativeStatx(directory, name, flags, StatxBasicStats, out var buffer) != 0)
        {
            status = default;
            return false;
        }
        status = new FileStatus(buffer.Mode, buffer.LinkCount, buffer.Owner, (long)buffer.Size,
            DateTimeOffset.FromUnixTimeSeconds(buffer.ModifiedSeconds).AddTicks(buffer.ModifiedNanoseconds / 100))
        {
            AllocatedBytes = (long)buffer.Blocks * 512,
            Inode = buffer.Inode,
            Device = ((ulong)buffer.DeviceMajor << 32) | buffer.DeviceMinor,
        };
        return true;
    }

    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(16)] public uint LinkCount;
        [FieldOffset(20)] public uint Owner;
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Inode;
        [FieldOffset(40)] public ulong Size;
        [FieldOffset(48)] public ulong Blocks;
        [FieldOffset(112)] public long ModifiedSeconds;
        [FieldOffset(120)] public uint ModifiedNanoseconds;
        [FieldOffset(136)] public uint DeviceMajor;
        [FieldOffset(140)] public uint DeviceMinor;
    }

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int OpenAt(int directory, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "fchownat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int FchownAt(int directory, string path, uint uid, uint gid, int flags);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int NativeStatx(int directory, string path, int flags, uint mask, out StatxBuffer buffer);

    [LibraryImport("libc", EntryPoint = "readlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint ReadLinkAt(int directory, string path, [Out] byte[] buffer, nint size);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int MkdirAt(int directory, string path, uint mode);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int UnlinkAt(int directory, string path, int flags);

    [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int RenameAt(int directory, string path, int newDirectory, string newPath);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int FchMod(int handle, uint mode);

    [LibraryImport("libc", EntryPoint = "fdopendir", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial IntPtr FdOpenDir(int handle);

    [LibraryImport("libc", EntryPoint = "readdir", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial IntPtr ReadDir(IntPtr stream);

    [LibraryImport("libc", EntryPoint = "closedir")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int CloseDir(IntPtr stream);

    [LibraryImport("libc", EntryPoint = "close")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int NativeClose(int handle);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int NativeFsync(int handle);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint NativeRead(int handle, ref byte buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint NativeWrite(int handle, ref byte buffer, nint count);
}

/// <summary>What statx says of one entry; the type is in the high bits of <see cref="Mode"/>, as in st_mode.</summary>
internal readonly record struct FileStatus(ushort Mode, uint LinkCount, uint Owner, long Size, DateTimeOffset ModifiedAt)
{
    /// <summary>What it takes on disk (st_blocks × 512), which a sparse file keeps below its size.</summary>
    public long AllocatedBytes { get; init; }

    public ulong Inode { get; init; }

    /// <summary>The file system it is on (major and minor device numbers): a walk never crosses into another.</summary>
    public ulong Device { get; init; }

    public const byte TypeUnknown = 0, TypeDirectory = 4, TypeRegular = 8, TypeLink = 10;

    public bool IsRegular => (Mode & 0xF000) == 0x8000;
    public bool IsDirectory => (Mode & 0xF000) == 0x4000;
    public bool IsLink => (Mode & 0xF000) == 0xA000;

    /// <summary>The entry's type as readdir's d_type gives it.</summary>
    public byte DirentType => IsRegular ? TypeRegular : IsDirectory ? TypeDirectory : IsLink ? TypeLink : (byte)1;

    public UnixFileMode Permissions => (UnixFileMode)(Mode & 0x1FF);
}
