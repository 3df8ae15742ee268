using System.Globalization;
using System.Net.Sockets;
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

        Assert.Equal(new RunExit(3), exit with { EndedAt = null, Usage = null });
        Assert.NotNull(exit.Usage?.CpuSeconds); // the supervisor's wait4 rusage
        Assert.NotNull(exit.EndedAt);
        Assert.Equal("3\n", Read(launch, "exit_code"));
        Assert.Equal(handle.NativeId, Read(launch, "pid").Trim());
        Assert.True(long.Parse(Read(launch, "pid_start"), CultureInfo.InvariantCulture) > 0);
        Assert.Equal(3, Read(launch, "rusage").Split(' ').Length);
        Assert.Equal("out\n", Read(launch, "stdout.log"));
        Assert.Equal("err\n", Read(launch, "stderr.log"));
        Assert.False(File.Exists(Path.Combine(launch.RunDirectory, "run.sh")));
    }

    /// <summary>
    /// Each record is written to a temporary name and renamed: a link an earlier attempt of the run left at a temporary
    /// name is deleted, not written through, and the record is still written.
    /// </summary>
    [Fact]
    public async Task Records_AreWritten_PastLinksLeftAtTheirTemporaryNames()
    {
        var (executor, _) = Connect();
        var launch = Launch("/bin/sh", "-c", "exit 4");
        var victim = Path.Combine(launch.RunDirectory, "..", "victim-" + Path.GetFileName(launch.RunDirectory));
        File.WriteAllText(victim, "untouched");
        foreach (var name in (string[])["pid", "pid_start", "rusage", "exit_code"])
        {
            File.CreateSymbolicLink(Path.Combine(launch.RunDirectory, name + ".runway-tmp"), victim);
        }

        var exit = await Poll.CompletesAsync((await executor.StartAsync(launch, TestContext.Current.CancellationToken)).Exited);

        Assert.Equal(4, exit.ExitCode);
        Assert.Equal("4\n", Read(launch, "exit_code"));
        Assert.Equal(3, Read(launch, "rusage").Split(' ').Length);
        Assert.Equal("untouched", File.ReadAllText(victim));
        Assert.Empty(Directory.GetFileSystemEntries(launch.RunDirectory, "*.runway-tmp"));
    }

    /// <summary>
    /// The exit record is durable under its own name: the supervisor syncs <c>exit_code</c> after renaming it into
    /// place. Synced under its temporary name and renamed after, a crash could keep only the temporary name (the rename
    /// not yet on disk), and the run would have no exit record. A crash cannot be staged here, so the order of the
    /// system calls is what is checked, through strace attached to the supervisor.
    /// </summary>
    [Fact]
    public async Task ExitRecord_IsSynced_AfterItsRename()
    {
        var (executor, _) = Connect();
        var (launch, handle, supervisor) = await StartGatedAsync(executor, 5);
        Assert.True(IsSupervisor(supervisor));

        string[] lines;
        await using (var trace = await Strace.AttachAsync(supervisor, "rename,renameat,renameat2,fsync,fdatasync", temp.Combine("supervisor.strace")))
        {
            Release(launch);
            Assert.Equal(5, (await Poll.CompletesAsync(handle.Exited)).ExitCode);
            lines = await trace.StopAsync();
        }

        var rename = Array.FindIndex(lines, l => l.Contains("\"exit_code.runway-tmp\"", StringComparison.Ordinal) && l.Contains("\"exit_code\") = 0", StringComparison.Ordinal));
        Assert.True(rename >= 0, "no rename of exit_code in the supervisor's trace:\n" + string.Join('\n', lines));
        Assert.Contains(lines.Skip(rename + 1), l => l.Contains("fsync(", StringComparison.Ordinal) && l.Contains("/exit_code>)", StringComparison.Ordinal) && l.EndsWith("= 0", StringComparison.Ordinal));
        Assert.Equal("5\n", Read(launch, "exit_code"));
    }

    [Fact]
    public async Task LapsedLease_KillsTheRun_AndRecordsNoOutcome_WhileARenewedOneGoesOn()
    {
        var (executor, _) = Connect();
        var lapsingLaunch = Launch("/bin/sh", "-c", "sleep 300 & sleep 300");
        var lapsing = await executor.StartAsync(lapsingLaunch, TestContext.Current.CancellationToken);
        var renewed = await executor.StartAsync(Launch("/bin/sleep", "300"), TestContext.Current.CancellationToken);
        var untold = await executor.StartAsync(Launch("/bin/sleep", "300"), TestContext.Current.CancellationToken);
        groups.AddRange([.. new[] { lapsing, renewed, untold }.Select(h => int.Parse(h.NativeId, CultureInfo.InvariantCulture))]);

        // The node renews both, then only one: the other's lease lapses 300 ms later.
        executor.KeepLeases([lapsing.NativeId, renewed.NativeId], TimeSpan.FromMilliseconds(300));
        for (var i = 0; i < 10 && !lapsing.Exited.IsCompleted; i++)
        {
            executor.KeepLeases([renewed.NativeId], TimeSpan.FromSeconds(30)); // a loaded machine's 150 ms can be 300
            await Task.Delay(150, TestContext.Current.CancellationToken); // renewing as a heartbeat does, not waiting for work
        }
        // The renewed one stays renewed while the lapsed one's end is checked, however long that takes on a loaded machine.
        executor.KeepLeases([renewed.NativeId], TimeSpan.FromMinutes(5));
        var exit = await Poll.CompletesAsync(lapsing.Exited, TimeSpan.FromSeconds(10));

        Assert.Null(exit.ExitCode);
        Assert.Contains("lease lapsed", exit.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(lapsingLaunch.RunDirectory, "exit_code"))); // the taking node decides how it ended
        Assert.False(File.Exists(Path.Combine(lapsingLaunch.RunDirectory, "rusage")));
        await Poll.UntilAsync(() => !Posix.KillGroup(int.Parse(lapsing.NativeId, CultureInfo.InvariantCulture), 0), "the lapsed run's group to be gone");
        Assert.False(renewed.Exited.IsCompleted);
        Assert.False(untold.Exited.IsCompleted); // a run never named in a renewal (a single node) is never stopped
    }

    [Fact]
    public async Task Attach_GetsExitCodeFromTheSupervisor_WhenTheServerCameBack()
    {
        var (executor, supervisor) = Connect();
        var (launch, handle, supervisorPid) = await StartGatedAsync(executor, 7);
        // The server goes: the supervisor stays for the run it leads, and the next server connects to it.
        executor.Dispose();
        supervisor.Dispose();

        var (restarted, _) = Connect();
        var attached = restarted.Attach(launch, handle.NativeId);
        Assert.False(attached.Exited.IsCompleted);
        Assert.Equal(supervisorPid, ParentOf(int.Parse(handle.NativeId, CultureInfo.InvariantCulture))); // the same supervisor
        Release(launch);

        var exit = await Poll.CompletesAsync(attached.Exited);
        Assert.Equal(new RunExit(7), exit with { EndedAt = null, Usage = null });
        Assert.NotNull(exit.Usage?.CpuSeconds);
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

    /// <summary>
    /// The supervisor is one thread that writes all it has before it reads again. While a large start is
    /// being sent (the supervisor not reading), it replies to an earlier start and then writes more than a
    /// socket holds: a server whose reader waited for that sender would leave both stuck for ever.
    /// </summary>
    [Fact]
    public async Task Start_Completes_WhenTheSupervisorWritesMoreThanASocketHoldsWhileALargeStartIsSent()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(temp.Combine("supervisor.sock")));
        listener.Listen();
        var fake = Task.Factory.StartNew(() => OneThreadedSupervisor(listener), cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var supervisor = RunSupervisor.Start(temp.Path, Unisolated, out var detail);
        if (supervisor is null)
        {
            Requires.Skip(detail);
        }
        owned.Add(supervisor);
        var environment = new Dictionary<string, string>();

        var first = supervisor.StartAsync(Unisolated, temp.Path, "/bin/true", ["/bin/true"], environment, RunConfinement.Open, cancellation);
        var large = Task.Run(() => supervisor.StartAsync(Unisolated, temp.Path, "/bin/true", ["/bin/true", new string('x', 4 << 20)], environment, RunConfinement.Open, cancellation), cancellation);

        Assert.Equal(1_000_002, (await Poll.CompletesAsync(first)).Pid);
        Assert.Equal(1_000_003, (await Poll.CompletesAsync(large)).Pid);
        await fake.WaitAsync(Poll.DefaultTimeout, cancellation);
    }

    /// <summary>Answers the probe, then the flood of <see cref="Start_Completes_WhenTheSupervisorWritesMoreThanASocketHoldsWhileALargeStartIsSent"/>.</summary>
    private static void OneThreadedSupervisor(Socket listener)
    {
        using var connection = listener.Accept();
        connection.Send(Frame(SupervisorFrames.Hello, 0));
        var probe = StartId(ReadFrame(connection));
        connection.Send([.. Frame(SupervisorFrames.Started, probe, 1_000_001, 1L), .. Frame(SupervisorFrames.Exited, 1_000_001, 1L, 0)]);
        var first = StartId(ReadFrame(connection));
        // The large start fills the socket: the server is in the middle of sending it.
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(20);
        while (connection.Available < 64 << 10 && TimeProvider.System.GetUtcNow() < deadline)
        {
            Thread.Sleep(1);
        }
        var exit = Frame(SupervisorFrames.Exited, 42, 1L, 0);
        var flood = Enumerable.Repeat(exit, (8 << 20) / exit.Length).SelectMany(frame => frame);
        connection.Send([.. Frame(SupervisorFrames.Started, first, 1_000_002, 2L), .. flood]);
        var large = StartId(ReadFrame(connection));
        connection.Send(Frame(SupervisorFrames.Started, large, 1_000_003, 3L));
    }

    /// <summary>A frame as the supervisor writes it: a u32 length, the type, then each field little-endian.</summary>
    private static byte[] Frame(byte type, params object[] fields)
    {
        var body = new List<byte> { type };
        foreach (var field in fields)
        {
            body.AddRange(field switch
            {
                int value => BitConverter.GetBytes(value),
                long value => BitConverter.GetBytes(value),
                ulong value => BitConverter.GetBytes(value),
                _ => throw new ArgumentException($"no encoding for {field.GetType()}"),
            });
        }
        return [.. BitConverter.GetBytes(body.Count), .. body];
    }

    private static ulong StartId(byte[] frame) => BitConverter.ToUInt64(frame, 1);

    private static byte[] ReadFrame(Socket connection)
    {
        var header = ReceiveExactly(connection, 4);
        return ReceiveExactly(connection, BitConverter.ToInt32(header));
    }

    private static byte[] ReceiveExactly(Socket connection, int length)
    {
        var buffer = new byte[length];
        for (var got = 0; got < length;)
        {
            var read = connection.Receive(buffer.AsSpan(got));
            got += read > 0 ? read : throw new IOException("the server closed the socket");
        }
        return buffer;
    }

    [Fact]
    public async Task AnOlderBuildsSupervisor_ThatLeadsNoRun_IsStopped_AndThisBuildsStartedInItsPlace()
    {
        // Runway upgraded while its supervisor stayed: a copy of the program file, another file, stands for the older build.
        var current = Path.Combine(AppContext.BaseDirectory, RunSupervisor.BinaryName);
        if (!File.Exists(current))
        {
            Requires.Skip($"{RunSupervisor.BinaryName} was not built (no C compiler)");
        }
        using var elsewhere = new TempDirectory();
        var older = elsewhere.Combine(RunSupervisor.BinaryName);
        File.Copy(current, older);
        var socketPath = temp.Combine("supervisor.sock");
        using var olderProcess = System.Diagnostics.Process.Start(
            new System.Diagnostics.ProcessStartInfo(older, [socketPath, temp.Combine("supervisor.log")]) { UseShellExecute = false })!;
        await Poll.UntilAsync(() => File.Exists(socketPath), "the older supervisor to listen");

        var (executor, supervisor) = Connect();

        Assert.True(olderProcess.WaitForExit(TimeSpan.FromSeconds(15)), "the older build's supervisor was kept");
        Assert.Null(supervisor.KeptOlder);
        var launch = Launch("/bin/sh", "-c", "exit 4");
        var handle = await executor.StartAsync(launch, TestContext.Current.CancellationToken);
        Assert.Equal(4, (await Poll.CompletesAsync(handle.Exited)).ExitCode);
        Assert.Equal("4\n", Read(launch, "exit_code"));
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

    /// <summary>A gated run started (its group killed at the end of the test), and the pid of the supervisor that leads it.</summary>
    private async Task<(RunLaunch Launch, RunHandle Handle, int Supervisor)> StartGatedAsync(LocalExecutor executor, int code)
    {
        var launch = Gated(code);
        var handle = await executor.StartAsync(launch, TestContext.Current.CancellationToken);
        var group = int.Parse(handle.NativeId, CultureInfo.InvariantCulture);
        groups.Add(group);
        return (launch, handle, ParentOf(group));
    }

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
