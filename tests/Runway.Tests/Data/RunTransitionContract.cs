using Runway.Runs;

namespace Runway.Tests.Data;

/// <summary>The compare-and-set state changes of <see cref="IRunStore.TryTransitionAsync"/>.</summary>
public abstract class RunTransitionContract(Func<TestDatabase> open) : StoreTest(open)
{
    [Fact]
    public async Task Transition_MovesAndAppendsEvent_WhenFromMatches()
    {
        var run = await AddRunningAsync();
        Clock.Advance(TimeSpan.FromSeconds(12));

        var moved = await Store.TryTransitionAsync(
            new(run.Id, [RunState.Running], RunState.Failed, "exited 3") { ExitCode = 3, Message = "boom" }, Ct);

        Assert.True(moved);
        var read = await GetAsync(run.Id);
        Assert.Equal((RunState.Failed, 3, "boom", Clock.GetUtcNow()), (read.State, read.ExitCode, read.Message, read.FinishedAt));
        Assert.Equal(run.StartedAt, read.StartedAt);
        Assert.Equal("n1", read.Node);
        var last = (await Store.ListEventsAsync(run.Id, Ct))[^1];
        Assert.Equal((RunState.Running, RunState.Failed, "exited 3", Clock.GetUtcNow()), (last.From, last.To, last.Reason, last.At));
    }

    [Fact]
    public async Task Transition_StoresWhatTheRunUsed_KeepingUnmeasuredFiguresNull()
    {
        var run = await AddRunningAsync();

        Assert.True(await Store.TryTransitionAsync(
            new(run.Id, [RunState.Running], RunState.Succeeded, "exited with code 0") { ExitCode = 0, Usage = new RunUsage(12.5, 3.25, null) }, Ct));

        var read = await GetAsync(run.Id);
        Assert.Equal((12.5, 3.25, (long?)null), (read.WallSeconds, read.CpuSeconds, read.PeakMemoryBytes));
    }

    [Fact]
    public async Task Transition_FinishesAtExitRecordTime_WhenRunEndedBeforeItWasNoticed()
    {
        var run = await AddRunningAsync();
        var ended = run.StartedAt!.Value + TimeSpan.FromSeconds(5);
        Clock.Advance(TimeSpan.FromHours(1)); // the server was down meanwhile

        Assert.True(await Store.TryTransitionAsync(new(run.Id, [RunState.Running], RunState.Succeeded, "exited with code 0") { ExitCode = 0, EndedAt = ended }, Ct));

        Assert.Equal(ended, (await GetAsync(run.Id)).FinishedAt);
        Assert.Equal(ended, (await Store.ListEventsAsync(run.Id, Ct))[^1].At);
    }

    [Fact]
    public async Task Transition_FinishesNow_WhenExitRecordTimeIsInTheFuture()
    {
        var run = await AddRunningAsync();
        Clock.Advance(TimeSpan.FromSeconds(3));

        Assert.True(await Store.TryTransitionAsync(new(run.Id, [RunState.Running], RunState.Failed, "exited with code 1") { ExitCode = 1, EndedAt = Clock.GetUtcNow().AddDays(1) }, Ct));

        Assert.Equal(Clock.GetUtcNow(), (await GetAsync(run.Id)).FinishedAt);
    }

    [Fact]
    public async Task Transition_ReturnsFalse_WhenStateIsNotAnExpectedOne()
    {
        var run = await AddAsync();

        var moved = await Store.TryTransitionAsync(new(run.Id, [RunState.Running], RunState.Succeeded, "exited 0"), Ct);

        Assert.False(moved);
        Assert.Equivalent(run, await GetAsync(run.Id), strict: true);
        Assert.Single(await Store.ListEventsAsync(run.Id, Ct));
    }

    [Theory]
    [InlineData(RunState.Queued, RunState.Succeeded)]
    [InlineData(RunState.Queued, RunState.Queued)]
    [InlineData(RunState.Running, RunState.Running)]
    public async Task Transition_ReturnsFalse_WhenMoveIsForbidden(RunState from, RunState to)
    {
        var run = from == RunState.Running ? await AddRunningAsync() : await AddAsync();
        var events = (await Store.ListEventsAsync(run.Id, Ct)).Count;

        Assert.False(await Store.TryTransitionAsync(new(run.Id, [from], to, "bad"), Ct));

        Assert.Equal(from, (await GetAsync(run.Id)).State);
        Assert.Equal(events, (await Store.ListEventsAsync(run.Id, Ct)).Count);
    }

