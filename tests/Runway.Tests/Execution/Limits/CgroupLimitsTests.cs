using Runway.Execution;
using Runway.Execution.Local;
using Runway.Runs;
using Runway.Tests.Fakes;

namespace Runway.Tests.Execution.Limits;

/// <summary>What a run's cgroup enforces: its memory, its CPUs, its process count, and a stop that leaves nothing.</summary>
public sealed class CgroupLimitsTests
{
    [Theory]
    [MemberData(nameof(LimitsWorld.Modes), MemberType = typeof(LimitsWorld))]
    public async Task MemoryHog_EndsFailedSayingItRanOutOfItsLimit_WhileItsNeighbourRunsOn(string mode)
    {
        using var world = new LimitsWorld(mode);
        var neighbour = world.Launch("/bin/sh", "-c", "while [ ! -e release ]; do sleep 0.05; done; echo fine");
        var neighbourHandle = await world.StartAsync(neighbour);
        // dd touches its whole 200 MiB buffer: four times the limit.
        var hog = world.Launch(new RunSpec
        {
            Argv = ["/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1"],
            Resources = new PipelineResources { MemoryMb = 50 },
        });

        var exit = await Poll.CompletesAsync((await world.StartAsync(hog)).Exited);
        var final = RunOutcome.Final(hog.RunId, exit, StopCause.None, null);

        Assert.Equal(RunState.Failed, final.To);
        Assert.StartsWith("ran out of its memory limit of 50 MiB", final.Message, StringComparison.Ordinal);
        Assert.Contains("oom_kill 1", LimitsWorld.Read(hog, RunFiles.ResourceUse), StringComparison.Ordinal);
        Assert.False(neighbourHandle.Exited.IsCompleted);
        File.WriteAllText(Path.Combine(neighbour.RunDirectory, "release"), "");
        Assert.Equal(0, (await Poll.CompletesAsync(neighbourHandle.Exited)).ExitCode);
        Assert.Equal("fine\n", LimitsWorld.Read(neighbour, RunFiles.Stdout));
    }

    [Fact]
    public void Start_RemovesOnlyItsOwnNodesLeftovers_NeverAnotherServersRunCgroups()
    {
        using var world = new LimitsWorld("none"); // skips where no cgroup is writable
        var node = "leftovers-" + Guid.NewGuid().ToString("N");
        var first = Runway.Execution.Local.RunCgroups.Probe(null, node);
        var waiting = first.Create("RUN-NOT-YET-JOINED", new PipelineResources())!;

        var other = Runway.Execution.Local.RunCgroups.Probe(null, node + "-other");

        Assert.NotNull(first.Find("RUN-NOT-YET-JOINED"));
        var restarted = Runway.Execution.Local.RunCgroups.Probe(null, node);
        Assert.Null(restarted.Find("RUN-NOT-YET-JOINED"));
        waiting.Remove();
        other.RemoveNodeFolders();
        restarted.RemoveNodeFolders();
    }

