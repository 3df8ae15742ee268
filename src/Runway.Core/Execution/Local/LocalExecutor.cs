using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Runway.Runs;

namespace Runway.Execution.Local;

/// <summary>
/// Runs commands as child processes of this machine, each in its own session and process group, under a
/// small sh wrapper (<see cref="RunDirectoryFiles.ScriptText"/>) that records the pid and exit status in the
/// run directory. Output goes to files, not to pipes of this process, so a run outlives the server; a
/// restarted server takes it back with <see cref="Attach"/>. The native id is the process group id: the
/// wrapper's pid, or, isolated (<see cref="RunIsolation"/>), the pid of the unshare that starts it.
/// With a <see cref="RunSupervisor"/>, the supervisor starts the run instead of the wrapper and the chain,
/// writes the same files, and the group is led by the run's first process (its pid namespace's init).
/// With <see cref="RunCgroups"/>, each run is limited by a cgroup of its own, which a stop and the run's end
/// kill whole (processes that left the group too), and whose OOM counter tells a run the kernel killed for
/// its memory limit; without isolation a run keeps the network (it has no namespaces).
/// </summary>
/// <remarks>A run sees the node that started it as RUNWAY_NODE (<paramref name="node"/>), beside RUNWAY_RUN_ID and RUNWAY_RUN_DIR.</remarks>
public sealed class LocalExecutor(
    TimeProvider clock, ILogger<LocalExecutor> logger, RunIsolation? isolation = null, RunSupervisor? supervisor = null, RunCgroups? cgroups = null,
    GpuPool? gpus = null, string? node = null)
    : IExecutor, IStartedRunFinder, IDisposable
{
    public const string ExecutorName = "local";

    private const string Shell = "/bin/sh";
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    // Processes the command left behind (`cmd &` without wait) are stopped when it exits; this is their grace.
    private static readonly TimeSpan LeftoverGrace = TimeSpan.FromSeconds(2);

    internal const UnixFileMode ScriptMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly RunIsolation isolation = isolation ?? RunIsolation.None("runs are not isolated (an executor made without isolation)");

    private readonly ProcessWatch watch = new(clock, TimeSpan.FromMilliseconds(250));
    private readonly ProcessGroupStop stop = new(clock, logger);
    private readonly ChildProcesses children = new();

    // The groups of the runs this executor tracks, with their leader's start time where known, so no
    // signal reaches a process that reused the number. A group leaves once its run has ended.
    private readonly ConcurrentDictionary<int, long?> leaderStarts = new();

    // The cgroups of the runs this executor tracks, by group, until the run has ended and they are removed.
    private readonly ConcurrentDictionary<int, Confined> confined = new();

    // The container engine of each container run this executor tracks, by group, and the run's id (its container's name).
    private readonly ConcurrentDictionary<int, ContainerRun> engines = new();

    private static readonly RunIsolation Unisolated = RunIsolation.None("a container run: its engine isolates it");

    public string Name => ExecutorName;

    public async Task<RunHandle> StartAsync(RunLaunch launch, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var directory = launch.RunDirectory;
        if (launch.Spec.Argv.Count == 0)
        {
            throw new ExecutorStartException("the command is empty");
        }
        var temp = TempDirectory(directory);
        var environment = RunEnvironment(launch, isolation.Account, node);
        var engine = launch.Spec.Container is { } container ? ContainerEngine.For(container) : null;
        foreach (var image in (launch.Spec.Tes?.Steps.Select(s => s.Image) ?? [launch.Spec.Container?.Image]).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            await engine!.CheckImageAsync(image, cancellationToken);
        }
        var program = engine?.Path ?? CommandPath.Resolve(launch.Spec.Argv[0], environment.GetValueOrDefault("PATH"), directory)
            ?? throw new ExecutorStartException($"executable not found: {launch.Spec.Argv[0]}");

        // Leftovers of an attempt that never got as far as running would confuse Attach.
        foreach (var leftover in (string[])[RunDirectoryFiles.ExitCode, RunDirectoryFiles.Pid, RunDirectoryFiles.WrapperPid, ContainerEngine.OomMarker])
        {
            RunDirectoryFiles.DeleteLeftover(directory, leftover);
        }
        GiveGpus(launch, environment);
        // In a container the engine isolates and limits the run (as root, which podman and docker need); the
        // client is the run's command, its cgroup would hold only the client.
        var runIsolation = engine is null ? isolation : Unisolated;
        var cgroup = engine is { Name: "podman" or "docker" } ? null : cgroups?.Create(launch.RunId, launch.Spec.Resources);
        var confinement = new RunConfinement(launch.Spec.Network || engine is not null, cgroup?.ProcsFiles ?? [], launch.Owner);
        IReadOnlyList<string> command = engine is null
            ? [program, .. launch.Spec.Argv.Skip(1)]
            : launch.Spec.Tes is { } tes ? TesCommand(engine, tes, launch, cgroups?.PidsLimit)
            : engine.RunCommand(launch.Spec.Container!, launch, ContainerEnvironment(launch, environment), gpus?.Of(launch.RunId) ?? [], isolation.Account, cgroups?.PidsLimit);
        try
        {
            var handle = await StartConfinedAsync(launch, runIsolation, command, environment, temp, confinement, cgroup, cancellationToken);
            if (engine is not null)
            {
                engines[int.Parse(handle.NativeId, CultureInfo.InvariantCulture)] = new ContainerRun(engine, launch.RunId, directory, launch.Spec.Resources.MemoryMb);
            }
            return handle with { Exited = ReleaseGpusAfterAsync(launch.RunId, handle.Exited) };
        }
        catch
        {
            cgroup?.Remove();
            gpus?.Release(launch.RunId);
            throw;
        }
    }

    /// <summary>
    /// A run sees exactly the GPUs reserved for it at its claim (<see cref="GpuPool"/>), none when it asked for
    /// none; they are written to its directory, so a restarted server knows them.
    /// </summary>
    private void GiveGpus(RunLaunch launch, Dictionary<string, string> environment)
    {
        var asked = launch.Spec.Resources.Gpus;
        if (gpus is null || gpus.Ids.Count == 0)
        {
            if (asked > 0)
            {
                throw new ExecutorStartException($"the run asks for {asked} GPUs and this node has none (Runway:Gpus)");
            }
            return;
        }
        var held = gpus.Of(launch.RunId);
        if (held.Count != asked)
        {
            gpus.Release(launch.RunId);
            throw new ExecutorStartException($"the run asks for {asked} GPUs but holds {held.Count} of this node's");
        }
        environment["CUDA_VISIBLE_DEVICES"] = GpuPool.Visible(held);
        RunDirectoryFiles.WriteAtomically(launch.RunDirectory, RunDirectoryFiles.Gpus, GpuPool.Visible(held) + "\n");
    }

    private async Task<RunExit> ReleaseGpusAfterAsync(string runId, Task<RunExit> exited)
    {
        try
        {
            return await exited;
        }
        finally
        {
            gpus?.Release(runId);
        }
    }

    /// <summary>
    /// A TES task's command: the runner (<see cref="Tes.TesRunner"/>) with every executor's container argv. Its containers
    /// see only the task's own variables and the run's id: no host path means anything inside them.
    /// </summary>
    private IReadOnlyList<string> TesCommand(ContainerEngine engine, Tes.TesExecution tes, RunLaunch launch, int? pids)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["RUNWAY_RUN_ID"] = launch.RunId };
        var steps = tes.Steps.Select(step => new Tes.TesRunner.PlanStep(
            engine.StepCommand(tes, step, launch, environment, isolation.Account, pids), step.Stdin, step.Stdout, step.Stderr, step.IgnoreError)).ToList();
        return Tes.TesRunner.Command(new Tes.TesRunner.Plan(launch.RunDirectory, steps));
    }

    /// <summary>What the command sees inside its container: the pipeline's variables and Runway's, never the host's.</summary>
    private static Dictionary<string, string> ContainerEnvironment(RunLaunch launch, Dictionary<string, string> environment)
    {
        var inside = new Dictionary<string, string>(launch.Spec.Environment, StringComparer.Ordinal);
        foreach (var name in (string[])["HOME", "TMPDIR", "RUNWAY_RUN_ID", "RUNWAY_RUN_DIR", "CUDA_VISIBLE_DEVICES"])
        {
            if (environment.TryGetValue(name, out var value))
            {
                inside[name] = value;
            }
        }
        inside["HOME"] = launch.RunDirectory;
        return inside;
    }

    private async Task<RunHandle> StartConfinedAsync(
        RunLaunch launch, RunIsolation isolation, IReadOnlyList<string> command, Dictionary<string, string> environment, string temp,
        RunConfinement confinement, RunCgroup? cgroup, CancellationToken cancellationToken)
    {
        var directory = launch.RunDirectory;
        var program = command[0];
        if (supervisor is not null)
        {
            this.isolation.GiveToAccount(directory, [RunDirectoryFiles.Temp, .. InputPaths(launch.Spec)]);
            // The supervisor writes pid and pid_start before the command runs.
            var (group, leaderStart, ended) = await supervisor.StartAsync(
                isolation, directory, program, command, environment, confinement, cancellationToken);
            leaderStarts[group] = leaderStart;
            Confine(group, cgroup, launch);
            logger.LogInformation("Run {RunId} started by the supervisor as process group {Pid}", launch.RunId, group);
            return new RunHandle(launch.RunId, NativeId(group), SupervisedExitAsync(group, leaderStart, ended, directory, live: true));
        }
        // Atomically, as a leftover of an earlier attempt may have put a link where the script goes.
        RunDirectoryFiles.WriteAtomically(directory, RunDirectoryFiles.Script, RunDirectoryFiles.ScriptText, ScriptMode);
        // The run directory, its tmp and its inputs belong to the run account (in run_account mode).
        this.isolation.GiveToAccount(directory, [RunDirectoryFiles.Temp, .. InputPaths(launch.Spec)]);

        // The wrapper (or the unshare that starts it isolated) leads a new session and process group from its
        // first instruction (posix_spawn with POSIX_SPAWN_SETSID), so the pid is the group's id, and a stop
        // can never miss the group.
        var (start, argv) = isolation.Command(directory, [Shell, RunDirectoryFiles.Script, .. command], confinement);
        var (pid, startTime, exited) = children.Start(start, argv, environment, directory);
        Confine(pid, cgroup, launch);
        // The start time tells this process from a later one that reuses the pid (read before anything
        // could reap it, so known even for a run that is already over). The wrapper writes the pid file
        // too, but only once the shell is up: written here as well, it is there before the native id
        // reaches the store, so a restart never mistakes this run for unstarted.
        leaderStarts[pid] = startTime;
        if (startTime is { } started)
        {
            RunDirectoryFiles.WriteAtomically(directory, RunDirectoryFiles.PidStart, started.ToString(CultureInfo.InvariantCulture));
        }
        RunDirectoryFiles.WriteAtomically(directory, RunDirectoryFiles.Pid, NativeId(pid) + "\n");
        logger.LogInformation("Run {RunId} started as process group {Pid}", launch.RunId, pid);
        return new RunHandle(launch.RunId, NativeId(pid), WaitForExitAsync(pid, exited, directory));
    }

    public RunHandle Attach(RunLaunch launch, string nativeId)
    {
        var directory = launch.RunDirectory;
        if (!int.TryParse(nativeId, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 1)
        {
            return new RunHandle(launch.RunId, nativeId, Task.FromResult(new RunExit(null, $"'{nativeId}' is not a process id")));
        }
        var startTime = RunDirectoryFiles.ReadLong(directory, RunDirectoryFiles.PidStart);
        leaderStarts[pid] = startTime;
        Confine(pid, cgroups?.Find(launch.RunId), launch);
        if (launch.Spec.Container is { } container && ContainerEngine.Started(container) is { } engine)
        {
            engines[pid] = new ContainerRun(engine, launch.RunId, directory, launch.Spec.Resources.MemoryMb);
        }
        var recorded = RunDirectoryFiles.ReadInt(directory, RunDirectoryFiles.ExitCode) is not null;
        var exited = !recorded && supervisor?.Watch(pid, startTime) is { } supervised ? SupervisedExitAsync(pid, startTime, supervised, directory, live: false)
            : !recorded && ProcessTable.IsAlive(pid, startTime) ? WatchAsync(pid, startTime, directory)
            : EndedAsync(pid, directory);
        logger.LogInformation("Run {RunId} taken back as process group {Pid}", launch.RunId, pid);
        if (gpus is not null && launch.Spec.Resources.Gpus > 0 && RunDirectoryFiles.ReadText(directory, RunDirectoryFiles.Gpus) is { } held)
        {
            gpus.Hold(launch.RunId, held.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Take(launch.Spec.Resources.Gpus));
        }
        return new RunHandle(launch.RunId, nativeId, ReleaseGpusAfterAsync(launch.RunId, exited));
    }

    public void KeepLeases(IReadOnlyCollection<string> nativeIds, TimeSpan goodFor) => supervisor?.KeepLeases(goodFor,
        [.. nativeIds.Select(id => int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && leaderStarts.TryGetValue(pid, out var start) && start is { } s
            ? (pid, s) : (0, 0L)).Where(r => r.Item1 > 1)]);

    public async Task StopAsync(RunHandle handle, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (!int.TryParse(handle.NativeId, NumberStyles.None, CultureInfo.InvariantCulture, out var group) || group <= 1)
        {
            return;
        }
        // A run that has ended (or was never ours) has nothing left to stop.
        if (!leaderStarts.TryGetValue(group, out var start))
        {
            return;
        }
        if (ProcessTable.IsGroupOf(group, start))
        {
            await stop.StopAsync(group, grace, cancellationToken);
        }
        else
        {
            logger.LogWarning("Process group {Pid} now belongs to another process; not signalling it", group);
        }
        if (engines.TryGetValue(group, out var container))
        {
            // The container first: a TERM to its client is forwarded, but a killed client leaves it running.
            await container.Engine.StopAsync(container.RunId, grace, cancellationToken);
        }
        // What left the group (setsid, a double fork) is still in the run's cgroup.
        if (confined.TryGetValue(group, out var run))
        {
            await run.Cgroup.KillAsync(clock, cancellationToken);
        }
    }

    /// <summary>
    /// The server writes the pid file right after the start, and the wrapper its own before it runs the
    /// command: with neither, the command never ran. An empty pid.wrapper is one being written this instant.
    /// </summary>
    public string? FindNativeId(RunLaunch launch)
    {
        if (RunDirectoryFiles.ReadInt(launch.RunDirectory, RunDirectoryFiles.Pid) is { } pid)
        {
            return NativeId(pid);
        }
        var wrapperPid = Path.Combine(launch.RunDirectory, RunDirectoryFiles.WrapperPid);
        var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(1);
        while (File.Exists(wrapperPid) && clock.GetUtcNow() < deadline)
        {
            if (RunDirectoryFiles.ReadInt(launch.RunDirectory, RunDirectoryFiles.WrapperPid) is { } own)
            {
                return NativeId(own);
            }
            Thread.Sleep(10);
        }
        return null;
    }

    public void Dispose()
    {
        watch.Dispose();
        children.Dispose();
    }

    /// <summary>
    /// The environment of a run: a small fixed base, the pipeline's variables, then Runway's own. A run under
    /// the run account gets that account's USER and LOGNAME, and its own directory as HOME.
    /// </summary>
    internal static Dictionary<string, string> RunEnvironment(RunLaunch launch, RunAccount? account = null, string? node = null)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = System.Environment.GetEnvironmentVariable("PATH") ?? DefaultPath,
            ["HOME"] = System.Environment.GetEnvironmentVariable("HOME") ?? launch.RunDirectory,
            ["LANG"] = System.Environment.GetEnvironmentVariable("LANG") ?? "C.UTF-8",
            ["TMPDIR"] = Path.Combine(launch.RunDirectory, RunDirectoryFiles.Temp),
        };
        foreach (var name in (string[])["USER", "LOGNAME", "TZ"])
        {
            if (System.Environment.GetEnvironmentVariable(name) is { } value)
            {
                environment[name] = value;
            }
        }
        foreach (var (key, value) in launch.Spec.Environment)
        {
            if (key.Length == 0 || key.Contains('=', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal) || value.Contains('\0', StringComparison.Ordinal))
            {
                throw new ExecutorStartException($"invalid environment variable: {key}");
            }
            environment[key] = value;
        }
        if (account is not null)
        {
            environment["HOME"] = launch.RunDirectory;
            environment["USER"] = account.Name;
            environment["LOGNAME"] = account.Name;
        }
        // The isolate step's word to the wrapper: never the pipeline's.
        environment.Remove("RUNWAY_PROCESS_GROUP");
        environment["RUNWAY_RUN_ID"] = launch.RunId;
        environment["RUNWAY_RUN_DIR"] = launch.RunDirectory;
        if (node is not null)
        {
            environment["RUNWAY_NODE"] = node;
        }
        return environment;
    }

    private static string NativeId(int pid) => pid.ToString(CultureInfo.InvariantCulture);

    /// <summary>The staged inputs and the directories staging made for them, as paths relative to the run directory.</summary>
    private static IEnumerable<string> InputPaths(RunSpec spec) =>
        spec.Inputs.Select(i => i.RelativePath)
            .Concat(spec.Tes?.Mounts.Where(m => m.Writable).Select(m => Tes.TesPaths.Host(m.Path)) ?? [])
            .SelectMany(path =>
            {
                var segments = path.Split('/');
                return Enumerable.Range(1, segments.Length).Select(depth => string.Join('/', segments[..depth]));
            }).Distinct(StringComparer.Ordinal);

    /// <summary>
    /// The run's TMPDIR, made afresh: an earlier attempt of the run may have left a link in its place, and the
    /// directory must be the run directory's own, not what the link points at.
    /// </summary>
    private static string TempDirectory(string directory)
    {
        var temp = Path.Combine(directory, RunDirectoryFiles.Temp);
        if (new FileInfo(temp).LinkTarget is not null)
        {
            File.Delete(temp);
        }
        return Directory.CreateDirectory(temp).FullName;
    }

    private async Task<RunExit> WaitForExitAsync(int pid, Task<int?> exited, string directory)
    {
        var status = await exited;
        // The wrapper's record comes first: it is the command's code even when the wrapper itself was killed.
        var exit = RunDirectoryFiles.ReadExit(directory) is { } recorded ? new RunExit(recorded.Code, EndedAt: recorded.At)
            : status == RunIsolation.IsolateFailed ? new RunExit(null, "the run could not be isolated (its cgroups, mounts or setpriv failed); its command did not run")
            : status is { } own ? new RunExit(own)
            : ExitFromFiles(directory);
        return await SettleAsync(pid, exit, directory);
    }

    /// <summary>
    /// The supervisor reports the end once exit_code is written. Without it (it went away) the run goes on as an
    /// orphan, watched through /proc; nobody records its code then, so it ends without one.
    /// </summary>
    /// <param name="live">
    /// Started by this server: the code the supervisor reports is the one it just wrote to exit_code, and the run ended
    /// the moment it did, so the file is not read back. A run taken back after a restart may have ended before this
    /// server watched it: its file says when.
    /// </param>
    private async Task<RunExit> SupervisedExitAsync(int pid, long? startTime, Task<int?> ended, string directory, bool live)
    {
        var code = await ended;
        supervisor?.Forget(pid);
        if (code is null)
        {
            await watch.WhenGoneAsync(pid, startTime);
        }
        var exit = code == SupervisorFrames.LeaseLapsed
            ? new RunExit(null, "its supervisor stopped it because its lease lapsed (this node stopped renewing it, cut off from the database or stopped)")
            : live && code is { } reported ? new RunExit(reported, EndedAt: clock.GetUtcNow())
            : RunDirectoryFiles.ReadExit(directory) is { } recorded ? new RunExit(recorded.Code, EndedAt: recorded.At)
            : code is { } known ? new RunExit(known)
            : new RunExit(null, "the run supervisor was killed while the run ran, so its exit code was not recorded");
        return await SettleAsync(pid, exit, directory);
    }

    private async Task<RunExit> WatchAsync(int pid, long? startTime, string directory)
    {
        await watch.WhenGoneAsync(pid, startTime);
        return await EndedAsync(pid, directory);
    }

    private async Task<RunExit> EndedAsync(int pid, string directory)
    {
        var exit = ExitFromFiles(directory);
        return await SettleAsync(pid, exit, directory);
    }

    /// <summary>The wrapper's record, and when it was written: the run's end, however late the server noticed.</summary>
    private static RunExit ExitFromFiles(string directory) =>
        RunDirectoryFiles.ReadExit(directory) is { } recorded
            ? new RunExit(recorded.Code, EndedAt: recorded.At)
            : new RunExit(null, "the process ended without recording an exit code (killed while Runway was not running?)");

    private void Confine(int group, RunCgroup? cgroup, RunLaunch launch)
    {
        if (cgroup is not null)
        {
            confined[group] = new Confined(cgroup, launch.Spec.Resources.MemoryMb, launch.RunDirectory);
        }
    }

    /// <summary>The exit of a run the OOM killer struck: failed, saying which limit it ran out of.</summary>
    private static RunExit OutOfMemory(RunExit exit, long? memoryMb)
    {
        var limit = memoryMb is { } mb ? $"its memory limit of {mb} MiB" : "the memory it may use";
        return exit with { Verdict = RunState.Failed, Message = $"ran out of {limit}: the kernel's OOM killer ended it (exit code {exit.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none"})" };
    }

    /// <summary>A container run: its engine (to stop and remove it by name) and what judges an OOM in it.</summary>
    private sealed record ContainerRun(ContainerEngine Engine, string RunId, string Directory, long? MemoryMb);

    /// <summary>
    /// After the run's leader: what it left is stopped, its cgroup killed whole and emptied, its figures kept in
    /// resource_use (cpu_usec, peak_memory_bytes), the cgroup removed. A run the OOM killer struck ends failed
    /// saying so, whatever its exit code (unshare's is 1 then). The exit then carries what the run used, from
    /// resource_use or else the supervisor's rusage (<see cref="RunUsageFiles"/>).
    /// </summary>
    private async Task<RunExit> SettleAsync(int group, RunExit exit, string directory)
    {
        var (settled, measured) = await SettleCgroupAsync(group, exit);
        // Both figures just read from the cgroup are what resource_use now holds, and rusage would add nothing: not read back.
        var usage = measured is { CpuSeconds: not null, PeakMemoryBytes: not null } ? measured : RunUsageFiles.Read(directory);
        return usage is { IsEmpty: false } ? settled with { Usage = usage } : settled;
    }

    /// <returns>The exit, and what the run used as its cgroup said (null without one).</returns>
    private async Task<(RunExit Exit, RunUsage? Measured)> SettleCgroupAsync(int group, RunExit exit)
    {
        await StopLeftoversAsync(group);
        if (engines.TryRemove(group, out var container))
        {
            try
            {
                await container.Engine.RemoveAsync(container.RunId);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or OperationCanceledException)
            {
                logger.LogWarning(e, "Could not remove the container of run {RunId}", container.RunId);
            }
        }
        if (container is not null && container.Engine.OutOfMemory(container.Directory, exit))
        {
            return (OutOfMemory(exit, container.MemoryMb), null);
        }
        if (!confined.TryRemove(group, out var run))
        {
            return (exit, null);
        }
        try
        {
            await run.Cgroup.KillAsync(clock, CancellationToken.None);
            var (cpu, peak) = run.Cgroup.Usage;
            var oom = run.Cgroup.OutOfMemory;
            RunDirectoryFiles.WriteAtomically(run.Directory, RunDirectoryFiles.ResourceUse,
                string.Create(CultureInfo.InvariantCulture, $"cpu_usec {cpu?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}\npeak_memory_bytes {peak?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}\noom_kill {(oom ? 1 : 0)}\n"));
            cgroups!.RemoveLater(run.Cgroup);
            var measured = RunUsageFiles.FromCgroup(cpu, peak);
            if (oom && exit.Error is null && exit.ExitCode is not 0)
            {
                return (OutOfMemory(exit, run.MemoryMb), measured);
            }
            return (exit, measured);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "Could not settle the cgroup of process group {Pid}", group);
        }
        return (exit, null);
    }

    private sealed record Confined(RunCgroup Cgroup, long? MemoryMb, string Directory);

    private async Task StopLeftoversAsync(int group)
    {
        try
        {
            // Only with the leader's start time known: a bare number may be anyone's group by now. An empty group (most
            // runs: the leader took its pid namespace down with it) is one kill(-group, 0) that finds nobody, not the
            // reads of /proc and the TERM that a stop costs; nothing can join a group that has no members.
            if (leaderStarts.TryRemove(group, out var start) && start is not null && Posix.Exists(-group) && ProcessTable.IsGroupOf(group, start))
            {
                await stop.StopAsync(group, LeftoverGrace, CancellationToken.None);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "Could not stop what process group {Pid} left behind", group);
        }
    }
}
