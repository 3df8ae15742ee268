using Microsoft.Extensions.Logging.Abstractions;
using Runway.Execution;
using Runway.Runs;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Nodes;

/// <summary>Issue 13: a node that stops gracefully hands the runs it claimed but had not started back to the queue at once.</summary>
public sealed class GracefulStopTests : IAsyncDisposable
{
    private readonly TempDirectory temp = new();

    [Fact]
    public async Task Stop_HandsUnstartedClaimsBack_AtOnce()
    {
        var store = new InMemoryRunStore(TimeProvider.System);
        var paths = new RunwayPaths(temp.Combine("data"));
        paths.EnsureCreated();
        var backend = new UnansweringExecutor();
        var options = new SchedulerOptions { Node = "n1", Concurrency = 3, PollInterval = TimeSpan.FromMilliseconds(100) };
        var scheduler = new RunScheduler(store, [backend], new RunWorkspace(paths), TimeProvider.System, NullLogger<RunScheduler>.Instance, options);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (run, _) = await store.AddAsync(NewRun(i), TestContext.Current.CancellationToken);
            ids.Add(run.Id);
        }
        await scheduler.StartAsync(TestContext.Current.CancellationToken);
        await Eventually.TrueAsync(() => backend.Starting == 3, TimeSpan.FromSeconds(10), "three starts under way");

        await scheduler.StopAsync(TestContext.Current.CancellationToken);

        foreach (var id in ids)
        {
            var run = await store.GetAsync(id, TestContext.Current.CancellationToken);
            Assert.Equal((RunState.Queued, null), (run!.State, run.Node));
            var last = (await store.ListEventsAsync(id, TestContext.Current.CancellationToken))[^1];
            Assert.Equal("node stopping before the run started", last.Reason);
        }
        scheduler.Dispose();
    }

    private static Run NewRun(int i) => new()
    {
        Id = Ids.NewRunId(TimeProvider.System),
        Pipeline = "test",
        PipelineVersion = "1",
        ParamsJson = "{}",
        Owner = "ana",
        Executor = UnansweringExecutor.ExecutorName,
        SubmittedAt = DateTimeOffset.UnixEpoch.AddSeconds(i),
        SpecJson = RunSpecJson.Serialize(new RunSpec { Argv = ["/bin/true"] }),
    };

    public ValueTask DisposeAsync()
    {
        temp.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>A backend whose start never answers (a cluster controller that hangs): a start ends only when cancelled.</summary>
    private sealed class UnansweringExecutor : IExecutor
    {
        public const string ExecutorName = "unanswering";
        private int starting;

        public string Name => ExecutorName;

        public int Starting => Volatile.Read(ref starting);

        public async Task<RunHandle> StartAsync(RunLaunch launch, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref starting);
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }

        public RunHandle Attach(RunLaunch launch, string nativeId) => throw new NotSupportedException("nothing was started");

        public Task StopAsync(RunHandle handle, TimeSpan grace, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
