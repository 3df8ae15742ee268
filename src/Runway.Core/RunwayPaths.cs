using Runway.Runs;

namespace Runway;

/// <summary>
/// Where everything lives under the data directory, and the run directories (in the data directory's runs/,
/// or where <c>Runway:RunsDirectory</c> says: a Slurm cluster's compute nodes must see them). Every path
/// Runway writes is built here from ids it generated, never from a name a user typed, so nothing is written
/// outside these two directories.
/// </summary>
public sealed class RunwayPaths
{
    public RunwayPaths(string dataDirectory, string? runsDirectory = null)
    {
        DataDirectory = Path.GetFullPath(dataDirectory);
        RunsDirectory = string.IsNullOrEmpty(runsDirectory) ? Path.Combine(DataDirectory, "runs") : Path.GetFullPath(runsDirectory);
        FilesDirectory = Path.Combine(DataDirectory, "files");
        UploadsDirectory = Path.Combine(DataDirectory, "tmp");
        BlobsDirectory = Path.Combine(DataDirectory, "blobs");
    }

    public string DataDirectory { get; }

    /// <summary>Where run directories live: the data directory's runs/ unless configured elsewhere.</summary>
    public string RunsDirectory { get; }

    /// <summary>Uploaded files stored before blobs, one file per file id (read where they are: FileStore).</summary>
    public string FilesDirectory { get; }

    /// <summary>Uploads in progress, moved into <see cref="FilesDirectory"/> once complete and hashed.</summary>
    public string UploadsDirectory { get; }

    /// <summary>Uploaded bytes, one file per sha256 however many uploads share it (FileStore).</summary>
    public string BlobsDirectory { get; }

    /// <summary><c>blobs/&lt;first two hex digits&gt;/&lt;sha256&gt;</c>: 256 folders keep each small.</summary>
    public string BlobPath(string sha256) =>
        sha256.Length == 64 && sha256.All(char.IsAsciiHexDigitLower)
            ? Path.Combine(BlobsDirectory, sha256[..2], sha256)
            : throw new ArgumentException($"'{sha256}' is not a lowercase sha256", nameof(sha256));

    /// <summary>Where an upload's bytes are: its blob, or for a file stored before blobs (or a hash unknown), <c>files/&lt;id&gt;</c>.</summary>
    public string UploadPath(string? sha256, string fileId) =>
        sha256 is not null && File.Exists(BlobPath(sha256)) ? BlobPath(sha256) : FilePath(fileId);

    public string RunDirectory(string runId) => Path.Combine(RunsDirectory, RunIdGuard(runId));

    public string FilePath(string fileId) => Path.Combine(FilesDirectory, RunIdGuard(fileId));

