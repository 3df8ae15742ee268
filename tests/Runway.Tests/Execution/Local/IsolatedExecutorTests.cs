using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Runway.Execution;
using Runway.Execution.Local;
using Runway.Runs;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Execution.Local;

/// <summary>
/// The local executor in both real isolation modes: run_account (as root, with the runway-run account that
/// .ci/run creates) and namespaces (in a user namespace, as an unprivileged server runs them), each through
/// both start paths: the chain (unshare, sh, setpriv) and runway-supervisor. The temp directory stands for
/// the data directory; the run directories are inside it, as under runs/.
/// </summary>
public sealed class IsolatedExecutorTests : IDisposable
{
    private const string RunAs = "runway-run";
    private readonly TempDirectory temp = new();
    private readonly TempDirectory runs = new();
    private readonly List<int> groups = [];
    private LocalExecutor? executor;
    private RunSupervisor? supervisor;

    public void Dispose()
    {
        foreach (var group in groups)
        {
            Posix.KillGroup(group, Posix.SigKill);
        }
        executor?.Dispose();
        supervisor?.Dispose();
        temp.Dispose();
        runs.Dispose();
    }

    public static TheoryData<string, string> Modes => new()
    {
        { "run_account", "chain" },
        { "namespaces", "chain" },
        { "run_account", "supervisor" },
        { "namespaces", "supervisor" },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Run_CannotReadDataDirectory_AndWritesItsOwn(string mode, string start)
    {
        var isolation = Isolate(mode, start);
        var secret = temp.Combine("runway.db");
        File.WriteAllText(secret, "password hashes");
        var launch = Launch("/bin/sh", "-c", "cat \"$1\"; echo \"$(id -u)|$HOME|$USER\" > \"$RUNWAY_RUN_DIR/who\"; echo tmp > \"$TMPDIR/t\"", "sh", secret);

        Assert.Equal(0, (await Poll.CompletesAsync((await StartAsync(launch)).Exited)).ExitCode);

        Assert.DoesNotContain("password", File.ReadAllText(Path.Combine(launch.RunDirectory, "stdout.log")), StringComparison.Ordinal);
        Assert.Contains("No such file", File.ReadAllText(Path.Combine(launch.RunDirectory, "stderr.log")), StringComparison.Ordinal);
        Assert.Equal("tmp\n", File.ReadAllText(Path.Combine(launch.RunDirectory, "tmp", "t")));
        var who = File.ReadAllText(Path.Combine(launch.RunDirectory, "who")).Trim();
        if (isolation.Account is { } account)
        {
            Assert.Equal($"{account.Uid}|{launch.RunDirectory}|{RunAs}", who);
        }
    }

    /// <summary>Runway:RunsDirectory elsewhere (a Slurm cluster's shared directory): the other runs' directories are hidden too.</summary>
    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Run_CannotSeeAnotherRunsDirectory_WhenTheRunsDirectoryIsOutsideTheDataDirectory(string mode, string start)
    {
        Isolate(mode, start, runs.Path);
        var sibling = LaunchIn(runs.Path, "/bin/true");
        File.WriteAllText(Path.Combine(sibling.RunDirectory, "stdout.log"), "the other run's secret");
        var launch = LaunchIn(runs.Path, "/bin/sh", "-c", "ls -a \"$1\"; cat \"$2\"; echo mine > \"$RUNWAY_RUN_DIR/own\"", "sh",
            runs.Path, Path.Combine(sibling.RunDirectory, "stdout.log"));

        Assert.Equal(0, (await Poll.CompletesAsync((await StartAsync(launch)).Exited)).ExitCode);

        var shown = File.ReadAllText(Path.Combine(launch.RunDirectory, "stdout.log"));
        Assert.DoesNotContain("secret", shown, StringComparison.Ordinal);
        Assert.DoesNotContain(sibling.RunId, shown, StringComparison.Ordinal);
        Assert.Contains(launch.RunId, shown, StringComparison.Ordinal);
        Assert.Contains("No such file", File.ReadAllText(Path.Combine(launch.RunDirectory, "stderr.log")), StringComparison.Ordinal);
        Assert.Equal("mine\n", File.ReadAllText(Path.Combine(launch.RunDirectory, "own")));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Stop_EndsCommandByTerm_WhenStoppedRightAfterStart(string mode, string start)
    {
        Isolate(mode, start);
        var before = TimeProvider.System.GetTimestamp();
        // A TERM that came before the wrapper (its pid namespace's init) set its trap would be dropped, and
        // the stop would wait out its whole grace, then KILL (137).
        for (var i = 0; i < 20; i++)
        {
            var handle = await StartAsync(Launch("/bin/sleep", "300"));

            await executor!.StopAsync(handle, TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

            Assert.Equal(143, (await Poll.CompletesAsync(handle.Exited)).ExitCode);
        }
        Assert.True(TimeProvider.System.GetElapsedTime(before) < TimeSpan.FromSeconds(20), "a stop waited for its grace");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Stop_LeavesNoProcess_WhenRunStartedOneInItsOwnSession(string mode, string start)
    {
        Isolate(mode, start);
        var marker = Marker();
        var launch = Launch("/bin/sh", "-c", $"setsid sleep {marker} & echo started; wait");
        var handle = await StartAsync(launch);
        await Poll.UntilAsync(() => Sleeping(marker), "the setsid sleep to start");

        await executor!.StopAsync(handle, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await Poll.CompletesAsync(handle.Exited);

        await Poll.UntilAsync(() => !Sleeping(marker), "the setsid sleep to be gone");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Exited_LeavesNoProcess_WhenCommandEndsAfterStartingOneInItsOwnSession(string mode, string start)
    {
        Isolate(mode, start);
        var marker = Marker();
        var launch = Launch("/bin/sh", "-c", $"setsid sleep {marker} & while [ ! -e /proc/$!/cmdline ]; do :; done; exit 0");

        Assert.Equal(0, (await Poll.CompletesAsync((await StartAsync(launch)).Exited)).ExitCode);

        await Poll.UntilAsync(() => !Sleeping(marker), "the setsid sleep to be gone");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task FindNativeId_ReadsRunsGroup_WhenServerDiedBeforeWritingPid(string mode, string start)
    {
        Isolate(mode, start);
        var launch = Launch("/bin/sh", "-c", "while [ ! -e release ]; do sleep 0.05; done");
        var handle = await StartAsync(launch);
        if (start == "chain")
        {
            // The server's own pid file is gone with it; the wrapper's remains.
            await Poll.UntilAsync(() => File.Exists(Path.Combine(launch.RunDirectory, "pid.wrapper")), "the wrapper's pid file");
            File.Delete(Path.Combine(launch.RunDirectory, "pid"));
        }

        Assert.Equal(handle.NativeId, executor!.FindNativeId(launch));
        File.WriteAllText(Path.Combine(launch.RunDirectory, "release"), "");
        Assert.Equal(0, (await Poll.CompletesAsync(handle.Exited)).ExitCode);
    }

    public static TheoryData<string> StartPaths => ["chain", "supervisor"];

    /// <summary>
    /// A run directory used again (a retry, a run handed back) holds what the earlier attempt's code left: a
    /// link where an input's directory goes must not make Runway give the run account a file outside.
    /// </summary>
    [Theory]
    [MemberData(nameof(StartPaths))]
    public async Task Start_GivesNoFileOutsideToRunAccount_ThroughLinkLeftInRunDirectory(string start)
    {
        Isolate("run_account", start);
        var outside = Directory.CreateDirectory(temp.Combine("outside")).FullName;
        var secret = Path.Combine(outside, "secret");
        File.WriteAllText(secret, "server's");
        var launch = Launch("/bin/true");
        File.CreateSymbolicLink(Path.Combine(launch.RunDirectory, "in"), outside);
        launch = launch with { Spec = launch.Spec with { Inputs = [new StagedInput("f_1", "in/secret")] } };

        var refused = await Assert.ThrowsAsync<ExecutorStartException>(() => StartAsync(launch));

        Assert.Contains("in/secret", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0u, OwnerOf(secret));
        Assert.Equal(0u, OwnerOf(outside));
    }

    /// <summary>The run's TMPDIR left as a link by an earlier attempt is made a directory of the run's own again.</summary>
    [Theory]
    [MemberData(nameof(StartPaths))]
    public async Task Start_MakesTmpARealDirectory_WhenEarlierAttemptLeftLinkThere(string start)
    {
        Isolate("run_account", start);
        var outside = Directory.CreateDirectory(temp.Combine("outside")).FullName;
        var launch = Launch("/bin/sh", "-c", "echo mine > \"$TMPDIR/t\"");
        File.CreateSymbolicLink(Path.Combine(launch.RunDirectory, "tmp"), outside);

        Assert.Equal(0, (await Poll.CompletesAsync((await StartAsync(launch)).Exited)).ExitCode);

        Assert.Null(new DirectoryInfo(Path.Combine(launch.RunDirectory, "tmp")).LinkTarget);
        Assert.Equal("mine\n", File.ReadAllText(Path.Combine(launch.RunDirectory, "tmp", "t")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Equal(0u, OwnerOf(outside));
    }

    private static uint OwnerOf(string path) =>
        PosixFiles.TryStat(PosixFiles.AtFdCwd, path, out var status) ? status.Owner : throw new FileNotFoundException(path);

    /// <summary>The executor for the mode and start path; skips (fails under CI) where this machine cannot isolate that way.</summary>
    private RunIsolation Isolate(string mode, string start, string? runsDirectory = null)
    {
        RunIsolation? isolation;
        if (mode == "run_account")
        {
            if (PosixIo.EffectiveUserId() != 0)
            {
                Requires.Skip("run_account mode needs the tests to run as root");
            }
            isolation = RunIsolation.RunAs(temp.Path, RunAs, runsDirectory);
            if (isolation is null)
            {
                Requires.Skip($"the account {RunAs} does not exist (useradd --system --no-create-home --shell /usr/sbin/nologin {RunAs})");
            }
        }
        else
        {
            isolation = RunIsolation.Namespaces(temp.Path, userNamespace: true, runsDirectory);
        }
        if (start == "supervisor")
        {
            supervisor = RunSupervisor.Start(temp.Path, isolation, out var detail);
            if (supervisor is null)
            {
                Requires.Skip(detail);
            }
        }
        executor = new LocalExecutor(TimeProvider.System, NullLogger<LocalExecutor>.Instance, isolation, supervisor);
        return isolation;
    }

    private async Task<RunHandle> StartAsync(RunLaunch launch)
    {
        var handle = await executor!.StartAsync(launch, TestContext.Current.CancellationToken);
        groups.Add(int.Parse(handle.NativeId, CultureInfo.InvariantCulture));
        return handle;
    }

    private RunLaunch Launch(params string[] argv) => LaunchIn(temp.Path, argv);

    private static RunLaunch LaunchIn(string runsDirectory, params string[] argv)
    {
        var id = Ids.NewRunId(TimeProvider.System);
        var directory = Path.Combine(runsDirectory, id);
        Directory.CreateDirectory(directory);
        return new RunLaunch(id, directory, new RunSpec { Argv = argv });
    }

    /// <summary>A sleep duration no other test uses, to find its process by.</summary>
    private static string Marker() => (100_000 + Random.Shared.Next(0, 800_000)).ToString(CultureInfo.InvariantCulture) + ".25";

    private static bool Sleeping(string marker) => Directory.EnumerateDirectories("/proc")
        .Where(d => Path.GetFileName(d).All(char.IsAsciiDigit))
        .Any(d => ReadOrEmpty(Path.Combine(d, "cmdline")) == $"sleep\0{marker}\0");

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
