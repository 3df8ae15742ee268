using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Runway.Data;
using Runway.Runs;

namespace Runway.Tests.Data;

/// <summary>
/// Base of the store contract suites: each test gets a fresh, migrated database from
/// <paramref name="open"/>, so one suite runs unchanged on SQLite and on PostgreSQL
/// (riverqueue/river's riverdrivertest).
/// </summary>
public abstract class StoreTest(Func<TestDatabase> open) : IAsyncLifetime
{
    private TestDatabase? _database;
    private ServiceProvider? _services;

    protected ManualClock Clock { get; } = new();

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected TestDatabase Database => _database ?? throw new InvalidOperationException("Not initialized.");

    protected IServiceProvider Services => _services ?? throw new InvalidOperationException("Not initialized.");

    protected IRunStore Store => Services.GetRequiredService<IRunStore>();

    public async ValueTask InitializeAsync()
    {
        _database = open();
        _services = BuildServices();
        await _services.MigrateRunwayDatabaseAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
        _database?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Another process on the same database (a restart, or a second node), sharing the test clock.</summary>
    protected ServiceProvider BuildServices(ClaimableExecutors? executors = null, Action<IServiceCollection>? more = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        if (executors is not null)
        {
            services.AddSingleton(executors);
        }
        more?.Invoke(services);
        services.AddSingleton<TimeProvider>(Clock);
        services.AddRunwayData(Database.Connection, Database.DataDirectory);
        return services.BuildServiceProvider();
    }

    protected Run NewRun(string owner = "ana", int priority = 0, string? idempotencyKey = null, string executor = "local", string specJson = """{"argv":["/bin/true"]}""")
    {
        var run = new Run
        {
            Id = Ids.NewRunId(Clock),
            Pipeline = "wordstats",
            PipelineVersion = "1.2.0",
            ParamsJson = """{"min_length":3}""",
            Owner = owner,
            Executor = executor,
            SpecJson = specJson,
            Priority = priority,
            SubmittedAt = Clock.GetUtcNow(),
            IdempotencyKey = idempotencyKey,
        };
        // Distinct submission times, so claim order by age is well defined.
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        return run;
    }

    protected async Task<Run> AddAsync(string owner = "ana", int priority = 0)
    {
        var (run, created) = await Store.AddAsync(NewRun(owner, priority), Ct);
        Assert.True(created);
        return run;
    }

    protected async Task<Run> GetAsync(string id) =>
        await Store.GetAsync(id, Ct) ?? throw new InvalidOperationException($"run {id} is missing");

    protected async Task<Run> AddRunningAsync(string node = "n1")
    {
        var run = await AddAsync();
        var claimed = await Store.ClaimAsync(node, 1, Ct);
        Assert.Equal(run.Id, Assert.Single(claimed).Id);
        return claimed[0];
    }

    protected async Task<RunwayDb> OpenDbAsync() =>
        await Services.GetRequiredService<IDbContextFactory<RunwayDb>>().CreateDbContextAsync(Ct);
}
