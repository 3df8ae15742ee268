using Runway.Runs;
using Runway.Tests.Fakes;

namespace Runway.Tests.Runs;

/// <summary>A run that ended while no server watched it ended when its exit record says, not when a server noticed.</summary>
public sealed class RunEndTimeTests : IAsyncDisposable
{
    private readonly SchedulerHarness harness = new();

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task Restart_FinishesRunAtItsExitRecordTime_WhenItEndedWhileServerWasDown()
    {
        await harness.StartAsync();
        var run = await harness.SubmitAsync(harness.Gated("runs", "gate"));
        var started = await harness.WaitForStartAsync(run.Id);
        await harness.StopAsync();

        // Down: the run ends, and its wrapper records when.
        harness.Open("gate");
        var record = Path.Combine(harness.Paths.RunDirectory(run.Id), "exit_code");
        await Poll.UntilAsync(() => File.Exists(record) && new FileInfo(record).Length > 0, "the run to end on its own");
        var ended = started.StartedAt!.Value.AddMilliseconds(1500);
        File.SetLastWriteTimeUtc(record, ended.UtcDateTime);
        await Poll.UntilAsync(() => TimeProvider.System.GetUtcNow() > ended.AddMilliseconds(500), "the restart to come well after the end");

        await harness.StartAsync();
        var finished = await harness.WaitForStateAsync(run.Id, RunState.Succeeded);

        Assert.Equal(ended, finished.FinishedAt);
    }
}
