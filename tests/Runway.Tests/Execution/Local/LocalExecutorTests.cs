using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Runway.Execution;
using Runway.Execution.Local;
using Runway.Runs;
using Runway.Tests.Fakes;

namespace Runway.Tests.Execution.Local;

public sealed class LocalExecutorTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly LocalExecutor executor = NewExecutor();
    private readonly List<int> groups = [];

    public void Dispose()
    {
        // Whatever a failed test left running must not outlive it.
        foreach (var group in groups)
        {
            Posix.KillGroup(group, Posix.SigKill);
        }
        executor.Dispose();
        temp.Dispose();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public async Task Start_RecordsExitCodeAndOutput_WhenCommandEnds(int code)
    {
        var launch = Launch("/bin/sh", "-c", $"echo out; echo err >&2; exit {code}");

        var exit = await Poll.CompletesAsync((await StartAsync(launch)).Exited);

        Assert.Equal(new RunExit(code), exit with { EndedAt = null });
        Assert.Equal($"{code}\n", File.ReadAllText(Path.Combine(launch.RunDirectory, "exit_code")));
        Assert.Equal("out\n", File.ReadAllText(Path.Combine(launch.RunDirectory, "stdout.log")));
        Assert.Equal("err\n", File.ReadAllText(Path.Combine(launch.RunDirectory, "stderr.log")));
    }

    [Fact]
    public async Task Exit_HasNoUsage_AndTheRunSucceeds_WhenTheRunForgedItsUsageFiles()
    {
        var launch = Launch("/bin/sh", "-c", "printf 'cpu_usec 9\\npeak_memory_bytes 9\\n' >/tmp/forged-$$; ln -s /tmp/forged-$$ resource_use; echo 'not numbers' >rusage");

        var exit = await Poll.CompletesAsync((await StartAsync(launch)).Exited);

        Assert.Equal(0, exit.ExitCode);
        Assert.Null(exit.Usage);
    }

    [Fact]
    public async Task Start_DoesNotWriteThroughALinkLeftWhereTheScriptGoes()
    {
        var launch = Launch("/bin/true");
        var victim = temp.Combine("victim");
        File.WriteAllText(victim, "precious\n");
        File.CreateSymbolicLink(Path.Combine(launch.RunDirectory, "run.sh"), victim);

        var exit = await Poll.CompletesAsync((await StartAsync(launch)).Exited);

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal("precious\n", File.ReadAllText(victim));
    }

    [Fact]
    public async Task Start_PassesEachArgumentLiterally_WhenItHoldsShellSyntax()
    {
        string[] hostile = ["a b; rm -rf / $(id) `id`", "'\"*?[x]", "$HOME", "-n", "", "x\ny"];
        var launch = Launch(["printf", "[%s]\\n", .. hostile]);

        var exit = await Poll.CompletesAsync((await StartAsync(launch)).Exited);

        Assert.Equal(0, exit.ExitCode);
        var expected = string.Concat(hostile.Select(a => $"[{a}]\n"));
        Assert.Equal(expected, File.ReadAllText(Path.Combine(launch.RunDirectory, "stdout.log")));
    }

    [Fact]
    public async Task Start_GivesRunItsEnvironment()
    {
        var launch = Launch(["/bin/sh", "-c", "echo \"$RUNWAY_RUN_ID|$RUNWAY_RUN_DIR|$GREETING|$TMPDIR\""], new Dictionary<string, string> { ["GREETING"] = "hi there" });

        await Poll.CompletesAsync((await StartAsync(launch)).Exited);

        var tmp = Path.Combine(launch.RunDirectory, "tmp");
        Assert.Equal($"{launch.RunId}|{launch.RunDirectory}|hi there|{tmp}\n", File.ReadAllText(Path.Combine(launch.RunDirectory, "stdout.log")));
        Assert.True(Directory.Exists(tmp));
    }

    [Theory]
    [InlineData("no-such-program-runway")]
    [InlineData("/no/such/program")]
    [InlineData("./not-executable.txt")]
    public async Task Start_ThrowsExecutorStartException_WhenExecutableIsMissing(string program)
    {
        var launch = Launch(program);
        File.WriteAllText(Path.Combine(launch.RunDirectory, "not-executable.txt"), "data");

        var error = await Assert.ThrowsAsync<ExecutorStartException>(() => executor.StartAsync(launch, TestContext.Current.CancellationToken));

        Assert.Equal($"executable not found: {program}", error.Message);
        Assert.False(File.Exists(Path.Combine(launch.RunDirectory, "pid")));
    }

    [Fact]
    public async Task Start_MakesWrapperTheLeaderOfItsOwnGroup()
    {
        var launch = Gated(0);
        var handle = await StartAsync(launch);

        await Poll.UntilAsync(() => File.Exists(Path.Combine(launch.RunDirectory, "pid")), "the pid file");

        var pid = int.Parse(handle.NativeId, CultureInfo.InvariantCulture);
        Assert.Equal(handle.NativeId, File.ReadAllText(Path.Combine(launch.RunDirectory, "pid")).Trim());
        Assert.Equal(pid, ProcessGroupOf(pid));
        Assert.NotEqual(ProcessGroupOf(Environment.ProcessId), pid);
        Release(launch);
        await Poll.CompletesAsync(handle.Exited);
    }

    [Fact]
    public async Task Stop_EndsWholeProcessTree_WhenCommandHasGrandchildren()
    {
        var launch = Launch("/bin/sh", "-c", "sleep 300 & sleep 301 & echo started; wait");
        var handle = await StartAsync(launch);
        var group = int.Parse(handle.NativeId, CultureInfo.InvariantCulture);
        await Poll.UntilAsync(() => CountSleeps(group) == 2, "both sleeps to start");

        await executor.StopAsync(handle, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.False(ProcessTable.GroupAlive(group));
        var exit = await Poll.CompletesAsync(handle.Exited);
        Assert.Equal(143, exit.ExitCode); // the wrapper lived to record the command's death by TERM
    }

    [Fact]
    public async Task Stop_KillsGroup_WhenItIgnoresTermPastGrace()
    {
        var launch = Launch("/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done");
        var handle = await StartAsync(launch);
        var group = int.Parse(handle.NativeId, CultureInfo.InvariantCulture);
        await Poll.UntilAsync(() => ReadOrEmpty(Path.Combine(launch.RunDirectory, "stdout.log")) == "ready\n", "the trap to be set");
        var before = TimeProvider.System.GetTimestamp();

        await executor.StopAsync(handle, TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken);

        Assert.True(TimeProvider.System.GetElapsedTime(before) >= TimeSpan.FromMilliseconds(300));
        Assert.False(ProcessTable.GroupAlive(group));
        Assert.Equal(137, (await Poll.CompletesAsync(handle.Exited)).ExitCode);
    }

    [Fact]
    public async Task Exited_StopsProcessesLeftBehind_WhenCommandEnds()
    {
        var launch = Launch("/bin/sh", "-c", "sleep 300 & echo $! > background.pid");
        var handle = await StartAsync(launch);

        Assert.Equal(0, (await Poll.CompletesAsync(handle.Exited)).ExitCode);

        Assert.False(ProcessTable.GroupAlive(int.Parse(handle.NativeId, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task Attach_CompletesWithExitCode_WhenRunEndsAfterRestart()
    {
        var launch = Gated(7);
        var handle = await StartAsync(launch);
        using var restarted = NewExecutor();

        var attached = restarted.Attach(launch, handle.NativeId);
        Assert.False(attached.Exited.IsCompleted);
        Release(launch);

        Assert.Equal(new RunExit(7), (await Poll.CompletesAsync(attached.Exited)) with { EndedAt = null });
    }

    [Fact]
    public async Task Attach_CompletesAtOnce_WhenExitCodeIsRecorded()
    {
        var launch = Launch("/bin/true");
        File.WriteAllText(Path.Combine(launch.RunDirectory, "exit_code"), "5\n");

        var attached = executor.Attach(launch, "12345");

        Assert.True(attached.Exited.IsCompletedSuccessfully);
        Assert.Equal(new RunExit(5), (await attached.Exited) with { EndedAt = null });
    }

    [Fact]
    public async Task Attach_GivesExitRecordTime_AsTheEnd()
    {
        var launch = Launch("/bin/true");
        var record = Path.Combine(launch.RunDirectory, "exit_code");
        File.WriteAllText(record, "0\n");
        var ended = new DateTimeOffset(2026, 11, 30, 8, 15, 42, TimeSpan.Zero);
        File.SetLastWriteTimeUtc(record, ended.UtcDateTime);

        var exit = await executor.Attach(launch, "12345").Exited;

        Assert.Equal(ended, exit.EndedAt);
    }

    [Fact]
    public async Task Attach_ReportsError_WhenProcessDiedWithoutExitCode()
    {
        var launch = Launch("/bin/true");
        var handle = await StartAsync(launch);
        await Poll.CompletesAsync(handle.Exited);
        File.Delete(Path.Combine(launch.RunDirectory, "exit_code"));

        using var restarted = NewExecutor();
        var exit = await Poll.CompletesAsync(restarted.Attach(launch, handle.NativeId).Exited);

        Assert.Null(exit.ExitCode);
        Assert.Contains("without recording an exit code", exit.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attach_TreatsRunAsEnded_WhenItsPidBelongsToAnotherProcess()
    {
        var launch = Launch("/bin/true");
        // This test process is alive, but started at another time than the recorded one: a reused pid.
        File.WriteAllText(Path.Combine(launch.RunDirectory, "pid_start"), "1");

        var exit = await Poll.CompletesAsync(executor.Attach(launch, Environment.ProcessId.ToString(CultureInfo.InvariantCulture)).Exited);

        Assert.NotNull(exit.Error);
    }

    [Fact]
    public async Task Stop_LeavesGroupAlone_WhenItsNumberWasReusedByAnotherProcess()
    {
        // Another session leader now holds the number the run once had.
        using var stranger = System.Diagnostics.Process.Start("/usr/bin/setsid", ["/bin/sleep", "300"]);
        groups.Add(stranger.Id);
        await Poll.UntilAsync(() => ProcessGroupOf(stranger.Id) == stranger.Id, "the stranger to lead its group");
        var launch = Launch("/bin/true");
        File.WriteAllText(Path.Combine(launch.RunDirectory, "pid_start"), "1");
        var handle = executor.Attach(launch, stranger.Id.ToString(CultureInfo.InvariantCulture));
        await Poll.CompletesAsync(handle.Exited);

        await executor.StopAsync(handle, TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);

        Assert.True(ProcessTable.GroupAlive(stranger.Id));
    }

    [Fact]
    public void FindNativeId_ReadsPidFile_OnlyWhenPresent()
    {
        var launch = Launch("/bin/true");
        Assert.Null(executor.FindNativeId(launch));

        File.WriteAllText(Path.Combine(launch.RunDirectory, "pid"), "4242\n");

        Assert.Equal("4242", executor.FindNativeId(launch));
    }

    [Fact]
    public void FindNativeId_ReadsWrapperPid_WhenServerDiedBeforeWritingPid()
    {
        var launch = Launch("/bin/true");
        File.WriteAllText(Path.Combine(launch.RunDirectory, "pid.wrapper"), "4343\n");

        Assert.Equal("4343", executor.FindNativeId(launch));
    }

    [Fact]
    public async Task Stop_EndsCommandByTerm_WhenStoppedRightAfterStart()
    {
        // A TERM landing while the wrapper forks the command must still reach the command (no KILL after the grace).
        for (var i = 0; i < 50; i++)
        {
            var handle = await StartAsync(Launch("/bin/sleep", "300"));

            await executor.StopAsync(handle, TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

            Assert.Equal(143, (await Poll.CompletesAsync(handle.Exited)).ExitCode);
        }
    }

    [Fact]
    public async Task Dispose_LeavesRunsRunning_AsAServerThatStopsDoes()
    {
        var launch = Gated(5);
        var handle = await StartAsync(launch);

        executor.Dispose();
        Release(launch);

        // Stopped (TERM) at the dispose, the wrapper would have recorded 143.
        await Poll.UntilAsync(() => File.Exists(Path.Combine(launch.RunDirectory, "exit_code")), "the run to end on its own");
        Assert.Equal("5", File.ReadAllText(Path.Combine(launch.RunDirectory, "exit_code")).Trim());
        Assert.False(handle.Exited.IsCompleted);
    }

    private static LocalExecutor NewExecutor() => new(TimeProvider.System, NullLogger<LocalExecutor>.Instance);

    private async Task<RunHandle> StartAsync(RunLaunch launch)
    {
        var handle = await executor.StartAsync(launch, TestContext.Current.CancellationToken);
        groups.Add(int.Parse(handle.NativeId, CultureInfo.InvariantCulture));
        return handle;
    }

    private RunLaunch Launch(params string[] argv) => Launch(argv, new Dictionary<string, string>());

    private RunLaunch Launch(string[] argv, Dictionary<string, string> environment)
    {
        var id = Ids.NewRunId(TimeProvider.System);
        var directory = temp.Combine(id);
        Directory.CreateDirectory(directory);
        return new RunLaunch(id, directory, new RunSpec { Argv = argv, Environment = environment });
    }

    /// <summary>A run that waits for <see cref="Release"/>, then exits with <paramref name="code"/>.</summary>
    private RunLaunch Gated(int code) => Launch("/bin/sh", "-c", $"while [ ! -e release ]; do sleep 0.05; done; exit {code}");

    private static void Release(RunLaunch launch) => File.WriteAllText(Path.Combine(launch.RunDirectory, "release"), "");

    private static int ProcessGroupOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2], CultureInfo.InvariantCulture);
    }

    private static int CountSleeps(int group) => Directory.EnumerateDirectories("/proc")
        .Where(d => Path.GetFileName(d).All(char.IsAsciiDigit))
        .Select(d => ReadOrEmpty(Path.Combine(d, "stat")))
        .Count(s => s.Contains("(sleep)", StringComparison.Ordinal) && s[(s.LastIndexOf(')') + 2)..].Split(' ')[2] == group.ToString(CultureInfo.InvariantCulture));

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return ""; // not written yet, or the process is gone
        }
    }
}
