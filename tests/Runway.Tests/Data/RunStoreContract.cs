using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Runway.Data;
using Runway.Runs;

namespace Runway.Tests.Data;

/// <summary>Submission, claim, cancel requests and lists: the queue half of <see cref="IRunStore"/>.</summary>
public abstract class RunStoreContract(Func<TestDatabase> open) : StoreTest(open)
{
    [Fact]
    public async Task Add_RoundTripsEveryField()
    {
        var run = new Run
        {
            Id = Ids.NewRunId(Clock),
            Pipeline = "wordstats",
            PipelineVersion = "1.2.0",
            Name = "march batch",
            ParamsJson = """{"input":"f_01","min_length":3}""",
            TagsJson = """{"project":"m31"}""",
            Priority = 7,
            Owner = "ana",
            Executor = "slurm",
            SubmittedAt = Clock.GetUtcNow().AddTicks(1230), // sub-millisecond, whole microseconds
            SpecJson = """{"argv":["/bin/echo","hi"]}""",
            IdempotencyKey = "k-1",
            IdempotencyFingerprint = "0f1e2d",
        };

        var (stored, created) = await Store.AddAsync(run, Ct);
        var read = await GetAsync(run.Id);

        Assert.True(created);
        Assert.Same(run, stored);
        Assert.Equivalent(run, read, strict: true);
        Assert.Equal(TimeSpan.Zero, read.SubmittedAt.Offset);
        var e = Assert.Single(await Store.ListEventsAsync(run.Id, Ct));
        Assert.Equal((null, RunState.Queued, "submitted", run.SubmittedAt), (e.From, e.To, e.Reason, e.At));
    }

    [Fact]
    public async Task Add_StoresTheAuditEntryWithTheRun_AndNoneForARetry()
    {
        var first = NewRun(idempotencyKey: "k");
        var retry = NewRun(idempotencyKey: "k");

        await Store.AddAsync(first, new AuditRecord(Clock.GetUtcNow(), "ana", "run.submit", first.Id, "192.0.2.1"), Ct);
        var (_, created) = await Store.AddAsync(retry, new AuditRecord(Clock.GetUtcNow(), "ana", "run.submit", retry.Id, "192.0.2.1"), Ct);

        Assert.False(created);
        await using var db = await OpenDbAsync();
        var entry = Assert.Single(await db.AuditEntries.ToListAsync(Ct));
        Assert.Equal(("ana", "run.submit", first.Id, "192.0.2.1"), (entry.Actor, entry.Action, entry.Target, entry.Address));
    }

    [Fact]
    public async Task Get_ReturnsNull_WhenUnknown() =>
        Assert.Null(await Store.GetAsync(Ids.NewRunId(Clock), Ct));

    [Fact]
    public async Task Add_ReturnsFirstRun_WhenOwnerRepeatsIdempotencyKey()
    {
        var (first, _) = await Store.AddAsync(NewRun(idempotencyKey: "same"), Ct);

        var (again, createdAgain) = await Store.AddAsync(NewRun(idempotencyKey: "same"), Ct);
        var (other, createdForOther) = await Store.AddAsync(NewRun(owner: "bo", idempotencyKey: "same"), Ct);
        var (_, createdWithoutKey1) = await Store.AddAsync(NewRun(), Ct);
        var (_, createdWithoutKey2) = await Store.AddAsync(NewRun(), Ct);

        Assert.False(createdAgain);
        Assert.Equivalent(first, again, strict: true);
        Assert.True(createdForOther);
        Assert.NotEqual(first.Id, other.Id);
        Assert.True(createdWithoutKey1 && createdWithoutKey2);
        await using var db = await OpenDbAsync();
        Assert.Equal(4, await db.Runs.CountAsync(Ct));
        Assert.Single(await Store.ListEventsAsync(first.Id, Ct));
    }

