using System.Globalization;
using Runway.Execution.Local;
using Runway.Runs;
using Runway.Tests.Fakes;

namespace Runway.Tests.Runs;

public sealed class RunSchedulerTests : IAsyncDisposable
{
    private readonly SchedulerHarness harness = new();

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_Succeeds_WhenCommandExitsZero()
    {
        await harness.StartAsync();

        var run = await harness.SubmitAsync(SchedulerHarness.Shell("echo hello"));

        var done = await harness.WaitForStateAsync(run.Id, RunState.Succeeded);
        Assert.Equal(0, done.ExitCode);
        Assert.NotNull(done.NativeId);
        Assert.NotNull(done.FinishedAt);
        Assert.Equal("hello\n", File.ReadAllText(Path.Combine(harness.Paths.RunDirectory(run.Id), "stdout.log")));
        var events = await harness.Store.ListEventsAsync(run.Id, Ct);
        Assert.Equal([RunState.Queued, RunState.Running, RunState.Succeeded], events.Select(e => e.To));
    }

    [Fact]
    public async Task NativeId_IsStoredWithTheEnd_WhenRunEndsWithinTheGrace()
    {
        await harness.StartAsync();

        var run = await harness.SubmitAsync(SchedulerHarness.Shell("exit 0"));

        var done = await harness.WaitForStateAsync(run.Id, RunState.Succeeded);
        Assert.NotNull(done.NativeId);
        // One commit per run fewer: the end's commit carried it. On a machine so loaded that `exit 0` took longer than
        // the grace, the id was rightly written on its own; between the two the count says nothing either way.
        var took = done.FinishedAt!.Value - done.StartedAt!.Value;
        if (took < RunLauncher.NativeIdGrace / 2)
        {
            Assert.Equal(0, harness.Store.NativeIdWrites);
        }
        else if (took > RunLauncher.NativeIdGrace * 2)
        {
            Assert.Equal(1, harness.Store.NativeIdWrites);
        }
    }

    [Fact]
    public async Task NativeId_IsStoredOnItsOwn_WhenRunOutlivesTheGrace()
    {
        await harness.StartAsync();

        var run = await harness.SubmitAsync(SchedulerHarness.Shell("sleep 300"));

        // Still running once the grace is over: its id is written on its own, as a restart's adoption check reads it.
        var running = await harness.WaitForStartAsync(run.Id);
        Assert.Equal(1, harness.Store.NativeIdWrites);
        Assert.Equal(RunState.Running, running.State);
        await harness.Scheduler.CancelAsync(run.Id, Ct);
        await harness.WaitForStateAsync(run.Id, RunState.Canceled);
    }

    [Fact]
    public async Task Run_Fails_WhenCommandExitsNonZero()
    {
        await harness.StartAsync();

        var run = await harness.SubmitAsync(SchedulerHarness.Shell("exit 3"));

        var done = await harness.WaitForStateAsync(run.Id, RunState.Failed);
        Assert.Equal(3, done.ExitCode);
        Assert.Equal("exited with code 3", done.Message);
    }

    [Fact]
    public async Task Run_EndsInSystemError_WhenExecutableIsMissing()
    {
        await harness.StartAsync();

        var run = await harness.SubmitAsync(new RunSpec { Argv = ["no-such-program-runway", "x"] });

        var done = await harness.WaitForStateAsync(run.Id, RunState.SystemError);
        Assert.Equal("executable not found: no-such-program-runway", done.Message);
    }

    [Fact]
    public async Task Run_EndsInSystemError_WhenExecutorIsUnknown()
    {
        await harness.StartAsync();

        var run = await harness.SubmitAsync(SchedulerHarness.Shell("true"), executor: "slurm");

        var done = await harness.WaitForStateAsync(run.Id, RunState.SystemError);
        Assert.Equal("no executor named slurm on this node", done.Message);
    }

