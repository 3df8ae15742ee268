using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Runway.Data;
using Runway.Execution;
using Runway.Execution.Local;
using Runway.Runs;
using Runway.Tests.Data;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Nodes;

/// <summary>
/// Issue 13: a node takes over the run of a node that died (its lease lapsed), by what the shared run directory
/// says: the exit record's real outcome, else system_error naming the lost node, or another attempt when the
/// pipeline allows retries. SQLite and the real clock; one-second leases.
/// </summary>
public sealed class TakeoverTests : IAsyncDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(1);
    private readonly TestDatabase database = TestDatabase.Sqlite();
    private readonly List<ServiceProvider> nodes = [];
    private RunScheduler? taker;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Takeover_EndsTheRunWithItsExitRecord()
    {
        var run = await ClaimedByLostNodeAsync(retries: 0);
        await File.WriteAllTextAsync(Path.Combine(RunDirectory(run), RunDirectoryFiles.ExitCode), "3\n", Ct);

        var ended = await TakenOverAsync(run, r => r.State.IsFinal());

        Assert.Equal((RunState.Failed, 3, "n2"), (ended.State, ended.ExitCode, ended.Node));
    }

    [Fact]
    public async Task Takeover_EndsInSystemErrorNamingTheLostNode_WhenNothingWasRecorded()
    {
        var run = await ClaimedByLostNodeAsync(retries: 0);

        var ended = await TakenOverAsync(run, r => r.State.IsFinal());

        Assert.Equal(RunState.SystemError, ended.State);
        Assert.StartsWith("node n1 was lost and the run left no exit record", ended.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Takeover_QueuesTheRunAgain_WhenThePipelineAllowsRetries()
    {
        var run = await ClaimedByLostNodeAsync(retries: 1);

        var ended = await TakenOverAsync(run, r => r.State.IsFinal());

        Assert.Equal((RunState.Succeeded, 2), (ended.State, ended.Attempt));
        var events = await Store(nodes[^1]).ListEventsAsync(run.Id, Ct);
        Assert.Equal([RunState.Queued, RunState.Running, RunState.Queued, RunState.Running, RunState.Succeeded], events.Select(e => e.To));
        Assert.Contains("queued again for attempt 2 of 2", events[2].Reason, StringComparison.Ordinal);
    }

    /// <summary>A run claimed by node n1, started (a pid that is gone now), whose node then died: its lease will lapse.</summary>
    private async Task<Run> ClaimedByLostNodeAsync(int retries)
    {
        var lost = await NodeAsync();
        var (run, _) = await Store(lost).AddAsync(new Run
        {
            Id = Ids.NewRunId(TimeProvider.System),
            Pipeline = "test",
            PipelineVersion = "1",
            ParamsJson = "{}",
            Owner = "ana",
            Executor = LocalExecutor.ExecutorName,
            SubmittedAt = TimeProvider.System.GetUtcNow(),
            SpecJson = RunSpecJson.Serialize(new RunSpec { Argv = ["/bin/true"], Retries = retries }),
        }, Ct);
        Assert.Single(await Store(lost).ClaimAsync("n1", 1, Ct));
        using var gone = Process.Start("/bin/true");
        await gone.WaitForExitAsync(Ct);
        await Store(lost).SetNativeIdAsync(run.Id, gone.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), Ct);
        Directory.CreateDirectory(RunDirectory(run));
        return run;
    }

    private async Task<Run> TakenOverAsync(Run run, Func<Run, bool> done)
    {
        var services = await NodeAsync();
        var options = new SchedulerOptions { Node = "n2", Concurrency = 2, PollInterval = TimeSpan.FromMilliseconds(100), LeaseInterval = TimeSpan.FromMilliseconds(100) };
        taker = new RunScheduler(Store(services), [new LocalExecutor(TimeProvider.System, NullLogger<LocalExecutor>.Instance, node: "n2")],
            new RunWorkspace(new RunwayPaths(database.DataDirectory)), TimeProvider.System, NullLogger<RunScheduler>.Instance, options);
        await taker.StartAsync(Ct);
        Run? now = null;
        await Eventually.TrueAsync(async () => (now = await Store(services).GetAsync(run.Id, Ct)) is { } r && done(r), TimeSpan.FromSeconds(30), "the run to be taken over");
        return now!;
    }

    private async Task<ServiceProvider> NodeAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(NodeLease.New(Lease));
        services.AddRunwayData(database.Connection, database.DataDirectory);
        var provider = services.BuildServiceProvider();
        nodes.Add(provider);
        await provider.MigrateRunwayDatabaseAsync(Ct);
        return provider;
    }

    private static IRunStore Store(IServiceProvider services) => services.GetRequiredService<IRunStore>();

    private string RunDirectory(Run run) => new RunwayPaths(database.DataDirectory).RunDirectory(run.Id);

    public async ValueTask DisposeAsync()
    {
        if (taker is not null)
        {
            await taker.StopAsync(CancellationToken.None);
            taker.Dispose();
        }
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }
        database.Dispose();
    }
}