    [Theory]
    [MemberData(nameof(LimitsWorld.Modes), MemberType = typeof(LimitsWorld))]
    public async Task SmallAllocation_Succeeds_UnderItsLimit(string mode)
    {
        using var world = new LimitsWorld(mode);
        var run = world.Launch(new RunSpec
        {
            Argv = ["/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=10M", "count=1"],
            Resources = new PipelineResources { MemoryMb = 50 },
        });

        var exit = await Poll.CompletesAsync((await world.StartAsync(run)).Exited);

        Assert.Equal(RunState.Succeeded, RunOutcome.Final(run.RunId, exit, StopCause.None, null).To);
        var use = LimitsWorld.Read(run, RunFiles.ResourceUse);
        Assert.Contains("oom_kill 0", use, StringComparison.Ordinal);
        // The peak covers dd's 10 MiB buffer; the figure is the cgroup's, not a guess.
        var peak = long.Parse(use.Split('\n').Single(l => l.StartsWith("peak_memory_bytes ", StringComparison.Ordinal)).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(peak, 10L << 20, 50L << 20);
    }

    [Theory]
    [MemberData(nameof(LimitsWorld.Modes), MemberType = typeof(LimitsWorld))]
    public async Task CpuHog_GetsAboutHalfACore_WhenItAsksForHalf(string mode)
    {
        using var world = new LimitsWorld(mode);
        // Two busy loops: unlimited, they would take both cores of this machine.
        var run = world.Launch(new RunSpec
        {
            Argv = ["/bin/sh", "-c", "while :; do :; done & while :; do :; done"],
            Resources = new PipelineResources { Cpus = 0.5 },
        });
        var handle = await world.StartAsync(run);
        var cgroup = world.Cgroups.Find(run.RunId)!;
        await Poll.UntilAsync(() => cgroup.Usage.CpuMicroseconds > 0, "the hog to start");

        var (cpuBefore, wallBefore) = (cgroup.Usage.CpuMicroseconds!.Value, TimeProvider.System.GetTimestamp());
        // A measurement window, not a wait for a condition: the cgroup's own CPU time over 2.5 s of wall time.
        await Task.Delay(TimeSpan.FromSeconds(2.5), TestContext.Current.CancellationToken);
        var cores = (cgroup.Usage.CpuMicroseconds!.Value - cpuBefore) / TimeProvider.System.GetElapsedTime(wallBefore).TotalMicroseconds;

        await world.Executor.StopAsync(handle, TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        await Poll.CompletesAsync(handle.Exited);
        Assert.InRange(cores, 0.3, 0.7);
    }

    [Theory]
    [MemberData(nameof(LimitsWorld.Modes), MemberType = typeof(LimitsWorld))]
    public async Task ForkBomb_IsStoppedByThePidsLimit(string mode)
    {
        using var world = new LimitsWorld(mode, pids: 32);
        var marker = LimitsWorld.Marker();
        var run = world.Launch("/bin/sh", "-c", $"i=0; while [ $i -lt 200 ]; do sleep {marker} & i=$((i+1)); done; echo all 200 started");

        var exit = await Poll.CompletesAsync((await world.StartAsync(run)).Exited, TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, exit.ExitCode);
        Assert.DoesNotContain("all 200", LimitsWorld.Read(run, RunFiles.Stdout), StringComparison.Ordinal);
        Assert.Contains("fork", LimitsWorld.Read(run, RunFiles.Stderr), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, LimitsWorld.Sleeping(marker));
    }

    [Theory]
    [MemberData(nameof(LimitsWorld.Modes), MemberType = typeof(LimitsWorld))]
    public async Task DoubleForkedDaemon_IsKilled_WhenTheRunIsCanceled(string mode)
    {
        using var world = new LimitsWorld(mode);
        var marker = LimitsWorld.Marker();
        // The daemon leaves the run's session and group and is re-parented: only the cgroup still holds it.
        var run = world.Launch("/bin/sh", "-c", $"(setsid sleep {marker} &); sleep 300");
        var handle = await world.StartAsync(run);
        await Poll.UntilAsync(() => LimitsWorld.Sleeping(marker) == 1, "the daemon to start");

        await world.Executor.StopAsync(handle, TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        await Poll.CompletesAsync(handle.Exited);

        Assert.Equal(0, LimitsWorld.Sleeping(marker));
        // Removed shortly after the end, off the path that records it (RunCgroups.RemoveLater).
        await Poll.UntilAsync(() => world.Cgroups.Find(run.RunId) is null, "the run's cgroups to be removed");
    }

    /// <summary>
    /// A node cut off from the database stops renewing its runs' leases, and its supervisor, alone with them, kills each
    /// whole through its cgroup.kill once its lease lapses. The supervisor finds that file once per node folder and then
    /// knows it for every later run: the second run's daemon, which left its group, dies as the first one's does. Talked
    /// to without an executor, which would settle each run (killing its cgroup itself) once the supervisor reported it.
    /// </summary>
    [Fact]
    public async Task LapsedLease_KillsWhatLeftTheGroup_OfEveryRun_WithTheServerGone()
    {
        using var world = new LimitsWorld("supervisor-unisolated");
        var supervisor = world.Supervisor!;
        var markers = new[] { LimitsWorld.Marker(), LimitsWorld.Marker() };
        var leases = new List<(int Pid, long Start)>();
        foreach (var marker in markers)
        {
            var launch = world.Launch("/bin/sh", "-c", $"(setsid sleep {marker} &); sleep 300");
            var cgroup = world.Cgroups.Create(launch.RunId, new PipelineResources())!;
            var (group, start, _) = await supervisor.StartAsync(
                RunIsolation.None("not isolated (a test)"), launch.RunDirectory, "/bin/sh", launch.Spec.Argv,
                new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, new RunConfinement(false, cgroup.ProcsFiles),
                TestContext.Current.CancellationToken);
            world.Track(group);
            leases.Add((group, start));
            await Poll.UntilAsync(() => LimitsWorld.Sleeping(marker) == 1, "the daemon to start");
        }

        supervisor.KeepLeases(TimeSpan.FromMilliseconds(200), leases);
        world.Leave();

        foreach (var marker in markers)
        {
            await Poll.UntilAsync(() => LimitsWorld.Sleeping(marker) == 0, $"daemon {marker} to be killed with its run");
        }
    }
}