    [Fact]
    public async Task Run_EndsInSystemError_WhenInputIsMissing()
    {
        await harness.StartAsync();

        var run = await harness.SubmitAsync(SchedulerHarness.Shell("true") with { Inputs = [new StagedInput("f_01JD0000000000000000000000", "in.txt")] });

        var done = await harness.WaitForStateAsync(run.Id, RunState.SystemError);
        Assert.Contains("does not exist", done.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scheduler_NeverRunsMoreThanConcurrency()
    {
        var scheduler = await harness.StartAsync(concurrency: 2);
        var runs = new List<Run>();
        for (var i = 0; i < 5; i++)
        {
            runs.Add(await harness.SubmitAsync(harness.Gated("count", "gate")));
        }
        await Poll.UntilAsync(() => harness.Count("count") == 2, "two runs to start");
        Assert.Equal(2, scheduler.ActiveCount);

        harness.Open("gate");

        foreach (var run in runs)
        {
            await harness.WaitForStateAsync(run.Id, RunState.Succeeded);
        }
        Assert.Equal(2, harness.Store.MaxRunning);
        Assert.Equal(5, harness.Count("count"));
    }

    [Fact]
    public async Task RunsThatEndTogether_AreRecordedInBatches_EachWithItsOwnExitCode()
    {
        harness.Store.FinishDelay = TimeSpan.FromMilliseconds(300);
        await harness.StartAsync(concurrency: 6);
        var runs = new List<(Run Run, int Code)>();
        for (var i = 0; i < 12; i++)
        {
            runs.Add((await harness.SubmitAsync(harness.Gated("count", "gate", exitCode: i % 4)), i % 4));
        }
        await Poll.UntilAsync(() => harness.Count("count") == 6, "six runs to start");

        harness.Open("gate");

        foreach (var (run, code) in runs)
        {
            var ended = await harness.WaitForAsync(run.Id, r => r.State.IsFinal(), $"run {run.Id} to end");
            Assert.Equal((code == 0 ? RunState.Succeeded : RunState.Failed, code), (ended.State, ended.ExitCode));
        }
        // Ends that came while a recording was under way went together into the next one.
        Assert.True(harness.Store.FinishBatches.Max() > 1, string.Join(", ", harness.Store.FinishBatches));
        Assert.Equal(12, harness.Store.FinishBatches.Sum());
    }

    [Fact]
    public async Task Scheduler_StartsHigherPriorityFirst()
    {
        await harness.StartAsync(concurrency: 1);
        var blocker = await harness.SubmitAsync(harness.Gated("blocker", "gate"));
        await harness.WaitForStartAsync(blocker.Id);
        var order = Path.Combine(harness.Shared, "order");
        var low = await harness.SubmitAsync(SchedulerHarness.Shell($"echo low >> '{order}'"), priority: 0);
        var high = await harness.SubmitAsync(SchedulerHarness.Shell($"echo high >> '{order}'"), priority: 5);

        harness.Open("gate");

        await harness.WaitForStateAsync(low.Id, RunState.Succeeded);
        await harness.WaitForStateAsync(high.Id, RunState.Succeeded);
        Assert.Equal(["high", "low"], File.ReadAllLines(order));
    }

    [Fact]
    public async Task Cancel_EndsQueuedRunAtOnce()
    {
        await harness.StartAsync(concurrency: 1);
        var blocker = await harness.SubmitAsync(harness.Gated("blocker", "gate"));
        await harness.WaitForStartAsync(blocker.Id);
        var queued = await harness.SubmitAsync(harness.Gated("queued", "gate"));

        var canceled = await harness.Scheduler.CancelAsync(queued.Id, Ct);

        Assert.Equal(RunState.Canceled, canceled?.State);
        Assert.Equal("canceled by user", canceled?.Message);
        harness.Open("gate");
        await harness.WaitForStateAsync(blocker.Id, RunState.Succeeded);
        Assert.Equal(0, harness.Count("queued"));
    }

    [Fact]
    public async Task Cancel_StopsRunningRun()
    {
        await harness.StartAsync();
        var run = await harness.SubmitAsync(SchedulerHarness.Shell("sleep 300"));
        var running = await harness.WaitForStartAsync(run.Id);

        var afterRequest = await harness.Scheduler.CancelAsync(run.Id, Ct);

        Assert.NotNull(afterRequest?.CancelRequestedAt);
        var done = await harness.WaitForStateAsync(run.Id, RunState.Canceled);
        Assert.Equal("canceled by user", done.Message);
        Assert.False(ProcessTable.GroupAlive(int.Parse(running.NativeId!, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task Cancel_ReturnsRunUnchanged_WhenFinished()
    {
        await harness.StartAsync();
        var run = await harness.SubmitAsync(SchedulerHarness.Shell("exit 0"));
        var done = await harness.WaitForStateAsync(run.Id, RunState.Succeeded);

        var after = await harness.Scheduler.CancelAsync(run.Id, Ct);

        Assert.Equal(RunState.Succeeded, after?.State);
        Assert.Null(after?.CancelRequestedAt);
        Assert.Null(await harness.Scheduler.CancelAsync("01JD0000000000000000000000", Ct));
    }

    [Fact]
    public async Task Run_TimesOut_WhenItExceedsTimeLimit()
    {
        await harness.StartAsync();

        var run = await harness.SubmitAsync(SchedulerHarness.Shell("sleep 300", TimeSpan.FromMilliseconds(500)));

        var done = await harness.WaitForStateAsync(run.Id, RunState.TimedOut);
        Assert.Equal("exceeded time limit of 0.5s", done.Message);
    }

    [Fact]
    public async Task Restart_RequeuesRun_WhenItWasClaimedButNeverStarted()
    {
        var run = harness.NewRun(harness.Gated("count", "gate"));
        run.State = RunState.Running;
        run.Node = SchedulerHarness.Node;
        run.StartedAt = TimeProvider.System.GetUtcNow();
        harness.Store.Put(run);
        harness.Open("gate");

        await harness.StartAsync();

        await harness.WaitForStateAsync(run.Id, RunState.Succeeded);
        Assert.Equal(1, harness.Count("count"));
        var events = await harness.Store.ListEventsAsync(run.Id, Ct);
        Assert.Contains(events, e => e is { From: RunState.Running, To: RunState.Queued, Reason: "node restarted before the run started" });
    }

    [Fact]
    public async Task Restart_TakesBackRunningRun_WithoutRunningItAgain()
    {
        await harness.StartAsync();
        var run = await harness.SubmitAsync(harness.Gated("count", "gate", exitCode: 4));
        await harness.WaitForStartAsync(run.Id);
        await harness.StopAsync();

        var restarted = await harness.StartAsync();
        Assert.Equal(RunState.Running, (await harness.Store.GetAsync(run.Id, Ct))?.State);
        harness.Open("gate");

        var done = await harness.WaitForStateAsync(run.Id, RunState.Failed);
        Assert.Equal(4, done.ExitCode);
        Assert.Equal(1, harness.Count("count"));
        Assert.Equal(0, restarted.StartedCount);
    }

    [Fact]
    public async Task Restart_FindsRunByPidFile_WhenNativeIdWasNeverRecorded()
    {
        await harness.StartAsync();
        var run = await harness.SubmitAsync(harness.Gated("count", "gate"));
        var running = await harness.WaitForStartAsync(run.Id);
        await harness.StopAsync();
        running.NativeId = null;
        harness.Store.Put(running);

        await harness.StartAsync();
        harness.Open("gate");

        var done = await harness.WaitForStateAsync(run.Id, RunState.Succeeded);
        Assert.NotNull(done.NativeId);
        Assert.Equal(1, harness.Count("count"));
    }

    [Fact]
    public async Task Restart_StopsRun_WhenCancelWasRequestedWhileDown()
    {
        await harness.StartAsync();
        var run = await harness.SubmitAsync(harness.Gated("count", "gate"));
        await Poll.UntilAsync(() => harness.Count("count") == 1, "the command to run");
        await harness.StopAsync();
        Assert.True(await harness.Store.RequestCancelAsync(run.Id, Ct));

        await harness.StartAsync();

        await harness.WaitForStateAsync(run.Id, RunState.Canceled);
        Assert.Equal(1, harness.Count("count"));
    }

    [Fact]
    public async Task Restart_RecordsEnd_WhenRunFinishedWhileDown()
    {
        await harness.StartAsync();
        var run = await harness.SubmitAsync(harness.Gated("count", "gate"));
        var running = await harness.WaitForStartAsync(run.Id);
        await harness.StopAsync();
        harness.Open("gate");
        await Poll.UntilAsync(() => File.Exists(Path.Combine(harness.Paths.RunDirectory(run.Id), "exit_code")), "the run to end while the node is down");
        Assert.Equal(RunState.Running, (await harness.Store.GetAsync(run.Id, Ct))?.State);

        await harness.StartAsync();

        await harness.WaitForStateAsync(run.Id, RunState.Succeeded);
        Assert.Equal(1, harness.Count("count"));
    }

    [Fact]
    public async Task Restart_CountsEveryTakenBackRun_BeforeClaimingForOneThatEndedWhileDown()
    {
        await harness.StartAsync(concurrency: 2);
        var ended = await harness.SubmitAsync(harness.Gated("count", "gate-ended"));
        await harness.WaitForStartAsync(ended.Id);
        var live = await harness.SubmitAsync(harness.Gated("count", "gate-live"));
        await harness.WaitForStartAsync(live.Id);
        await harness.StopAsync();
        harness.Open("gate-ended");
        await Poll.UntilAsync(() => File.Exists(Path.Combine(harness.Paths.RunDirectory(ended.Id), "exit_code")), "a run to end while the node is down");
        var queued = await harness.SubmitAsync(harness.Gated("count", "gate-queued"));

        await harness.StartAsync(concurrency: 1);
        await harness.WaitForStateAsync(ended.Id, RunState.Succeeded);

        // The live run holds the only slot: nothing may be claimed along with the ended run's end.
        Assert.Equal(RunState.Queued, (await harness.Store.GetAsync(queued.Id, Ct))?.State);
        harness.Open("gate-live");
        harness.Open("gate-queued");
        await harness.WaitForStateAsync(queued.Id, RunState.Succeeded);
        Assert.Equal(RunState.Succeeded, (await harness.Store.GetAsync(live.Id, Ct))?.State);
    }

    [Fact]
    public async Task Cancel_StopsRun_WhenRequestedThroughAnotherNode()
    {
        await harness.StartAsync();
        var run = await harness.SubmitAsync(SchedulerHarness.Shell("sleep 300"));
        await harness.WaitForStartAsync(run.Id);

        Assert.True(await harness.Store.RequestCancelAsync(run.Id, Ct));

        await harness.WaitForStateAsync(run.Id, RunState.Canceled);
    }

    [Fact]
    public async Task Restart_TimesOutRun_WhenDeadlineFromStartPassedWhileDown()
    {
        await harness.StartAsync();
        var run = await harness.SubmitAsync(harness.Gated("count", "gate") with { TimeLimit = TimeSpan.FromHours(1) });
        var running = await harness.WaitForStartAsync(run.Id);
        await harness.StopAsync();
        running.StartedAt = TimeProvider.System.GetUtcNow() - TimeSpan.FromHours(2);
        harness.Store.Put(running);

        await harness.StartAsync();

        var done = await harness.WaitForStateAsync(run.Id, RunState.TimedOut);
        Assert.Equal("exceeded time limit of 1h", done.Message);
    }
}
