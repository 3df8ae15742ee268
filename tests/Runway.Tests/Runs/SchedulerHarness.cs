using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Runway.Execution;
using Runway.Execution.Local;
using Runway.Runs;
using Runway.Tests.Fakes;

namespace Runway.Tests.Runs;

/// <summary>
/// A data directory, an in-memory store, and schedulers with real local executors over them. A "restart"
/// stops one scheduler and starts another on the same store and directory, as a new server process would.
/// </summary>
public sealed class SchedulerHarness : IAsyncDisposable
{
    public const string Node = "test-node";

    private readonly TempDirectory temp = new();
    private readonly List<(RunScheduler Scheduler, LocalExecutor Executor)> started = [];
    private int submitted;

    public SchedulerHarness()
    {
        Paths = new RunwayPaths(temp.Combine("data"));
        Paths.EnsureCreated();
        Shared = temp.Combine("shared");
        Directory.CreateDirectory(Shared);
    }

    public InMemoryRunStore Store { get; } = new();
    public RunwayPaths Paths { get; }

    /// <summary>A directory outside every run directory that commands can write to (counters, orderings).</summary>
    public string Shared { get; }

    public RunScheduler Scheduler => started[^1].Scheduler;

    public async Task<RunScheduler> StartAsync(int concurrency = 4)
    {
        var executor = new LocalExecutor(TimeProvider.System, NullLogger<LocalExecutor>.Instance);
        var options = new SchedulerOptions { Node = Node, Concurrency = concurrency, StopGrace = TimeSpan.FromSeconds(5), PollInterval = TimeSpan.FromMilliseconds(100) };
        var scheduler = new RunScheduler(Store, [executor], new RunWorkspace(Paths), TimeProvider.System, NullLogger<RunScheduler>.Instance, options);
        started.Add((scheduler, executor));
        await scheduler.StartAsync(TestContext.Current.CancellationToken);
        return scheduler;
    }

    /// <summary>Stops claiming, as a server shutting down does; the runs go on.</summary>
    public async Task StopAsync() => await Scheduler.StopAsync(TestContext.Current.CancellationToken);

    public Run NewRun(RunSpec spec, int priority = 0, string executor = LocalExecutor.ExecutorName) => new()
    {
        Id = Ids.NewRunId(TimeProvider.System),
        Pipeline = "test",
        PipelineVersion = "1.0.0",
        ParamsJson = "{}",
        Priority = priority,
        Owner = "ana",
        Executor = executor,
        // Distinct submission times keep "then by age" deterministic.
        SubmittedAt = DateTimeOffset.UnixEpoch.AddSeconds(Interlocked.Increment(ref submitted)),
        SpecJson = RunSpecJson.Serialize(spec),
    };

    public async Task<Run> SubmitAsync(RunSpec spec, int priority = 0, string executor = LocalExecutor.ExecutorName)
    {
        var (run, _) = await Store.AddAsync(NewRun(spec, priority, executor), TestContext.Current.CancellationToken);
        if (started.Count > 0)
        {
            Scheduler.Wake();
        }
        return run;
    }

    public static RunSpec Shell(string script, TimeSpan? timeLimit = null) => new() { Argv = ["/bin/sh", "-c", script], TimeLimit = timeLimit };

    /// <summary>A command that appends to <paramref name="counter"/> each time it runs, then waits for <paramref name="gate"/>.</summary>
    public RunSpec Gated(string counter, string gate, int exitCode = 0) =>
        Shell($"echo run >> '{Path.Combine(Shared, counter)}'; while [ ! -e '{Path.Combine(Shared, gate)}' ]; do sleep 0.05; done; exit {exitCode}");

    public void Open(string gate) => File.WriteAllText(Path.Combine(Shared, gate), "");

    public int Count(string counter) => File.Exists(Path.Combine(Shared, counter)) ? File.ReadAllLines(Path.Combine(Shared, counter)).Length : 0;

    public async Task<Run> WaitForAsync(string runId, Func<Run, bool> condition, string what)
    {
        Run? run = null;
        await Poll.UntilAsync(async () => (run = await Store.GetAsync(runId, TestContext.Current.CancellationToken)) is { } r && condition(r), what);
        return run!;
    }

    public Task<Run> WaitForStateAsync(string runId, RunState state) => WaitForAsync(runId, r => r.State == state, $"run {runId} to be {state.ToWire()}");

    public Task<Run> WaitForStartAsync(string runId) => WaitForAsync(runId, r => r.State == RunState.Running && r.NativeId is not null, $"run {runId} to start");

    public async ValueTask DisposeAsync()
    {
        foreach (var (scheduler, executor) in started)
        {
            await scheduler.StopAsync(CancellationToken.None);
            scheduler.Dispose();
            executor.Dispose();
        }
        // Whatever a failed test left running must not outlive it.
        foreach (var directory in Directory.EnumerateDirectories(Paths.RunsDirectory))
        {
            if (File.Exists(Path.Combine(directory, "pid"))
                && int.TryParse(File.ReadAllText(Path.Combine(directory, "pid")).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var group))
            {
                Posix.KillGroup(group, Posix.SigKill);
            }
        }
        temp.Dispose();
    }
}
