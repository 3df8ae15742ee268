using System.Globalization;
using Runway.Runs;

namespace Runway.Execution.Local;

/// <summary>How local runs are limited (wire names for /readyz: cgroup_v2, cgroup_hybrid, none).</summary>
public enum CgroupLayout
{
    /// <summary>No writable cgroup: no limits, and a stop reaches only the run's process group (and its pid namespace).</summary>
    None,

    /// <summary>cpu, memory and pids are v1 hierarchies; v2 (at /sys/fs/cgroup/unified) holds no controller but offers cgroup.kill.</summary>
    Hybrid,

    /// <summary>Unified cgroup v2 with the cpu, memory and pids controllers.</summary>
    Unified,
}

/// <summary>
/// The cgroups of local runs: one per run (<c>runway/runs/&lt;node&gt;/&lt;run id&gt;</c>) in each hierarchy, under
/// the server's own cgroup there, so an operator's limit on the server bounds its runs too. Each node has its
/// own folder: servers of one machine (tests start many) clean up only their own. The layout is
/// detected once per process (the recipe docs/…/containers-and-cgroups.md of the project's notes records
/// what this machine kind offers: hybrid, no systemd).
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>A run's first process joins every one of its cgroups before it execs anything (the supervisor's
/// forked child, or the chain's join step, <see cref="JoinScript"/>): a process moved after it forked would
/// leave its children behind.</item>
/// <item>cpus → a CFS quota (cpus × 100 ms per 100 ms), memory → a hard limit with no swap on top
/// (memsw, or swap.max 0; swappiness 0 where neither exists), pids → <c>Runway:Limits:Pids</c>.</item>
/// <item>Unified: the controllers must be enabled in subtree_control of every level above a run, and v2 lets no
/// cgroup with controllers enabled for its children hold processes: the server keeps out of runway/.</item>
/// </list>
/// </remarks>
public sealed class RunCgroups : IDisposable
{
    public const string Root = "/sys/fs/cgroup";
    private const string Runs = "runs";
    private static readonly Lazy<(CgroupLayout, string, IReadOnlyList<Hierarchy>)> Detected = new(() => Detect(Root));

    private static readonly string[] Controllers = ["cpu", "memory", "pids"];
    private static readonly TimeSpan SweepDelay = TimeSpan.FromMilliseconds(200);
    private readonly IReadOnlyList<Hierarchy> hierarchies;
    private readonly System.Collections.Concurrent.ConcurrentQueue<RunCgroup> ended = new();
    private int sweeping;
    private readonly string node = "";

    private RunCgroups(CgroupLayout layout, string detail, IReadOnlyList<Hierarchy> hierarchies, int? pidsLimit, string node = "")
    {
        this.node = node;
        Layout = layout;
        Detail = detail;
        this.hierarchies = hierarchies;
        PidsLimit = pidsLimit;
    }

    public CgroupLayout Layout { get; }

    /// <summary>What is enforced on this node, or why nothing is.</summary>
    public string Detail { get; }

    public int? PidsLimit { get; }

    public string WireName => Layout switch
    {
        CgroupLayout.Unified => "cgroup_v2",
        CgroupLayout.Hybrid => "cgroup_hybrid",
        _ => "none",
    };

    public static RunCgroups None(string detail) => new(CgroupLayout.None, detail, [], null);

