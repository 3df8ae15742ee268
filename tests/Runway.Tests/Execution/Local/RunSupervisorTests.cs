using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Runway.Execution;
using Runway.Execution.Local;
using Runway.Runs;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Execution.Local;

/// <summary>
/// runway-supervisor as the local executor's start path, unisolated (IsolatedExecutorTests covers it in the
/// isolation modes): the files it keeps in the run directory, a server that goes and comes back, and the
/// supervisor itself killed while a run runs. The temp directory stands for the data directory.
/// </summary>
public sealed class RunSupervisorTests : IDisposable
{
    private static readonly RunIsolation Unisolated = RunIsolation.None("tests of the supervisor itself");
    private readonly TempDirectory temp = new();
    private readonly List<int> groups = [];
    private readonly List<IDisposable> owned = [];

    public void Dispose()
    {
        foreach (var group in groups)
        {
            Posix.KillGroup(group, Posix.SigKill);
        }
        foreach (var disposable in owned)
        {
            disposable.Dispose();
        }
        temp.Dispose();
    }

    [Fact]
    public async Task Start_WritesPidAndExitRecord_WhereTheWrapperDid()
    {
        var (executor, _) = Connect();
        var launch = Launch("/bin/sh", "-c", "echo out; echo err >&2; exit 3");

        var handle = await executor.StartAsync(launch, TestContext.Current.CancellationToken);
        var exit = await Poll.CompletesAsync(handle.Exited);

        Assert.Equal(new RunExit(3), exit with { EndedAt = null });
        Assert.NotNull(exit.EndedAt);
        Assert.Equal("3\n", Read(launch, "exit_code"));
        Assert.Equal(handle.NativeId, Read(launch, "pid").Trim());
        Assert.True(long.Parse(Read(launch, "pid_start"), CultureInfo.InvariantCulture) > 0);
        Assert.Equal(3, Read(launch, "rusage").Split(' ').Length);
        Assert.Equal("out\n", Read(launch, "stdout.log"));
        Assert.Equal("err\n", Read(launch, "stderr.log"));
        Assert.False(File.Exists(Path.Combine(launch.RunDirectory, "run.sh")));
    }

    [Fact]
    public async Task Attach_GetsExitCodeFromTheSupervisor_WhenTheServerCameBack()
    {
        var (executor, supervisor) = Connect();
        var launch = Gated(7);
        var handle = await executor.StartAsync(launch, TestContext.Current.CancellationToken);
        groups.Add(int.Parse(handle.NativeId, CultureInfo.InvariantCulture));
        var supervisorPid = ParentOf(int.Parse(handle.NativeId, CultureInfo.InvariantCulture));
        // The server goes: the supervisor stays for the run it leads, and the next server connects to it.
        executor.Dispose();
        supervisor.Dispose();

        var (restarted, _) = Connect();
        var attached = restarted.Attach(launch, handle.NativeId);
        Assert.False(attached.Exited.IsCompleted);
        Assert.Equal(supervisorPid, ParentOf(int.Parse(handle.NativeId, CultureInfo.InvariantCulture))); // the same supervisor
        Release(launch);

        Assert.Equal(new RunExit(7), (await Poll.CompletesAsync(attached.Exited)) with { EndedAt = null });
        Assert.Equal("7\n", Read(launch, "exit_code"));
    }

    /// <summary>
    /// The decision for a killed supervisor: its runs go on (they are the user's work), watched through /proc,
    /// and end system_error when they end, since nobody is left to record their exit code. The next start
    /// launches a new supervisor.
    /// </summary>
    [Fact]
    public async Task Run_GoesOnAndEndsWithoutCode_WhenTheSupervisorIsKilled()
    {
        var (executor, _) = Connect();
        var launch = Launch("/bin/sh", "-c", "while [ ! -e release ]; do sleep 0.05; done; echo ran >> ran; exit 0");
        var handle = await executor.StartAsync(launch, TestContext.Current.CancellationToken);
        var group = int.Parse(handle.NativeId, CultureInfo.InvariantCulture);
        groups.Add(group);

        Assert.True(Posix.Signal(ParentOf(group), Posix.SigKill));
        await Poll.UntilAsync(() => ParentOf(group) is var parent && parent != 0 && !IsSupervisor(parent), "the run to be re-parented");
        Assert.False(handle.Exited.IsCompleted);
        Release(launch);
        var exit = await Poll.CompletesAsync(handle.Exited);

        Assert.Null(exit.ExitCode);
        Assert.Contains("supervisor was killed", exit.Error, StringComparison.Ordinal);
        Assert.Equal("ran\n", Read(launch, "ran"));
        var next = Launch("/bin/true");
        Assert.Equal(0, (await Poll.CompletesAsync((await executor.StartAsync(next, TestContext.Current.CancellationToken)).Exited)).ExitCode);
    }

    private (LocalExecutor Executor, RunSupervisor Supervisor) Connect()
    {
        var supervisor = RunSupervisor.Start(temp.Path, Unisolated, out var detail);
        if (supervisor is null)
        {
            Requires.Skip(detail);
        }
        var executor = new LocalExecutor(TimeProvider.System, NullLogger<LocalExecutor>.Instance, Unisolated, supervisor);
        owned.Add(executor);
        owned.Add(supervisor);
        return (executor, supervisor);
    }

    private RunLaunch Launch(params string[] argv)
    {
        var id = Ids.NewRunId(TimeProvider.System);
        var directory = temp.Combine(id);
        Directory.CreateDirectory(directory);
        return new RunLaunch(id, directory, new RunSpec { Argv = argv });
    }

    private RunLaunch Gated(int code) => Launch("/bin/sh", "-c", $"while [ ! -e release ]; do sleep 0.05; done; exit {code}");

    private static void Release(RunLaunch launch) => File.WriteAllText(Path.Combine(launch.RunDirectory, "release"), "");

    private static string Read(RunLaunch launch, string name) => File.ReadAllText(Path.Combine(launch.RunDirectory, name));

    private static int ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static bool IsSupervisor(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").StartsWith("runway-supervis", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