    [Fact]
    public async Task Transition_ReturnsFalse_WhenFinalStateIsLeftOrRunIsUnknown()
    {
        var run = await AddRunningAsync();
        Assert.True(await Store.TryTransitionAsync(new(run.Id, [RunState.Running], RunState.Succeeded, "exited 0") { ExitCode = 0 }, Ct));

        Assert.False(await Store.TryTransitionAsync(new(run.Id, RunStates.All, RunState.Canceled, "too late"), Ct));
        Assert.False(await Store.TryTransitionAsync(new(Ids.NewRunId(Clock), [RunState.Queued], RunState.Canceled, "ghost"), Ct));
        Assert.Equal(RunState.Succeeded, (await GetAsync(run.Id)).State);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Transition_RecordsActualFromState_WhenSeveralAreExpected(bool running)
    {
        var run = running ? await AddRunningAsync() : await AddAsync();

        var moved = await Store.TryTransitionAsync(
            new(run.Id, [RunState.Queued, RunState.Running], RunState.Canceled, "canceled by ana"), Ct);

        Assert.True(moved);
        var last = (await Store.ListEventsAsync(run.Id, Ct))[^1];
        Assert.Equal((running ? RunState.Running : RunState.Queued, RunState.Canceled, "canceled by ana"), (last.From, last.To, last.Reason));
        Assert.NotNull((await GetAsync(run.Id)).FinishedAt);
    }

    [Fact]
    public async Task Transition_StoresNativeIdWithTheEnd_OnlyWhereNoneIsStored()
    {
        var quick = await AddRunningAsync("n1");
        var slow = await AddRunningAsync("n1");
        await Store.SetNativeIdAsync(slow.Id, "4242", Ct);

        var (recorded, _) = await Store.FinishManyAndClaimAsync(
        [
            new(quick.Id, [RunState.Running], RunState.Succeeded, "exited 0") { ExitCode = 0, NativeId = "77" },
            new(slow.Id, [RunState.Running], RunState.Succeeded, "exited 0") { ExitCode = 0, NativeId = "99" },
        ], "n1", 0, Ct);

        Assert.Equal([true, true], recorded);
        Assert.Equal("77", (await GetAsync(quick.Id)).NativeId);
        Assert.Equal("4242", (await GetAsync(slow.Id)).NativeId);
    }

    [Fact]
    public async Task Transition_ClearsNodeAndStart_WhenHandedBackToQueued()
    {
        var run = await AddRunningAsync("n1");
        await Store.SetNativeIdAsync(run.Id, "4242", Ct);

        Assert.True(await Store.TryTransitionAsync(new(run.Id, [RunState.Running], RunState.Queued, "node restarted before start"), Ct));

        var read = await GetAsync(run.Id);
        Assert.Equal((RunState.Queued, null, null, null, null), (read.State, read.Node, read.NativeId, read.StartedAt, read.FinishedAt));
        var again = Assert.Single(await Store.ClaimAsync("n2", 5, Ct));
        Assert.Equal((run.Id, "n2"), (again.Id, again.Node));
        Assert.Equal(
            [RunState.Queued, RunState.Running, RunState.Queued, RunState.Running],
            (await Store.ListEventsAsync(run.Id, Ct)).Select(e => e.To));
    }

    [Fact]
    public async Task Transition_KeepsRunRunning_WhenHandedBackAfterACancelRequest()
    {
        var run = await AddRunningAsync("n1");
        Assert.True(await Store.RequestCancelAsync(run.Id, Ct));

        // A run with a cancel request is never queued again: it would be claimed and run, or left queued.
        Assert.False(await Store.TryTransitionAsync(new(run.Id, [RunState.Running], RunState.Queued, "node stopping"), Ct));

        var read = await GetAsync(run.Id);
        Assert.Equal((RunState.Running, "n1"), (read.State, read.Node));
        Assert.NotNull(read.CancelRequestedAt);
    }

    [Fact]
    public async Task Transition_SetsStartedAt_WhenQueuedRunStartsDirectly()
    {
        var run = await AddAsync();

        Assert.True(await Store.TryTransitionAsync(new(run.Id, [RunState.Queued], RunState.Running, "started"), Ct));

        Assert.Equal(Clock.GetUtcNow(), (await GetAsync(run.Id)).StartedAt);
    }

    [Fact]
    public async Task Transition_LetsOneOfTwoRacingFinishesWin()
    {
        var runs = new List<Run>();
        for (var i = 0; i < 10; i++)
        {
            runs.Add(await AddAsync());
        }
        Assert.Equal(10, (await Store.ClaimAsync("n1", 10, Ct)).Count);

        var results = await Task.WhenAll(runs.SelectMany(r => new[]
        {
            Task.Run(() => Store.TryTransitionAsync(new(r.Id, [RunState.Running], RunState.Succeeded, "exited 0"), Ct), Ct),
            Task.Run(() => Store.TryTransitionAsync(new(r.Id, [RunState.Running], RunState.Canceled, "canceled"), Ct), Ct),
        }));

        Assert.Equal(10, results.Count(moved => moved));
        foreach (var run in runs)
        {
            var events = await Store.ListEventsAsync(run.Id, Ct);
            Assert.Equal(3, events.Count);
            Assert.Equal((await GetAsync(run.Id)).State, events[^1].To);
        }
    }
}
