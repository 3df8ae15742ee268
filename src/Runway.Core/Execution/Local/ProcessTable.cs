using System.Globalization;

namespace Runway.Execution.Local;

/// <summary>
/// Reads /proc: whether a pid is still the process Runway started (pids are reused, start times are not),
/// and whether a process group still has live members. Zombies count as gone: this machine's init may
/// reap orphans late, and a zombie runs nothing.
/// </summary>
internal static class ProcessTable
{
    /// <summary>Start time of the process in clock ticks since boot (/proc/pid/stat field 22), or null if it is gone.</summary>
    public static long? StartTime(int pid) => Read(pid) is { } stat && stat.State != 'Z' ? stat.StartTime : null;

    /// <summary>Start time of an unreaped child, even one that has already exited (a zombie keeps its /proc entry).</summary>
    public static long? StartTimeOfChild(int pid) => Read(pid)?.StartTime;

    /// <summary>
    /// Whether signalling group <paramref name="processGroup"/> can only reach the run whose leader started at
    /// <paramref name="leaderStart"/>: its leader is that process, or gone (a pid is never reused while a
    /// group still bears its number). False when the number now belongs to another process.
    /// </summary>
    public static bool IsGroupOf(int processGroup, long? leaderStart) =>
        leaderStart is null || Read(processGroup) is not { } stat || stat.StartTime == leaderStart;

    /// <summary>The process group of a live process, or null if it is gone.</summary>
    public static int? ProcessGroup(int pid) => Read(pid) is { } stat && stat.State != 'Z' ? stat.ProcessGroup : null;

    /// <summary>Whether <paramref name="pid"/> runs and, when <paramref name="startTime"/> is known, is the same process.</summary>
    public static bool IsAlive(int pid, long? startTime) =>
        StartTime(pid) is { } actual && (startTime is null || actual == startTime);

    /// <summary>Whether any live (non-zombie) process belongs to the group.</summary>
    public static bool GroupAlive(int processGroup)
    {
        if (!Posix.Exists(-processGroup))
        {
            return false;
        }
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && Read(pid) is { State: not 'Z' } stat && stat.ProcessGroup == processGroup)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Clock ticks since boot now, on the clock of <see cref="StartTime"/> (USER_HZ is 100 on Linux).</summary>
    public static long Now()
    {
        var uptime = File.ReadAllText("/proc/uptime").Split(' ')[0];
        return (long)(double.Parse(uptime, NumberStyles.Float, CultureInfo.InvariantCulture) * 100);
    }

    /// <summary>Live children of <paramref name="parent"/> in <paramref name="processGroup"/> that started at or after tick <paramref name="since"/>.</summary>
    public static IReadOnlyList<int> ChildrenStartedSince(int parent, int processGroup, long since)
    {
        var found = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && Read(pid) is { State: not 'Z' } stat && stat.Parent == parent && stat.ProcessGroup == processGroup && stat.StartTime >= since)
            {
                found.Add(pid);
            }
        }
        return found;
    }

    /// <summary>
    /// The children of <paramref name="parent"/> that are still forks of it, not yet exec'd: their command
    /// line is the parent's own. A TERM that reaches one of them is caught by its copy of the parent's trap.
    /// </summary>
    public static IReadOnlyList<int> UnexecedChildren(int parent)
    {
        var own = CommandLine(parent);
        return own is null ? [] : [.. Children(parent).Where(child => CommandLine(child) == own)];
    }

    /// <summary>Whether <paramref name="pid"/> is still a child of <paramref name="parent"/> and has exec'd something else since.</summary>
    public static bool ExecedSince(int pid, int parent) =>
        Read(pid) is { State: not 'Z' } stat && stat.Parent == parent && CommandLine(pid) is { } line && line != CommandLine(parent);

    /// <summary>
    /// The first 4 KiB of the command line: a run sets its own, of any length, and a fork not yet exec'd
    /// has the parent's, so the start tells them apart without reading all of it every poll.
    /// </summary>
    private static string? CommandLine(int pid)
    {
        try
        {
            using var file = File.OpenHandle($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline");
            Span<byte> head = stackalloc byte[4096];
            return Convert.ToHexString(head[..RandomAccess.Read(file, head, 0)]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The process that runs the wrapper script of the run leading <paramref name="processGroup"/>: the leader
    /// itself, or, for an isolated run (the leader is unshare, see <see cref="RunIsolation"/>), the leader's
    /// child, its pid namespace's init. Null while unshare has not forked it yet, or once it is gone.
    /// </summary>
    public static int? Wrapper(int processGroup)
    {
        if (Comm(processGroup) != "unshare")
        {
            return processGroup;
        }
        foreach (var child in Children(processGroup))
        {
            return child;
        }
        return null;
    }

    /// <summary>
    /// Whether a TERM to the group now reaches the wrapper's trap. An isolated wrapper is a pid namespace's
    /// init, which the kernel spares every signal it has no handler for: until its trap is set, a TERM would
    /// be lost (and the command, not yet started, would run on). A plain wrapper dies of an early TERM, as
    /// it should: always ready.
    /// </summary>
    public static bool WrapperReady(int processGroup, out int? wrapper)
    {
        wrapper = Wrapper(processGroup);
        return wrapper == processGroup || (wrapper is { } init && Catches(init, Posix.SigTerm));
    }

    /// <summary>Whether the process has a handler for <paramref name="signal"/> (SigCgt of /proc/pid/status).</summary>
    public static bool Catches(int pid, int signal)
    {
        foreach (var line in ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status"))
        {
            if (line.StartsWith("SigCgt:", StringComparison.Ordinal))
            {
                return ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var caught)
                    && (caught & (1UL << (signal - 1))) != 0;
            }
        }
        return false;
    }

    private static string? Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/comm").TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Live children of <paramref name="pid"/>: from /proc/pid/task/pid/children where the kernel has it.</summary>
    private static IEnumerable<int> Children(int pid)
    {
        var self = pid.ToString(CultureInfo.InvariantCulture);
        string listed;
        try
        {
            listed = File.ReadAllText($"/proc/{self}/task/{self}/children");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Directory.Exists($"/proc/{self}") ? ChildrenStartedSince(pid, pid, 0) : [];
        }
        return listed.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture));
    }

    private static string[] ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static Stat? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
        var close = text.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }
        var fields = text[(close + 2)..].Split(' ');
        if (fields.Length < 20
            || !int.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var parent)
            || !int.TryParse(fields[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var group)
            || !long.TryParse(fields[19], NumberStyles.Integer, CultureInfo.InvariantCulture, out var start))
        {
            return null;
        }
        return new Stat(fields[0][0], parent, group, start);
    }

    private sealed record Stat(char State, int Parent, int ProcessGroup, long StartTime);
}
