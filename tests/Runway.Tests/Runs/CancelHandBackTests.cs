using Microsoft.Extensions.Logging.Abstractions;
using Runway.Runs;

namespace Runway.Tests.Runs;

/// <summary>A cancel and a hand-back to the queue (node stopping, or restarted before the run started) in either order.</summary>
public sealed class CancelHandBackTests : IAsyncDisposable
{
    private readonly SchedulerHarness harness = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Cancel_EndsRunCanceled_WhenRunIsHandedBackDuringTheCancel()
    {
        var (run, _) = await harness.Store.AddAsync(harness.NewRun(SchedulerHarness.Shell("exit 0")), Ct);
        Assert.Single(await harness.Store.ClaimAsync("other-node", 1, Ct));
        // The cancel has seen the run running; the other node hands it back before the request is recorded.
        harness.Store.BeforeRequestCancel = id => harness.Store.TryTransitionAsync(
            new RunTransition(id, [RunState.Running], RunState.Queued, "node stopping before the run started"), Ct);
        // Not started: nothing here claims the run once it is queued again.
        using var scheduler = new RunScheduler(harness.Store, [], new RunWorkspace(harness.Paths), TimeProvider.System,
            NullLogger<RunScheduler>.Instance, new SchedulerOptions { Node = SchedulerHarness.Node });

        var answered = await scheduler.CancelAsync(run.Id, Ct);

        Assert.Equal(RunState.Canceled, answered?.State);
        Assert.Equal(RunState.Canceled, (await harness.Store.GetAsync(run.Id, Ct))?.State);
    }

    [Fact]
    public async Task Restart_EndsRunCanceled_WhenCancelWasRequestedBeforeItWasHandedBack()
    {
        var run = harness.NewRun(harness.Gated("count", "gate"));
        run.State = RunState.Running;
        run.Node = SchedulerHarness.Node;
        run.StartedAt = TimeProvider.System.GetUtcNow();
        harness.Store.Put(run);
        Assert.True(await harness.Store.RequestCancelAsync(run.Id, Ct));
        harness.Open("gate");

        var restarted = await harness.StartAsync();

        var done = await harness.WaitForAsync(run.Id, r => r.State.IsFinal(), "the run to end");
        Assert.Equal(RunState.Canceled, done.State);
        Assert.Equal(0, harness.Count("count"));
        Assert.Equal(0, restarted.StartedCount);
    }

    [Fact]
    public async Task Claim_EndsRunCanceledUnstarted_WhenAQueuedRunCarriesACancelRequest()
    {
        // As a hand-back before this rule left it: queued, with the user's cancel recorded.
        var run = harness.NewRun(harness.Gated("count", "gate"));
        run.CancelRequestedAt = TimeProvider.System.GetUtcNow();
        harness.Store.Put(run);
        harness.Open("gate");

        var scheduler = await harness.StartAsync();

        var done = await harness.WaitForAsync(run.Id, r => r.State.IsFinal(), "the run to end");
        Assert.Equal(RunState.Canceled, done.State);
        Assert.Equal(0, harness.Count("count"));
        Assert.Equal(0, scheduler.StartedCount);
    }

    [Fact]
    public async Task HandBack_EndsRunCanceled_WhenCancelWasRequested()
    {
        var (run, _) = await harness.Store.AddAsync(harness.NewRun(SchedulerHarness.Shell("exit 0")), Ct);
        Assert.Single(await harness.Store.ClaimAsync(SchedulerHarness.Node, 1, Ct));
        Assert.True(await harness.Store.RequestCancelAsync(run.Id, Ct));

        var state = await RunHandBack.HandBackAsync(harness.Store, run.Id, "node stopping before the run started", Ct);

        Assert.Equal(RunState.Canceled, state);
        Assert.Equal(RunState.Canceled, (await harness.Store.GetAsync(run.Id, Ct))?.State);
    }

    [Fact]
    public async Task HandBack_QueuesRunAgain_WhenNoCancelWasRequested()
    {
        var (run, _) = await harness.Store.AddAsync(harness.NewRun(SchedulerHarness.Shell("exit 0")), Ct);
        Assert.Single(await harness.Store.ClaimAsync(SchedulerHarness.Node, 1, Ct));

        var state = await RunHandBack.HandBackAsync(harness.Store, run.Id, "node stopping before the run started", Ct);

        Assert.Equal(RunState.Queued, state);
    }

    public ValueTask DisposeAsync() => harness.DisposeAsync();
}
