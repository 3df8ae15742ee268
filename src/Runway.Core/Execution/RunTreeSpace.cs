namespace Runway.Execution;

/// <summary>What a run directory takes on disk; <paramref name="Truncated"/> when the walk stopped at a limit (a lower bound then).</summary>
public sealed record RunTreeUsage(long Bytes, int Entries, bool Truncated);

/// <summary>
/// What a removal did: the bytes it freed, the entries it removed, whether the directory is gone (false when a limit
/// was reached or something could not be removed), and whether there was a directory at all.
/// </summary>
public sealed record RunTreeRemoval(long FreedBytes, int Removed, bool Complete, bool Existed);

/// <summary>
/// Measures and removes run directories by <see cref="RunTree"/>'s rules: every entry is reached from a directory
/// handle without following a link (a link is removed as itself, what it points at is never touched), no walk
/// crosses into another file system mounted below, and every walk is bounded by <see cref="RunTreeLimits"/>.
/// </summary>
/// <remarks>
/// Sizes are allocated sizes (st_blocks × 512), not apparent ones: what the disk holds and a removal frees, so a
/// sparse file counts what it takes, not what it claims. A file with several names is counted once per walk (by
/// inode); removing one of several names frees nothing, and is counted as freeing nothing.
/// </remarks>
internal static class RunTreeSpace
{
    /// <summary>How many bounded passes a removal makes before it gives up for now (the next sweep goes on).</summary>
    private const int MaxPasses = 10;

    private const UnixFileMode OwnerAll = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static RunTreeUsage Measure(int root, RunTreeLimits limits)
    {
        if (!PosixFiles.TryStat(root, out var top))
        {
            return new RunTreeUsage(0, 0, false);
        }
        var walk = new Measuring(top.Device, limits);
        walk.Directory(root, depth: 0);
        return new RunTreeUsage(top.AllocatedBytes + walk.Bytes, walk.Entries, walk.Truncated);
    }

    public static RunTreeRemoval Remove(string runDirectory, RunTreeLimits limits)
    {
        var root = PosixFiles.OpenDirectory(PosixFiles.AtFdCwd, runDirectory);
        if (root < 0)
        {
            // Missing, or a link (which this does not follow: a run directory is never a link Runway made).
            return new RunTreeRemoval(0, 0, !Path.Exists(runDirectory), Existed: false);
        }
        long freed = 0;
        var removed = 0;
        try
        {
            if (!PosixFiles.TryStat(root, out var top))
            {
                return new RunTreeRemoval(0, 0, false, Existed: true);
            }
            MakeWritable(root, top);
            for (var pass = 0; pass < MaxPasses; pass++)
            {
                var walk = new Removing(root, top.Device, limits);
                walk.Directory(root, depth: 0);
                freed += walk.Freed;
                removed += walk.Removed;
                if (walk.Empty || walk.Removed + walk.Moved == 0)
                {
                    break;
                }
            }
            // rmdir never follows a link in its last component; it fails unless the directory is empty.
            if (PosixFiles.Remove(PosixFiles.AtFdCwd, runDirectory, directory: true))
            {
                return new RunTreeRemoval(freed + top.AllocatedBytes, removed + 1, true, Existed: true);
            }
            return new RunTreeRemoval(freed, removed, false, Existed: true);
        }
        finally
        {
            PosixFiles.Close(root);
        }
    }

    /// <summary>A directory the run made read-only for its owner cannot be emptied by that owner until it is made writable.</summary>
    private static void MakeWritable(int handle, FileStatus status)
    {
        if ((status.Permissions & OwnerAll) != OwnerAll)
        {
            PosixFiles.ChangeMode(handle, status.Permissions | OwnerAll);
        }
    }

    private sealed class Measuring(ulong device, RunTreeLimits limits)
    {
        private readonly HashSet<ulong> linked = [];
        private int visited;

        public long Bytes { get; private set; }
        public int Entries { get; private set; }
        public bool Truncated { get; private set; }

        public void Directory(int handle, int depth)
        {
            var names = new List<(string Name, byte Type)>();
            Truncated |= PosixFiles.ReadEntries(handle, names, limits.MaxVisited - visited);
            visited += names.Count;
            foreach (var (name, _) in names)
            {
                if (!PosixFiles.TryStat(handle, name, out var status) || status.Device != device)
                {
                    continue;
                }
                Entries++;
                if (status.LinkCount <= 1 || status.IsDirectory || linked.Add(status.Inode))
                {
                    Bytes += status.AllocatedBytes;
                }
                if (status.IsDirectory)
                {
                    Child(handle, name, depth);
                }
            }
        }

        private void Child(int parent, string name, int depth)
        {
            if (depth + 1 > limits.MaxDepth)
            {
                Truncated = true;
                return;
            }
            PosixFiles.InDirectory(parent, name, child => Directory(child, depth + 1));
        }
    }

    /// <summary>
    /// One bounded pass: removes what it reaches, depth first. A directory below the depth limit is moved up to the
    /// root under a new name (renameat, the same file system) for the next pass, so any depth is removed in passes
    /// that each hold at most <see cref="RunTreeLimits.MaxDepth"/> handles open.
    /// </summary>
    private sealed class Removing(int root, ulong device, RunTreeLimits limits)
    {
        private int visited;

        public long Freed { get; private set; }
        public int Removed { get; private set; }

        /// <summary>The root was emptied in this pass (nothing left, nothing moved up to it for the next).</summary>
        public bool Empty { get; private set; }

        /// <summary>Directories moved up to the root in this pass, below the depth limit.</summary>
        public int Moved { get; private set; }

        public void Directory(int handle, int depth)
        {
            var names = new List<(string Name, byte Type)>();
            var more = PosixFiles.ReadEntries(handle, names, limits.MaxVisited - visited);
            visited += names.Count;
            var left = more;
            foreach (var (name, _) in names)
            {
                left |= !RemoveEntry(handle, name, depth);
            }
            if (depth == 0)
            {
                Empty = !left && Moved == 0;
            }
        }

        /// <summary>Whether the entry is gone.</summary>
        private bool RemoveEntry(int parent, string name, int depth)
        {
            if (!PosixFiles.TryStat(parent, name, out var status))
            {
                return true; // gone meanwhile
            }
            if (status.IsDirectory)
            {
                if (status.Device != device)
                {
                    return false; // a mount point: never emptied, never removed
                }
                if (depth + 1 > limits.MaxDepth)
                {
                    Moved += PosixFiles.Move(parent, name, root, $".runway-purge-{status.Inode}") ? 1 : 0;
                    return false;
                }
                PosixFiles.InDirectory(parent, name, child =>
                {
                    MakeWritable(child, status);
                    Directory(child, depth + 1);
                });
            }
            // A file, a link (removed as itself), a FIFO or device node, or a directory now empty.
            if (!PosixFiles.Remove(parent, name, status.IsDirectory))
            {
                return false;
            }
            Removed++;
            Freed += status.LinkCount <= 1 || status.IsDirectory ? status.AllocatedBytes : 0;
            return true;
        }
    }
}
