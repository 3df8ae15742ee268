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
/// </summary>
/// <remarks>A run sees the node that started it as RUNWAY_NODE (<paramref name="node"/>), beside RUNWAY_RUN_ID and RUNWAY_RUN_DIR.</remarks>
public sealed class LocalExecutor(TimeProvider clock, ILogger<LocalExecutor> logger, RunIsolation? isolation = null, RunSupervisor? supervisor = null, string? node = null)
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

    public string Name => ExecutorName;

    public async Task<RunHandle> StartAsync(RunLaunch launch, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var directory = launch.RunDirectory;
        if (launch.Spec.Argv.Count == 0)
        {
            throw new ExecutorStartException("the command is empty");
        }
        var temp = Directory.CreateDirectory(Path.Combine(directory, RunDirectoryFiles.Temp)).FullName;
        var environment = RunEnvironment(launch, isolation.Account, node);
        var program = CommandPath.Resolve(launch.Spec.Argv[0], environment.GetValueOrDefault("PATH"), directory)
            ?? throw new ExecutorStartException($"executable not found: {launch.Spec.Argv[0]}");

        // Leftovers of an attempt that never got as far as running would confuse Attach.
        File.Delete(Path.Combine(directory, RunDirectoryFiles.ExitCode));
        File.Delete(Path.Combine(directory, RunDirectoryFiles.Pid));
        File.Delete(Path.Combine(directory, RunDirectoryFiles.WrapperPid));
        if (supervisor is not null)
        {
            isolation.GiveToAccount([directory, temp, .. InputPaths(directory, launch.Spec)]);
            // The supervisor writes pid and pid_start before the command runs.
            var (group, leaderStart, ended) = await supervisor.StartAsync(isolation, directory, program, [program, .. launch.Spec.Argv.Skip(1)], environment, cancellationToken);
            leaderStarts[group] = leaderStart;
            logger.LogInformation("Run {RunId} started by the supervisor as process group {Pid}", launch.RunId, group);
            return new RunHandle(launch.RunId, NativeId(group), SupervisedExitAsync(group, leaderStart, ended, directory));
        }
        // Atomically, as a leftover of an earlier attempt may have put a link where the script goes.
        RunDirectoryFiles.WriteAtomically(directory, RunDirectoryFiles.Script, RunDirectoryFiles.ScriptText, ScriptMode);
        // The run directory, its tmp and its inputs belong to the run account (in run_account mode).
        isolation.GiveToAccount([directory, temp, .. InputPaths(directory, launch.Spec)]);

        // The wrapper (or the unshare that starts it isolated) leads a new session and process group from its
        // first instruction (posix_spawn with POSIX_SPAWN_SETSID), so the pid is the group's id, and a stop
        // can never miss the group.
        var (start, argv) = isolation.Command(directory, [Shell, RunDirectoryFiles.Script, program, .. launch.Spec.Argv.Skip(1)]);
        var (pid, startTime, exited) = children.Start(start, argv, environment, directory);
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
        var recorded = RunDirectoryFiles.ReadInt(directory, RunDirectoryFiles.ExitCode) is not null;
        var exited = !recorded && supervisor?.Watch(pid, startTime) is { } supervised ? SupervisedExitAsync(pid, startTime, supervised, directory)
            : !recorded && ProcessTable.IsAlive(pid, startTime) ? WatchAsync(pid, startTime, directory)
            : EndedAsync(pid, directory);
        logger.LogInformation("Run {RunId} taken back as process group {Pid}", launch.RunId, pid);
        return new RunHandle(launch.RunId, nativeId, exited);
    }

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
        if (!ProcessTable.IsGroupOf(group, start))
        {
            logger.LogWarning("Process group {Pid} now belongs to another process; not signalling it", group);
            return;
        }
        await stop.StopAsync(group, grace, cancellationToken);
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

    /// <summary>The staged inputs and the directories staging made for them, as paths in the run directory.</summary>
    private static IEnumerable<string> InputPaths(string directory, RunSpec spec) =>
        spec.Inputs.SelectMany(input =>
        {
            var segments = input.RelativePath.Split('/');
            return Enumerable.Range(1, segments.Length).Select(depth => Path.Combine(directory, string.Join('/', segments[..depth])));
        }).Distinct(StringComparer.Ordinal);

    private async Task<RunExit> WaitForExitAsync(int pid, Task<int?> exited, string directory)
    {
        var status = await exited;
        // The wrapper's record comes first: it is the command's code even when the wrapper itself was killed.
        var exit = RunDirectoryFiles.ReadExit(directory) is { } recorded ? new RunExit(recorded.Code, EndedAt: recorded.At)
            : status == RunIsolation.IsolateFailed ? new RunExit(null, "the run could not be isolated (its mounts or setpriv failed); its command did not run")
            : status is { } own ? new RunExit(own)
            : ExitFromFiles(directory);
        await StopLeftoversAsync(pid);
        return exit;
    }

    /// <summary>
    /// The supervisor reports the end once exit_code is written. Without it (it went away) the run goes on as an
    /// orphan, watched through /proc; nobody records its code then, so it ends without one.
    /// </summary>
    private async Task<RunExit> SupervisedExitAsync(int pid, long? startTime, Task<int?> ended, string directory)
    {
        var code = await ended;
        supervisor?.Forget(pid);
        if (code is null)
        {
            await watch.WhenGoneAsync(pid, startTime);
        }
        var exit = RunDirectoryFiles.ReadExit(directory) is { } recorded ? new RunExit(recorded.Code, EndedAt: recorded.At)
            : code is { } known ? new RunExit(known)
            : new RunExit(null, "the run supervisor was killed while the run ran, so its exit code was not recorded");
        await StopLeftoversAsync(pid);
        return exit;
    }

    private async Task<RunExit> WatchAsync(int pid, long? startTime, string directory)
    {
        await watch.WhenGoneAsync(pid, startTime);
        return await EndedAsync(pid, directory);
    }

    private async Task<RunExit> EndedAsync(int pid, string directory)
    {
        var exit = ExitFromFiles(directory);
        await StopLeftoversAsync(pid);
        return exit;
    }

    /// <summary>The wrapper's record, and when it was written: the run's end, however late the server noticed.</summary>
    private static RunExit ExitFromFiles(string directory) =>
        RunDirectoryFiles.ReadExit(directory) is { } recorded
            ? new RunExit(recorded.Code, EndedAt: recorded.At)
            : new RunExit(null, "the process ended without recording an exit code (killed while Runway was not running?)");

    private async Task StopLeftoversAsync(int group)
    {
        try
        {
            // Only with the leader's start time known: a bare number may be anyone's group by now.
            if (leaderStarts.TryRemove(group, out var start) && start is not null && ProcessTable.IsGroupOf(group, start))
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
