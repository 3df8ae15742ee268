namespace Runway.Execution;

/// <summary>A file or a symbolic link found in a run directory, by its path relative to it.</summary>
public sealed record RunEntry(string Path, long Size, DateTimeOffset ModifiedAt, string? LinkTarget = null)
{
    public bool IsLink => LinkTarget is not null;
}

/// <summary>What a walk found, and whether it stopped at a limit before seeing everything.</summary>
public sealed record RunTreeListing(IReadOnlyList<RunEntry> Entries, bool Truncated);

/// <summary>
/// How much of a run directory one request may look at. A run can create millions of entries or a tree
/// thousands of levels deep; these keep a listing or an archive bounded in time, memory and open handles.
/// </summary>
public sealed record RunTreeLimits(int MaxEntries = 10_000, int MaxVisited = 100_000, int MaxDepth = 32)
{
    public static readonly RunTreeLimits Default = new();
}

/// <summary>
/// Reads a run directory that the run controls and may have filled with anything: links out of it, link
/// loops, FIFOs, devices, hard links to other people's files, endless trees.
/// </summary>
/// <remarks>
/// The rules, which hold for every caller (listing, download, archive, log):
/// <list type="number">
/// <item>Everything is opened relative to a directory handle, one component at a time, with O_NOFOLLOW:
/// a link is never followed, not even one pointing inside the directory, so nothing outside can be
/// reached and nothing loops. A directory swapped for a link mid-walk fails to open and is skipped.</item>
/// <item>Only regular files are read, and only after fstat on the open handle says so (the open itself is
/// O_NONBLOCK, so a FIFO swapped in cannot make it wait). Links are reported with their target text;
/// FIFOs, sockets and devices are left out.</item>
/// <item>A regular file with more than one link whose owner is not the run directory's owner is left out:
/// it may be a hard link to a file the run could not read itself (made by a privileged run, or where
/// fs.protected_hardlinks is off), which Runway would otherwise read with its own rights. A file the run
/// directory's owner owns is the run's own, however many names it has.</item>
/// <item>A file is read up to the length fstat gave when it was opened (<see cref="RunFileStream"/>).</item>
/// </list>
/// </remarks>
public sealed class RunTree : IDisposable
{
    private readonly int root;
    private readonly uint owner;

    private RunTree(int root, uint owner)
    {
        this.root = root;
        this.owner = owner;
    }

    /// <summary>Opens the run directory itself, refusing it when it is missing or a link; null then.</summary>
    public static RunTree? Open(string runDirectory)
    {
        var handle = PosixFiles.OpenDirectory(PosixFiles.AtFdCwd, runDirectory);
        if (handle < 0)
        {
            return null;
        }
        if (!PosixFiles.TryStat(handle, out var status))
        {
            PosixFiles.Close(handle);
            return null;
        }
        return new RunTree(handle, status.Owner);
    }

    /// <summary>
    /// Files (and, when asked, links) whose path <paramref name="wanted"/> keeps, in directories that
    /// <paramref name="descend"/> accepts. One readdir pass per directory and one statx per wanted file.
    /// </summary>
    /// <param name="wanted">Given the paths of one directory's files and links, the ones wanted: one call per
    /// directory, as glob matching costs far more per call than per path.</param>
    public RunTreeListing List(
        Func<IReadOnlyList<string>, IReadOnlySet<string>> wanted, Func<string, bool> descend, bool includeLinks, RunTreeLimits? limits = null)
    {
        var walk = new Walk(this, wanted, descend, includeLinks, limits ?? RunTreeLimits.Default);
        walk.Directory(root, "", depth: 0);
        return new RunTreeListing(walk.Entries, walk.Truncated);
    }

    /// <summary>A regular file reached from the root without crossing a link, or null.</summary>
    public RunFileStream? OpenFile(string relativePath) => InParent<RunFileStream?>(relativePath, null, (directory, name) =>
    {
        var handle = PosixFiles.OpenReadNoFollow(directory, name);
        if (handle < 0)
        {
            return null;
        }
        if (!PosixFiles.TryStat(handle, out var status) || !Readable(status))
        {
            PosixFiles.Close(handle);
            return null;
        }
        return new RunFileStream(PosixFiles.Own(handle), status);
    });

    /// <summary>
    /// Gives the run directory itself ("") or an entry in it to <paramref name="uid"/>:<paramref name="gid"/>,
    /// reached without crossing a link and changing a link itself rather than what it points at: a directory
    /// the run of an earlier attempt swapped for a link cannot make Runway hand over a file outside.
    /// </summary>
    public bool ChangeOwner(string relativePath, uint uid, uint gid) => relativePath.Length == 0
        ? PosixFiles.ChangeOwner(root, "", uid, gid)
        : InParent(relativePath, false, (directory, name) => PosixFiles.ChangeOwner(directory, name, uid, gid));