    /// <summary>The layout of this machine (detected once per process) for <paramref name="node"/>'s runs, with its leftovers removed.</summary>
    public static RunCgroups Probe(int? pidsLimit, string node)
    {
        var (layout, detail, found) = Detected.Value;
        if (layout == CgroupLayout.None)
        {
            return None(detail);
        }
        // A node name as a directory name: its own characters where they are plain, else a hash of it.
        var folder = node.Length is > 0 and <= 64 && node.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && node[0] != '.'
            ? node
            : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(node)))[..32];
        // Without a pids limit a run's cgroup in the pids hierarchy would hold nothing worth its mkdir and rmdir.
        var used = pidsLimit is null ? [.. found.Where(h => h.Kind != RunCgroup.Kind.Pids)] : found;
        try
        {
            foreach (var hierarchy in used)
            {
                var scope = Directory.CreateDirectory(Path.Combine(hierarchy.Base, Runs, folder)).FullName;
                if (layout == CgroupLayout.Unified)
                {
                    File.WriteAllText(Path.Combine(scope, "cgroup.subtree_control"), "+cpu +memory +pids");
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return None($"runs are not limited: the node's cgroups could not be made ({e.Message}); a stop reaches only a run's process group");
        }
        var cgroups = new RunCgroups(layout, detail + (pidsLimit is { } most ? $"; at most {most} processes per run (Runway:Limits:Pids)" : ""), used, pidsLimit, folder);
        cgroups.RemoveEmpty();
        return cgroups;
    }

    /// <summary>
    /// The chain's join step: <c>sh -c JOIN sh FILE… -- PROGRAM ARGS…</c> writes 0 (itself) into each cgroup.procs
    /// FILE, then execs the rest, keeping its pid (the run's process group). Exit 125 as the isolate step's.
    /// </summary>
    internal const string JoinScript = """for f do shift; [ "$f" = -- ] && exec "$@"; echo 0 >"$f" || exit 125; done; exit 125""";

    /// <summary>Makes the run's cgroups and sets its limits; null when this node has none. Throws <see cref="ExecutorStartException"/> when it cannot.</summary>
    public RunCgroup? Create(string runId, PipelineResources resources)
    {
        if (Layout == CgroupLayout.None)
        {
            return null;
        }
        var cgroup = Of(runId);
        try
        {
            foreach (var directory in cgroup.Directories)
            {
                Directory.CreateDirectory(directory);
            }
            cgroup.Limit(resources, PidsLimit);
            return cgroup;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            cgroup.Remove();
            throw new ExecutorStartException($"could not set up the run's cgroups: {e.Message}", e);
        }
    }

    /// <summary>
    /// Removes an ended run's cgroups shortly, with those of the runs that ended meanwhile, off the path that records
    /// the run's end (an rmdir of a memory cgroup is the slowest step of the end). What a crash leaves, the next
    /// start removes (<see cref="Probe"/>).
    /// </summary>
    public void RemoveLater(RunCgroup cgroup)
    {
        ended.Enqueue(cgroup);
        if (Interlocked.CompareExchange(ref sweeping, 1, 0) == 0)
        {
            _ = SweepAsync();
        }
    }

    private async Task SweepAsync()
    {
        await Task.Delay(SweepDelay);
        // Reset before the drain: a cgroup queued after the drain's last look starts the next sweep.
        Volatile.Write(ref sweeping, 0);
        while (ended.TryDequeue(out var cgroup))
        {
            cgroup.Remove();
        }
    }

    /// <summary>The cgroups of a run started before (after a restart), or null when it has none.</summary>
    public RunCgroup? Find(string runId) =>
        Layout != CgroupLayout.None && Of(runId) is var cgroup && Directory.Exists(cgroup.Directories[0]) ? cgroup : null;

    private RunCgroup Of(string runId)
    {
        if (runId.Length == 0 || runId.Contains('/', StringComparison.Ordinal) || runId.StartsWith('.'))
        {
            throw new ArgumentException($"not a run id: {runId}", nameof(runId));
        }
        return new RunCgroup(Layout, [.. hierarchies.Select(h => new RunCgroup.Part(h.Kind, Path.Combine(h.Base, Runs, node, runId)))]);
    }

    /// <summary>
    /// The node's folders go with it (the server's container disposes this once the server has stopped): each server of a
    /// machine makes its own (tests and benchmarks start thousands), and every cgroup left behind is one more group the
    /// kernel walks on each CPU-quota write of every later run (tg_set_bandwidth: 3 % of a burst's samples with 4,000
    /// left; issue 10). A folder still holding a run that outlives the server stays.
    /// </summary>
    public void Dispose() => RemoveNodeFolders();

    /// <summary>Removes this node's folders once no run is left in them.</summary>
    internal void RemoveNodeFolders()
    {
        while (ended.TryDequeue(out var cgroup))
        {
            cgroup.Remove();
        }
        foreach (var hierarchy in hierarchies.Reverse())
        {
            RunCgroup.TryRemove(Path.Combine(hierarchy.Base, Runs, node));
        }
    }

    /// <summary>Removes the cgroups of runs that ended while no server watched them (a run still running keeps its own).</summary>
    private void RemoveEmpty()
    {
        foreach (var hierarchy in hierarchies)
        {
            try
            {
                foreach (var directory in Directory.EnumerateDirectories(Path.Combine(hierarchy.Base, Runs, node)))
                {
                    if (File.ReadAllText(Path.Combine(directory, "cgroup.procs")).Length == 0)
                    {
                        RunCgroup.TryRemove(directory);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not a cgroup: the next start looks again.
            }
        }
    }

    /// <summary>The layout and its hierarchies, or None with why (never throws).</summary>
    internal static (CgroupLayout, string, IReadOnlyList<Hierarchy>) Detect(string root)
    {
        try
        {
            var own = OwnCgroups();
            if (File.Exists(Path.Combine(root, "cgroup.controllers")))
            {
                return Unified(root, own.GetValueOrDefault("") ?? "/");
            }
            string[] v1 = ["memory", "cpu", "cpuacct", "pids"];
            var missing = v1.Where(c => !own.ContainsKey(c) || !Directory.Exists(Path.Combine(root, c))).ToList();
            if (missing.Count > 0 || !File.Exists(Path.Combine(root, "unified", "cgroup.procs")))
            {
                return (CgroupLayout.None, $"runs are not limited: no cgroup v2, and no v1 {string.Join(", ", missing.DefaultIfEmpty("v2 tree at unified/"))} hierarchy; a stop reaches only a run's process group", []);
            }
            var found = new List<Hierarchy>();
            // v2's cpu.stat counts a cgroup's CPU time (usage_usec) with no controller enabled (Linux 5.x and later):
            // where it does, a run's cgroup in the cpuacct hierarchy would be one more mkdir and rmdir per run for
            // the same figure (issue 10).
            var unifiedCounts = File.Exists(Path.Combine(root, "unified", "cpu.stat"));
            foreach (var (name, kind) in (ReadOnlySpan<(string, RunCgroup.Kind)>)[("memory", RunCgroup.Kind.Memory), ("cpu", RunCgroup.Kind.Cpu), ("cpuacct", RunCgroup.Kind.CpuAccounting), ("pids", RunCgroup.Kind.Pids)])
            {
                // cpu and cpuacct are one hierarchy on many hosts (cpu,cpuacct, with links): one cgroup then serves both.
                var mount = Path.GetFullPath(new DirectoryInfo(Path.Combine(root, name)).ResolveLinkTarget(true)?.FullName ?? Path.Combine(root, name));
                var existing = found.FindIndex(h => h.Mount == mount);
                if (existing >= 0)
                {
                    found[existing] = found[existing] with { Kind = found[existing].Kind | kind };
                    continue;
                }
                if (kind == RunCgroup.Kind.CpuAccounting && unifiedCounts)
                {
                    continue;
                }
                found.Add(new Hierarchy(kind, mount, MakeBase(mount, own[name])));
            }
            found.Add(new Hierarchy(RunCgroup.Kind.Kill | (unifiedCounts ? RunCgroup.Kind.CpuAccounting : 0), Path.Combine(root, "unified"), MakeBase(Path.Combine(root, "unified"), own.GetValueOrDefault("") ?? "/")));
            return (CgroupLayout.Hybrid, "runs are limited by cgroup v1 (memory, cpu, pids) and killed whole through cgroup v2's cgroup.kill", found);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return (CgroupLayout.None, $"runs are not limited: no cgroup is writable here ({e.Message}); a stop reaches only a run's process group", []);
        }
    }

    private static (CgroupLayout, string, IReadOnlyList<Hierarchy>) Unified(string root, string own)
    {
        var available = File.ReadAllText(Path.Combine(root, own.TrimStart('/'), "cgroup.controllers")).Split(' ', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var lacking = Controllers.Except(available).ToList();
        if (lacking.Count > 0)
        {
            return (CgroupLayout.None, $"runs are not limited: cgroup v2 does not delegate {string.Join(", ", lacking)} to the server's cgroup {own}", []);
        }
        // runway/ gets the controllers for its children, so it must hold no process itself (v2's no-internal-process
        // rule); the server's own cgroup keeps the server, and only needs the controllers passed down.
        var mount = Path.Combine(root, own.TrimStart('/'));
        var runway = MakeBase(root, own);
        try
        {
            File.WriteAllText(Path.Combine(mount, "cgroup.subtree_control"), "+cpu +memory +pids");
        }
        catch (IOException) when (own != "/")
        {
            // EBUSY: the server's cgroup holds processes (a systemd service with Delegate=yes holds the server).
            // The server moves into a leaf of its own beside runway/, as the recipe's runway/service.
            var server = Path.Combine(mount, "server");
            Directory.CreateDirectory(server);
            File.WriteAllText(Path.Combine(server, "cgroup.procs"), "0");
            File.WriteAllText(Path.Combine(mount, "cgroup.subtree_control"), "+cpu +memory +pids");
        }
        File.WriteAllText(Path.Combine(runway, "cgroup.subtree_control"), "+cpu +memory +pids");
        Directory.CreateDirectory(Path.Combine(runway, Runs));
        File.WriteAllText(Path.Combine(runway, Runs, "cgroup.subtree_control"), "+cpu +memory +pids");
        return (CgroupLayout.Unified, "runs are limited and killed whole by cgroup v2", [new Hierarchy(RunCgroup.Kind.All, root, runway)]);
    }

    /// <summary>runway/ under the server's own cgroup of one hierarchy, made, and checked to be a cgroup (a plain tmpfs directory has no control files).</summary>
    private static string MakeBase(string mount, string own)
    {
        var runway = Path.Combine(mount, own.TrimStart('/'), "runway");
        Directory.CreateDirectory(runway);
        if (!File.Exists(Path.Combine(runway, "cgroup.procs")))
        {
            throw new IOException($"{mount} is not a cgroup hierarchy");
        }
        Directory.CreateDirectory(Path.Combine(runway, Runs));
        return runway;
    }

    /// <summary>This process's cgroup per v1 controller, and under "" its v2 cgroup (/proc/self/cgroup).</summary>
    private static Dictionary<string, string> OwnCgroups()
    {
        var own = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines("/proc/self/cgroup"))
        {
            var parts = line.Split(':', 3);
            if (parts.Length == 3)
            {
                foreach (var controller in parts[1].Split(','))
                {
                    own[controller] = parts[2];
                }
            }
        }
        return own;
    }

    internal sealed record Hierarchy(RunCgroup.Kind Kind, string Mount, string Base);

    internal static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
