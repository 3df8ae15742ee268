using System.Globalization;

namespace Runway.Bench;

/// <summary>What the benchmark reads of other processes: /proc, and Runway's own kill(2) (Posix) for signals and liveness.</summary>
internal static class ProcFs
{
    // The kernel reports CPU time in clock ticks; USER_HZ is 100 on every Linux this runs on.
    private const double TicksPerSecond = 100;

    public static TimeSpan CpuTime(int pid) => Ticks(pid, 11, 12);

    /// <summary>The kernel's share of <see cref="CpuTime"/>: system calls (file writes, fsync, spawning) and page faults.</summary>
    public static TimeSpan SystemCpuTime(int pid) => Ticks(pid, 12);

    /// <summary>cutime + cstime: the CPU time of the children the process has waited for (the run wrappers and commands).</summary>
    public static TimeSpan ChildrenCpuTime(int pid) => Ticks(pid, 13, 14);

    /// <summary>
    /// utime + stime + cutime + cstime of the live descendants of <paramref name="pid"/> (the run supervisor,
    /// which is never reaped while the server runs, and what it has reaped); a process that goes while it is
    /// read counts as nothing.
    /// </summary>
    public static TimeSpan LiveDescendantsCpuTime(int pid)
    {
        var total = TimeSpan.Zero;
        try
        {
            foreach (var child in Children(pid))
            {
                total += Ticks(child, 11, 12, 13, 14) + LiveDescendantsCpuTime(child);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return total;
    }

    /// <summary>
    /// utime + stime of the run supervisor the server started (its live child <c>runway-supervisor</c>), without the
    /// runs it reaped; zero where runs start without one.
    /// </summary>
    public static TimeSpan SupervisorCpuTime(int serverPid)
    {
        var total = TimeSpan.Zero;
        try
        {
            foreach (var child in Children(serverPid))
            {
                if (Path.GetFileName(Image(child)) == "runway-supervisor")
                {
                    total += Ticks(child, 11, 12);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return total;
    }

    /// <summary>The process's live children, from each thread's list (any thread may have spawned one); read lazily.</summary>
    private static IEnumerable<int> Children(int pid) =>
        Directory.EnumerateDirectories($"/proc/{pid}/task")
            .SelectMany(task => File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(child => int.Parse(child, CultureInfo.InvariantCulture));

    private static TimeSpan Ticks(int pid, params int[] fieldIndexes)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name, which is in parentheses and may hold spaces.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = fieldIndexes.Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture));
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    /// <summary>A "Vm…:" line of /proc/pid/status, in bytes.</summary>
    public static long Status(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var kb = line[key.Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }
        return 0;
    }

    public static void KillGroup(int pgid) => Posix.KillGroup(pgid, Posix.SigKill);

    public static bool Terminate(int pid) => Posix.Signal(pid, Posix.SigTerm);

    /// <summary>
    /// VmRSS of the process and of all its descendants alive now, from each thread's children list (any
    /// thread may have spawned one). A child that still runs the server's image is left out: between
    /// posix_spawn's clone and its exec it shares the server's memory, and would count it twice. A process
    /// that goes while it is read counts as nothing.
    /// </summary>
    public static long TreeRssBytes(int pid) => TreeRssBytes(pid, Image(pid));

    private static long TreeRssBytes(int pid, string? rootImage)
    {
        try
        {
            var total = Status(pid, "VmRSS:");
            foreach (var child in Children(pid))
            {
                if (Image(child) != rootImage)
                {
                    total += TreeRssBytes(child, rootImage);
                }
            }
            return total;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static string? Image(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/exe").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Whether any process of the group is left, zombies included (signal 0 to -pgid).</summary>
    public static bool GroupExists(int pgid) => pgid > 1 && Posix.Exists(-pgid);
}