    /// <summary>The space the directory takes (allocated bytes, <see cref="RunTreeSpace"/>), by a bounded walk that follows no link.</summary>
    public RunTreeUsage Measure(RunTreeLimits? limits = null) => RunTreeSpace.Measure(root, limits ?? RunTreeLimits.Default);

    /// <summary>
    /// Removes a run directory and everything in it, links as links (what they point at stays), in bounded passes
    /// (<see cref="RunTreeSpace"/>). The caller makes sure no run uses it any more.
    /// </summary>
    public static RunTreeRemoval Remove(string runDirectory, RunTreeLimits? limits = null) => RunTreeSpace.Remove(runDirectory, limits ?? RunTreeLimits.Default);

    public void Dispose() => PosixFiles.Close(root);

    /// <summary>
    /// Opens the directories of <paramref name="relativePath"/> one at a time from the root, refusing links,
    /// and hands the last one's handle and the last name to <paramref name="use"/>; <paramref name="missing"/>
    /// when a segment is not a plain name or a directory on the way is missing or a link.
    /// </summary>
    private T InParent<T>(string relativePath, T missing, Func<int, string, T> use)
    {
        var segments = relativePath.Split('/');
        if (segments.Any(s => s is "" or "." or ".." || s.Contains('\0', StringComparison.Ordinal)))
        {
            return missing;
        }
        var directory = root;
        try
        {
            foreach (var segment in segments[..^1])
            {
                var next = PosixFiles.OpenDirectory(directory, segment);
                if (directory != root)
                {
                    PosixFiles.Close(directory);
                }
                directory = next;
                if (directory < 0)
                {
                    return missing;
                }
            }
            return use(directory, segments[^1]);
        }
        finally
        {
            if (directory != root)
            {
                PosixFiles.Close(directory);
            }
        }
    }

    private bool Readable(FileStatus status) => status.IsRegular && (status.LinkCount <= 1 || status.Owner == owner);

    private sealed class Walk(
        RunTree tree, Func<IReadOnlyList<string>, IReadOnlySet<string>> wanted, Func<string, bool> descend, bool includeLinks, RunTreeLimits limits)
    {
        private int visited;
        private bool full;

        public List<RunEntry> Entries { get; } = [];
        public bool Truncated { get; private set; }

        public void Directory(int handle, string prefix, int depth)
        {
            var names = new List<(string Name, byte Type)>();
            Truncated |= PosixFiles.ReadEntries(handle, names, limits.MaxVisited - visited);
            visited += names.Count;
            names.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            var candidates = new List<(string Name, byte Type)>();
            var directories = new List<string>();
            foreach (var (name, direntType) in names)
            {
                var type = direntType;
                // Some file systems leave d_type unknown: ask statx, which never follows a link either.
                if (type == FileStatus.TypeUnknown && PosixFiles.TryStat(handle, name, out var status))
                {
                    type = status.DirentType;
                }
                if (type == FileStatus.TypeDirectory)
                {
                    directories.Add(name);
                }
                else if (type == FileStatus.TypeRegular || (type == FileStatus.TypeLink && includeLinks))
                {
                    candidates.Add((name, type));
                }
                // FIFOs, sockets and devices are left out without a look.
            }
            if (candidates.Count > 0)
            {
                var keep = wanted([.. candidates.Select(c => prefix + c.Name)]);
                foreach (var (name, type) in candidates.Where(c => keep.Contains(prefix + c.Name)))
                {
                    Add(handle, prefix + name, name, type);
                }
            }
            foreach (var name in directories)
            {
                Child(handle, name, prefix + name, depth);
            }
        }

        private void Add(int parent, string path, string name, byte type)
        {
            if (full || !PosixFiles.TryStat(parent, name, out var status))
            {
                return;
            }
            // Checked again by statx: the entry may have changed since readdir.
            RunEntry? entry = type switch
            {
                FileStatus.TypeRegular when tree.Readable(status) => new RunEntry(path, status.Size, status.ModifiedAt),
                FileStatus.TypeLink when status.IsLink && PosixFiles.ReadLink(parent, name) is { } target => new RunEntry(path, 0, status.ModifiedAt, target),
                _ => null,
            };
            if (entry is null)
            {
                return;
            }
            if (Entries.Count >= limits.MaxEntries)
            {
                Truncated = full = true;
                return;
            }
            Entries.Add(entry);
        }

        private void Child(int parent, string name, string path, int depth)
        {
            if (full || !descend(path))
            {
                return;
            }
            if (depth + 1 > limits.MaxDepth)
            {
                Truncated = true;
                return;
            }
            // O_NOFOLLOW: if the directory was replaced by a link since readdir, this fails and it is skipped.
            PosixFiles.InDirectory(parent, name, child => Directory(child, path + "/", depth + 1));
        }
    }
}