    [Fact]
    public async Task Claim_ReturnsEachRunAsTheModelReadsIt()
    {
        var template = NewRun(idempotencyKey: "k");
        var run = new Run
        {
            Id = template.Id,
            Pipeline = template.Pipeline,
            PipelineVersion = template.PipelineVersion,
            Name = "named",
            ParamsJson = template.ParamsJson,
            TagsJson = """{"a":"b"}""",
            Priority = 3,
            Owner = "ana",
            Executor = "local",
            SubmittedAt = template.SubmittedAt.AddTicks(1230),
            SpecJson = template.SpecJson,
            IdempotencyKey = "k",
            IdempotencyFingerprint = "fp",
        };
        await Store.AddAsync(run, Ct);

        var claimed = Assert.Single(await Store.ClaimAsync("n1", 1, Ct));

        Assert.Equivalent(await GetAsync(run.Id), claimed, strict: true);
        Assert.Equal((RunState.Running, "n1", Clock.GetUtcNow()), (claimed.State, claimed.Node, claimed.StartedAt));
    }

    [Fact]
    public async Task Claim_TakesOnlyRunsOfTheNodesExecutors()
    {
        var slurm = NewRun(priority: 5, executor: "slurm");
        await Store.AddAsync(slurm, Ct);
        var (local, _) = await Store.AddAsync(NewRun(), Ct);
        await using var localOnly = BuildServices(new ClaimableExecutors(["local"]));
        await using var both = BuildServices(new ClaimableExecutors(["local", "slurm"]));

        var byLocalOnly = await localOnly.GetRequiredService<IRunStore>().ClaimAsync("n1", 10, Ct);
        var byBoth = await both.GetRequiredService<IRunStore>().ClaimAsync("n2", 10, Ct);

        Assert.Equal([local.Id], byLocalOnly.Select(r => r.Id));
        Assert.Equal([slurm.Id], byBoth.Select(r => r.Id));
    }

