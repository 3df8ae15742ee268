using System.Globalization;
using Runway.Runs;
using static Runway.Execution.Local.RunCgroups;

namespace Runway.Execution.Local;

/// <summary>
/// One run's cgroups, one directory per hierarchy (one in all under unified v2): its limits, the kill of all
/// it started, what it used, and whether the kernel's OOM killer struck in it.
/// </summary>
public sealed class RunCgroup
{
    private const long Period = 100_000; // µs: the CFS period, and cpus × this the quota
    private static readonly TimeSpan EmptyPoll = TimeSpan.FromMilliseconds(5);

    [Flags]
    internal enum Kind
    {
        Memory = 1,
        Cpu = 2,
        CpuAccounting = 4,
        Pids = 8,
        Kill = 16,
        All = Memory | Cpu | CpuAccounting | Pids | Kill,
    }

    internal sealed record Part(Kind Kind, string Directory);

    private readonly CgroupLayout layout;
    private readonly IReadOnlyList<Part> parts;

    internal RunCgroup(CgroupLayout layout, IReadOnlyList<Part> parts)
    {
        this.layout = layout;
        this.parts = parts;
    }

    internal IReadOnlyList<string> Directories => [.. parts.Select(p => p.Directory)];

    /// <summary>The cgroup.procs files the run's first process writes itself into before it execs.</summary>
    public IReadOnlyList<string> ProcsFiles => [.. parts.Select(p => Path.Combine(p.Directory, "cgroup.procs"))];

    private string KillDirectory => Of(Kind.Kill);

    internal void Limit(PipelineResources resources, int? pids)
    {
        var unified = layout == CgroupLayout.Unified;
        var memory = Of(Kind.Memory);
        if (resources.MemoryMb is { } mb)
        {
            var bytes = Number(mb * 1024 * 1024);
            if (unified)
            {
                Write(memory, "memory.max", bytes);
                WriteIfPresent(memory, "memory.swap.max", "0");
            }
            else
            {
                Write(memory, "memory.limit_in_bytes", bytes);
                // Memory plus swap at the same figure: no swap on top of the limit. Without swap accounting,
                // swappiness 0 is the most v1 offers (the kernel may still swap under global pressure).
                if (!WriteIfPresent(memory, "memory.memsw.limit_in_bytes", bytes))
                {
                    Write(memory, "memory.swappiness", "0");
                }
            }
        }
        var quota = Number((long)Math.Ceiling(resources.Cpus * Period));
        if (unified)
        {
            Write(Of(Kind.Cpu), "cpu.max", $"{quota} {Period}");
        }
        else
        {
            // A new cgroup's period is the kernel's default, 100 ms (Period): only the quota is written.
            Write(Of(Kind.Cpu), "cpu.cfs_quota_us", quota);
        }
        if (pids is { } most)
        {
            Write(Of(Kind.Pids), "pids.max", Number(most));
        }
    }

    /// <summary>Whether the kernel's OOM killer killed a process of this run (v2 memory.events, v1 memory.oom_control: oom_kill).</summary>
    public bool OutOfMemory =>
        Counter(Of(Kind.Memory), layout == CgroupLayout.Unified ? "memory.events" : "memory.oom_control", "oom_kill") > 0;

    /// <summary>CPU time (µs) and peak memory (bytes) of everything the run ran; null where the kernel does not say.</summary>
    /// <remarks>Hybrid: v2's cpu.stat where the unified part counts it (<see cref="RunCgroups"/>), else v1's cpuacct.usage (ns).</remarks>
    public (long? CpuMicroseconds, long? PeakMemoryBytes) Usage => layout == CgroupLayout.Unified
        ? (Counter(Of(Kind.CpuAccounting), "cpu.stat", "usage_usec"), ReadLong(Of(Kind.Memory), "memory.peak"))
        : (parts.First(p => (p.Kind & Kind.CpuAccounting) != 0).Kind.HasFlag(Kind.Kill)
                ? Counter(Of(Kind.CpuAccounting), "cpu.stat", "usage_usec")
                : ReadLong(Of(Kind.CpuAccounting), "cpuacct.usage") / 1000,
            ReadLong(Of(Kind.Memory), "memory.max_usage_in_bytes"));

    /// <summary>Whether any process is left in the run's cgroup.</summary>
    public bool Populated => Counter(KillDirectory, "cgroup.events", "populated") is not 0;

    /// <summary>
    /// SIGKILL to every process of the run, whatever its session or group (cgroup.kill; a kernel before 5.14 has
    /// none, and each process in cgroup.procs is killed instead), then waits until none is left.
    /// </summary>
    public async Task KillAsync(TimeProvider clock, CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(30);
        while (Populated && clock.GetUtcNow() < deadline)
        {
            if (!WriteIfPresent(KillDirectory, "cgroup.kill", "1"))
            {
                foreach (var pid in Processes())
                {
                    Posix.Signal(pid, Posix.SigKill);
                }
            }
            await Task.Delay(EmptyPoll, clock, cancellationToken);
        }
    }

    /// <summary>Removes the run's cgroups once empty; a cgroup that will not go is left to the next server's start.</summary>
    public void Remove()
    {
        foreach (var part in parts.Reverse())
        {
            TryRemove(part.Directory);
        }
    }

    internal static void TryRemove(string directory)
    {
        try
        {
            // rmdir, never a recursive delete: a cgroup's control files cannot be unlinked.
            Directory.Delete(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Busy (a process is still there) or gone already.
        }
    }

    private IEnumerable<int> Processes()
    {
        var text = ReadText(KillDirectory, "cgroup.procs") ?? "";
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                yield return pid;
            }
        }
    }

    private string Of(Kind kind) => parts.First(p => (p.Kind & kind) != 0).Directory;

    /// <summary>One open and one write (a control file takes its value in one write; no buffering, no locking).</summary>
    private static void Write(string directory, string file, string value) => ControlFiles.Write(Path.Combine(directory, file), value);

    private static bool WriteIfPresent(string directory, string file, string value)
    {
        try
        {
            Write(directory, file, value);
            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>A "name value" line of a flat keyed file (memory.events, cpu.stat, cgroup.events).</summary>
    private static long? Counter(string directory, string file, string name)
    {
        foreach (var line in (ReadText(directory, file) ?? "").Split('\n'))
        {
            var fields = line.Split(' ', 2);
            if (fields.Length == 2 && fields[0] == name && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }
        return null;
    }

    private static long? ReadLong(string directory, string file) =>
        long.TryParse(ReadText(directory, file)?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static string? ReadText(string directory, string file) => ControlFiles.Read(Path.Combine(directory, file));
}