    /// <summary>
    /// Refuses a runs directory that Runway would damage or that would expose what it must hide: the root, the
    /// data directory or a directory above it (MakePrivate makes the runs directory 0700, and a run sees its
    /// own directory only), one of Runway's own directories, or an existing directory holding anything but run
    /// directories (a mistyped <c>--runs-dir /home</c> must not change its mode). A dedicated filesystem's
    /// lost+found and dot-files are allowed. Only a configured runs directory is checked: the default is Runway's.
    /// </summary>
    public void CheckRunsDirectory()
    {
        if (RunsDirectory == Path.Combine(DataDirectory, "runs"))
        {
            return;
        }
        var trimmed = Path.TrimEndingDirectorySeparator(RunsDirectory);
        if (trimmed == Path.GetPathRoot(RunsDirectory))
        {
            throw new StartRefusedException("the runs directory may not be the root directory (Runway:RunsDirectory, --runs-dir)");
        }
        if (Within(DataDirectory, trimmed) || DataDirectory == trimmed)
        {
            throw new StartRefusedException($"the runs directory '{RunsDirectory}' is the data directory or above it: give it a directory of its own (Runway:RunsDirectory, --runs-dir)");
        }
        foreach (var own in (string[])[FilesDirectory, UploadsDirectory, BlobsDirectory, Path.Combine(DataDirectory, "keys")])
        {
            if (trimmed == own || Within(trimmed, own))
            {
                throw new StartRefusedException($"the runs directory '{RunsDirectory}' is inside Runway's own '{own}' (Runway:RunsDirectory, --runs-dir)");
            }
        }
        if (!Directory.Exists(RunsDirectory))
        {
            return;
        }
        // Bounded: a runs directory of a million runs is not walked at every start.
        foreach (var name in Directory.EnumerateFileSystemEntries(RunsDirectory).Select(Path.GetFileName).Take(1000))
        {
            if (name is null || !(Ids.IsRunId(name) || name.StartsWith('.') || name == "lost+found"))
            {
                throw new StartRefusedException(
                    $"the runs directory '{RunsDirectory}' holds '{name}', which is not a run directory: give Runway an empty or new directory (Runway:RunsDirectory, --runs-dir)");
            }
        }

        // Whether path is strictly inside directory.
        static bool Within(string path, string directory) => path.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    public void EnsureCreated()
    {
        Directory.CreateDirectory(RunsDirectory);
        Directory.CreateDirectory(FilesDirectory);
        Directory.CreateDirectory(UploadsDirectory);
        Directory.CreateDirectory(BlobsDirectory);
    }

    /// <summary>
    /// Nobody but the server's user may read the data directory, whatever the isolation of runs: it holds
    /// runway.db (password and token hashes), the keys and every user's uploads. The data directory and
    /// Runway's directories in it become 0700, Runway's files 0600: what an older Runway, or a hand, left
    /// more open. The run directories inside runs/ are the runs' own (runs/ itself is 0700, as is a runs
    /// directory elsewhere: runs see their own directory through a bind mount, never by walking it; see
    /// RunIsolation). New files get these modes from the server's umask 077 (Program.cs). Links are left
    /// alone, never followed.
    /// </summary>
    public void MakePrivate()
    {
        const UnixFileMode directoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        const UnixFileMode fileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        File.SetUnixFileMode(DataDirectory, directoryMode);
        SetMode(new DirectoryInfo(RunsDirectory), directoryMode);
        foreach (var entry in new DirectoryInfo(DataDirectory).EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null)
            {
                continue;
            }
            if (entry is FileInfo)
            {
                SetMode(entry, fileMode);
                continue;
            }
            SetMode(entry, directoryMode);
            if (entry.FullName == RunsDirectory)
            {
                continue;
            }
            foreach (var file in ((DirectoryInfo)entry).EnumerateFiles())
            {
                if (file.LinkTarget is null)
                {
                    SetMode(file, fileMode);
                }
            }
        }

        // A stat is cheap, a chmod dirties the inode: a start over many uploads changes only what is off.
        static void SetMode(FileSystemInfo entry, UnixFileMode mode)
        {
            if (entry.UnixFileMode != mode)
            {
                entry.UnixFileMode = mode;
            }
        }
    }

    /// <summary>
    /// Resolves a user-given relative path inside <paramref name="root"/>, or null when it would leave it
    /// (absolute, <c>..</c>, or through a symbolic link that points outside).
    /// </summary>
    public static string? ResolveInside(string root, string relative)
    {
        if (string.IsNullOrEmpty(relative) || Path.IsPathRooted(relative) || relative.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }
        var rootFull = Path.GetFullPath(root);
        var full = Path.GetFullPath(Path.Combine(rootFull, relative));
        if (!full.StartsWith(rootFull + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return null;
        }
        // A link inside the directory could point anywhere: compare the real paths, every link resolved.
        var realRoot = Posix.RealPath(rootFull);
        var real = File.Exists(full) || Directory.Exists(full) ? Posix.RealPath(full) : RealParent(full);
        if (realRoot is null || real is null)
        {
            return null;
        }
        return real.StartsWith(realRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? real : null;
    }

    private static string? RealParent(string path)
    {
        var parent = Path.GetDirectoryName(path);
        var realParent = parent is null ? null : Posix.RealPath(parent);
        return realParent is null ? null : Path.Combine(realParent, Path.GetFileName(path));
    }

    private static string RunIdGuard(string id) =>
        id.Length > 0 && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
            ? id
            : throw new ArgumentException($"'{id}' is not an id Runway generated", nameof(id));
}

/// <summary>Configuration the server refuses to start with; its message says what to change. The command line prints it and exits 1.</summary>
public class StartRefusedException(string message, Exception? inner = null) : Exception(message, inner);