    [Fact]
    public async Task Claim_TakesGpuRunsOnlyWhileTheirGpusAreFree_AndReservesThem()
    {
        Run WithGpus(int gpus, string executor = "local", int priority = 0) =>
            NewRun(priority: priority, executor: executor, specJson: $$$"""{"argv":["/bin/true"],"resources":{"cpus":1,"memory_mb":null,"gpus":{{{gpus}}}}}""");
        var two = WithGpus(2, priority: 5);
        var one = WithGpus(1);
        var another = WithGpus(1);
        var cpu = WithGpus(0);
        var slurm = WithGpus(4, "slurm");
        foreach (var run in (Run[])[two, one, another, cpu, slurm])
        {
            await Store.AddAsync(run, Ct);
        }
        var pool = Runway.Execution.Local.GpuPool.Parse("a,b");
        Assert.True(pool.TryReserve("elsewhere", 1));
        await using var node = BuildServices(new ClaimableExecutors(["local", "slurm"], pool));
        var store = node.GetRequiredService<IRunStore>();

        // One GPU free: the run asking for two waits; one asking for one takes it; Slurm's GPUs are Slurm's.
        var claimed = await store.ClaimAsync("n1", 10, Ct);

        Assert.Equal(new[] { slurm.Id, one.Id, cpu.Id }.Order(StringComparer.Ordinal), claimed.Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.Equal(["b"], pool.Of(one.Id));
        Assert.Empty(await store.ClaimAsync("n1", 10, Ct));

        pool.Release("elsewhere");
        pool.Release(one.Id);
        Assert.Equal([two.Id], (await store.ClaimAsync("n1", 10, Ct)).Select(r => r.Id));
        Assert.Equal(["a", "b"], pool.Of(two.Id));
        Assert.Equal(RunState.Queued, (await GetAsync(another.Id)).State);
    }

    [Fact]
    public async Task Claim_TakesHigherPriorityFirst_ThenOlder()
    {
        var oldLow = await AddAsync(priority: 0);
        var high = await AddAsync(priority: 5);
        var newLow = await AddAsync(priority: 0);
        var negative = await AddAsync(priority: -1);
        var newHigh = await AddAsync(priority: 5);
        Clock.Advance(TimeSpan.FromSeconds(3));

        var claimed = await Store.ClaimAsync("n1", 10, Ct);

        Assert.Equal([high.Id, newHigh.Id, oldLow.Id, newLow.Id, negative.Id], claimed.Select(r => r.Id));
        Assert.All(claimed, r => Assert.Equal((RunState.Running, "n1", Clock.GetUtcNow()), (r.State, r.Node, r.StartedAt)));
        Assert.Equivalent(claimed[0], await GetAsync(high.Id), strict: true);
        var events = await Store.ListEventsAsync(high.Id, Ct);
        Assert.Equal(
            [(null, RunState.Queued, "submitted"), (RunState.Queued, RunState.Running, "claimed by node n1")],
            events.Select(e => (e.From, e.To, e.Reason)));
    }

    [Fact]
    public async Task Claim_TakesAtMostMax_AndOnlyQueuedRuns()
    {
        for (var i = 0; i < 5; i++)
        {
            await AddAsync();
        }

        var first = await Store.ClaimAsync("n1", 2, Ct);
        var second = await Store.ClaimAsync("n2", 10, Ct);
        var third = await Store.ClaimAsync("n1", 10, Ct);

        Assert.Equal(2, first.Count);
        Assert.Equal(3, second.Count);
        Assert.Empty(third);
        Assert.Empty(await Store.ClaimAsync("n1", 0, Ct));
    }

    [Fact]
    public async Task FinishAndClaim_EndsTheRun_AndClaimsItsSuccessor_WithBothEvents()
    {
        var running = await AddRunningAsync("n1");
        var next = await AddAsync();
        var after = await AddAsync();
        var final = new RunTransition(running.Id, [RunState.Running], RunState.Succeeded, "exited with code 0") { ExitCode = 0 };

        var (transitioned, claimed) = await Store.FinishAndClaimAsync(final, "n1", 1, Ct);

        Assert.True(transitioned);
        Assert.Equal([next.Id], claimed.Select(r => r.Id));
        Assert.Equal((RunState.Succeeded, 0), ((await GetAsync(running.Id)).State, (await GetAsync(running.Id)).ExitCode));
        Assert.Equal((RunState.Running, "n1"), ((await GetAsync(next.Id)).State, (await GetAsync(next.Id)).Node));
        Assert.Equal(RunState.Queued, (await GetAsync(after.Id)).State);
        Assert.Equal((RunState.Running, RunState.Succeeded, "exited with code 0"),
            (await Store.ListEventsAsync(running.Id, Ct)).Select(e => (e.From, e.To, e.Reason)).Last());
        Assert.Equal((RunState.Queued, RunState.Running, "claimed by node n1"),
            (await Store.ListEventsAsync(next.Id, Ct)).Select(e => (e.From, e.To, e.Reason)).Last());
    }

    [Fact]
    public async Task FinishManyAndClaim_EndsEachRunWithItsOwnCode_AndClaimsTheirSuccessors_InOneGo()
    {
        var first = await AddRunningAsync("n1");
        var second = await AddRunningAsync("n1");
        var gone = await AddRunningAsync("n1");
        Assert.True(await Store.TryTransitionAsync(new RunTransition(gone.Id, [RunState.Running], RunState.Canceled, "canceled"), Ct));
        var next = await AddAsync();
        var after = await AddAsync();
        RunTransition Exited(Run run, int code, RunState to) =>
            new(run.Id, [RunState.Running], to, $"exited with code {code}") { ExitCode = code };

        var (transitioned, claimed) = await Store.FinishManyAndClaimAsync(
            [Exited(first, 0, RunState.Succeeded), Exited(gone, 0, RunState.Succeeded), Exited(second, 3, RunState.Failed)], "n1", 2, Ct);

        Assert.Equal([true, false, true], transitioned);
        Assert.Equal([next.Id, after.Id], claimed.Select(r => r.Id));
        Assert.Equal((RunState.Succeeded, 0), ((await GetAsync(first.Id)).State, (await GetAsync(first.Id)).ExitCode));
        Assert.Equal((RunState.Failed, 3), ((await GetAsync(second.Id)).State, (await GetAsync(second.Id)).ExitCode));
        Assert.Equal(RunState.Canceled, (await GetAsync(gone.Id)).State);
        Assert.Equal((RunState.Running, RunState.Failed, "exited with code 3"),
            (await Store.ListEventsAsync(second.Id, Ct)).Select(e => (e.From, e.To, e.Reason)).Last());
    }

    [Fact]
    public async Task FinishAndClaim_OfARunNoLongerRunning_LeavesIt_ButStillClaims()
    {
        var running = await AddRunningAsync("n1");
        Assert.True(await Store.TryTransitionAsync(new RunTransition(running.Id, [RunState.Running], RunState.Canceled, "canceled"), Ct));
        var next = await AddAsync();

        var (transitioned, claimed) = await Store.FinishAndClaimAsync(
            new RunTransition(running.Id, [RunState.Running], RunState.Succeeded, "exited with code 0") { ExitCode = 0 }, "n1", 2, Ct);

        Assert.False(transitioned);
        Assert.Equal(RunState.Canceled, (await GetAsync(running.Id)).State);
        Assert.Equal([next.Id], claimed.Select(r => r.Id));
        Assert.Empty((await Store.FinishAndClaimAsync(new RunTransition(next.Id, [RunState.Running], RunState.Failed, "x"), "n1", 0, Ct)).Claimed);
    }

    [Fact]
    public async Task Claim_GivesEachRunToOneClaimer_WhenClaimersRace()
    {
        const int runs = 60;
        for (var i = 0; i < runs; i++)
        {
            await AddAsync(priority: i % 3);
        }

        // Separate containers: separate pools and connections, as separate nodes would have.
        var nodes = Enumerable.Range(0, 6).Select(_ => BuildServices()).ToList();
        try
        {
            var claims = await Task.WhenAll(nodes.Select((node, i) => Task.Run(async () =>
            {
                var store = node.GetRequiredService<IRunStore>();
                var mine = new List<string>();
                while (await store.ClaimAsync($"n{i}", 3, Ct) is { Count: > 0 } batch)
                {
                    mine.AddRange(batch.Select(r => r.Id));
                }
                return mine;
            }, Ct)));

            var all = claims.SelectMany(c => c).ToList();
            Assert.Equal(runs, all.Count);
            Assert.Equal(runs, all.Distinct().Count());
            await using var db = await OpenDbAsync();
            Assert.Equal(runs, await db.RunEvents.CountAsync(e => e.To == RunState.Running, Ct));
            Assert.Equal(0, await db.Runs.CountAsync(r => r.State == RunState.Queued, Ct));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task RequestCancel_MarksRunningRunOnce_AndIgnoresOtherStates()
    {
        var running = await AddRunningAsync();
        var queued = await AddAsync();
        var firstAt = Clock.GetUtcNow();

        Assert.True(await Store.RequestCancelAsync(running.Id, Ct));
        Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True(await Store.RequestCancelAsync(running.Id, Ct));
        Assert.False(await Store.RequestCancelAsync(queued.Id, Ct));
        Assert.False(await Store.RequestCancelAsync(Ids.NewRunId(Clock), Ct));

        Assert.Equal(firstAt, (await GetAsync(running.Id)).CancelRequestedAt);
        Assert.Null((await GetAsync(queued.Id)).CancelRequestedAt);
        Assert.Equal(RunState.Running, (await GetAsync(running.Id)).State);
    }

    [Fact]
    public async Task RequestCancel_ReturnsFalse_WhenFinished()
    {
        var run = await AddRunningAsync();
        Assert.True(await Store.TryTransitionAsync(new(run.Id, [RunState.Running], RunState.Succeeded, "exited 0"), Ct));

        Assert.False(await Store.RequestCancelAsync(run.Id, Ct));
        Assert.Null((await GetAsync(run.Id)).CancelRequestedAt);
    }

    [Fact]
    public async Task CancelMany_CancelsAQueuedRunAtOnce_AndAsksARunningOneToStopOnlyOnce()
    {
        var running = await AddRunningAsync();
        var queued = await AddAsync();
        var firstAt = Clock.GetUtcNow();

        var first = await Store.CancelManyAsync([running.Id, queued.Id], "canceled by ana", Ct);
        Clock.Advance(TimeSpan.FromSeconds(5));
        var second = await Store.CancelManyAsync([running.Id, queued.Id], "canceled by bob", Ct);

        Assert.Equal([queued.Id], first.Canceled);
        Assert.Equal([running.Id], first.Requested);
        Assert.Empty(second.Canceled);
        Assert.Empty(second.Requested); // its stop is under way: not counted, nor recorded, twice
        Assert.Equal(firstAt, (await GetAsync(running.Id)).CancelRequestedAt);
        Assert.Equal(RunState.Canceled, (await GetAsync(queued.Id)).State);
        var events = await Store.ListEventsAsync(running.Id, Ct);
        Assert.Single(events, e => e.Reason.Contains("canceled by", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListRunning_ReturnsOnlyThisNodesRunningRuns()
    {
        var mine = await AddRunningAsync("n1");
        var theirs = await AddRunningAsync("n2");
        var done = await AddRunningAsync("n1");
        await AddAsync();
        Assert.True(await Store.TryTransitionAsync(new(done.Id, [RunState.Running], RunState.Failed, "exited 1"), Ct));

        var running = await Store.ListRunningAsync("n1", Ct);

        Assert.Equal([mine.Id], running.Select(r => r.Id));
        Assert.Equal([theirs.Id], (await Store.ListRunningAsync("n2", Ct)).Select(r => r.Id));
    }

    [Fact]
    public async Task SetNativeId_RecordsExecutorId()
    {
        var run = await AddRunningAsync();

        await Store.SetNativeIdAsync(run.Id, "48213", Ct);

        Assert.Equal("48213", (await GetAsync(run.Id)).NativeId);
    }

    [Fact]
    public async Task SetNativeId_SkipsTheSync_ForItselfOnly()
    {
        var run = await AddRunningAsync();

        await Store.SetNativeIdAsync(run.Id, "48213", Ct);

        // Every connection the store hands out afterwards still commits durably.
        await using var db = await OpenDbAsync();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(Ct);
        await using var command = connection.CreateCommand();
        // SQLite: 2 is FULL. PostgreSQL: the server's own setting (the test server's is off), not the override.
        command.CommandText = db.Database.IsNpgsql()
            ? "SELECT CASE WHEN setting = reset_val THEN 'server default' ELSE setting END FROM pg_settings WHERE name = 'synchronous_commit'"
            : "PRAGMA synchronous";
        var setting = Convert.ToString(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(db.Database.IsNpgsql() ? "server default" : "2", setting);
    }

    [Fact]
    public async Task Migrate_LeavesDataAndSchema_WhenRunAgainOnRestart()
    {
        var run = await AddAsync();
        await using (var restarted = BuildServices())
        {
            await restarted.MigrateRunwayDatabaseAsync(Ct);
            Assert.Equivalent(run, await restarted.GetRequiredService<IRunStore>().GetAsync(run.Id, Ct), strict: true);
        }

        await using var db = await OpenDbAsync();
        // Every migration of the provider's set, once each, whatever later changes add.
        Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync(Ct));
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(Ct));
    }
}
