using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Runway.Execution;
using Runway.Execution.Local;
using Runway.Runs;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Execution.Limits;

/// <summary>
/// A local executor with this machine's cgroups, started one of three ways: no isolation through the chain
/// (so only the cgroup can reach a process that left the run's group), namespaces through the chain
/// (unshare, whose exit status hides a signal), and namespaces through runway-supervisor (or, "supervisor-unisolated",
/// no namespaces through it: no pid namespace takes a run's daemons down with its leader). The temp directory
/// stands for the data directory. Needs root (or delegated cgroups): skipped, or failed under CI, without.
/// </summary>
public sealed class LimitsWorld : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly List<int> groups = [];
    private RunSupervisor? supervisor;
    private readonly string node = "limits-tests-" + Guid.NewGuid().ToString("N");
    private readonly int? pids;

    /// <param name="confine">False: the executor gets no cgroups (the node's are still probed, and needed), so only the supervisor's rusage measures a run.</param>
    public LimitsWorld(string mode, int? pids = 4096, bool confine = true)
    {
        this.pids = pids;
        Cgroups = RunCgroups.Probe(pids, node);
        if (Cgroups.Layout == CgroupLayout.None)
        {
            Requires.Skip($"no writable cgroups here (run the tests as root, or delegate a cgroup): {Cgroups.Detail}");
        }
        var isolation = mode is "none" or "supervisor-unisolated" ? RunIsolation.None("not isolated (a test)") : Namespaces();
        if (mode is "supervisor" or "supervisor-unisolated")
        {
            supervisor = RunSupervisor.Start(temp.Path, isolation, out var detail);
            if (supervisor is null)
            {
                Requires.Skip(detail);
            }
        }
        Executor = new LocalExecutor(TimeProvider.System, NullLogger<LocalExecutor>.Instance, isolation, supervisor, confine ? Cgroups : null);
    }

    public static TheoryData<string> Modes => ["none", "namespaces", "supervisor"];

    public static TheoryData<string> IsolatedModes => ["namespaces", "supervisor"];

    public RunCgroups Cgroups { get; }

    /// <summary>The supervisor in the supervisor modes, for a test that talks to it without an executor.</summary>
    public RunSupervisor? Supervisor => supervisor;

    /// <summary>A process group a test started without <see cref="StartAsync"/>, killed at the end all the same.</summary>
    public void Track(int group) => groups.Add(group);

    public LocalExecutor Executor { get; }

    /// <summary>The server goes away (its executor and its connection to the supervisor), leaving the runs to the supervisor.</summary>
    public void Leave()
    {
        Executor.Dispose();
        supervisor?.Dispose();
        supervisor = null;
    }

    public void Dispose()
    {
        foreach (var group in groups)
        {
            Posix.KillGroup(group, Posix.SigKill);
        }
        Executor.Dispose();
        supervisor?.Dispose();
        // A run killed here was never settled, so its cgroup is not among the ended ones the node's folders wait
        // for: once its processes are gone, a probe under the node's name removes every empty run cgroup of the
        // node (the ended ones too), and its disposal the folders.
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(10);
        while (groups.Any(g => Posix.Exists(-g)) && TimeProvider.System.GetUtcNow() < deadline)
        {
            Thread.Sleep(20);
        }
        RunCgroups.Probe(pids, node).Dispose();
        temp.Dispose();
    }

    public RunLaunch Launch(RunSpec spec, string? owner = null)
    {
        var id = Ids.NewRunId(TimeProvider.System);
        var directory = temp.Combine(id);
        Directory.CreateDirectory(directory);
        return new RunLaunch(id, directory, spec, owner);
    }

    public RunLaunch Launch(params string[] argv) => Launch(new RunSpec { Argv = argv });

    public async Task<RunHandle> StartAsync(RunLaunch launch)
    {
        var handle = await Executor.StartAsync(launch, TestContext.Current.CancellationToken);
        groups.Add(int.Parse(handle.NativeId, CultureInfo.InvariantCulture));
        return handle;
    }

    public static string Read(RunLaunch launch, string file) => File.ReadAllText(Path.Combine(launch.RunDirectory, file));

    /// <summary>A sleep duration no other test uses, to find its processes by.</summary>
    public static string Marker() => (100_000 + Random.Shared.Next(0, 800_000)).ToString(CultureInfo.InvariantCulture) + ".5";

    public static int Sleeping(string marker) => Directory.EnumerateDirectories("/proc")
        .Where(d => Path.GetFileName(d).All(char.IsAsciiDigit))
        .Count(d => ReadOrEmpty(Path.Combine(d, "cmdline")) == $"sleep\0{marker}\0");

    private RunIsolation Namespaces()
    {
        if (PosixIo.EffectiveUserId() != 0)
        {
            Requires.Skip("namespaces without a user namespace need the tests to run as root");
        }
        return RunIsolation.Namespaces(temp.Path, userNamespace: false);
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
