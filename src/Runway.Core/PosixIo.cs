using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Runway;

/// <summary>The libc calls for who owns what: the process's user and umask, accounts, ownership, reflinks.</summary>
public static partial class PosixIo
{
    // FICLONE = _IOW(0x94, 9, int): the same number on every Linux architecture .NET runs on.
    private const ulong FiClone = 0x40049409;

    /// <summary>The effective user id of this process: 0 when it runs as root.</summary>
    public static uint EffectiveUserId() => GetEuid();

    /// <summary>Sets the process's file creation mask and returns the previous one.</summary>
    public static uint SetUmask(uint mask) => Umask(mask);

    /// <summary>The account's uid and gid, or null when there is no such account.</summary>
    public static (uint Uid, uint Gid)? Account(string name)
    {
        if (name.Length == 0 || name.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }
        var entry = GetPwNam(name);
        // struct passwd on 64-bit Linux: pw_name 0, pw_passwd 8, pw_uid 16, pw_gid 20.
        return entry == IntPtr.Zero ? null : ((uint)Marshal.ReadInt32(entry, 16), (uint)Marshal.ReadInt32(entry, 20));
    }

    /// <summary>
    /// Makes <paramref name="target"/> share <paramref name="source"/>'s blocks copy-on-write (ioctl FICLONE):
    /// no copy, and a write to either never reaches the other. False where the file system cannot (ext4, or
    /// across file systems): the caller copies instead.
    /// </summary>
    public static bool Reflink(SafeFileHandle source, SafeFileHandle target) =>
        IoctlClone(target, FiClone, source) == 0;

    [LibraryImport("libc", EntryPoint = "geteuid")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "umask")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial uint Umask(uint mask);

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial IntPtr GetPwNam(string name);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int IoctlClone(SafeFileHandle target, ulong request, SafeFileHandle source);
}
