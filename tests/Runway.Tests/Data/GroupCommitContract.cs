using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Runway.Data;
using Runway.Runs;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Data;

public sealed class GroupCommitSqliteTests() : GroupCommitContract(TestDatabase.Sqlite);

public sealed class GroupCommitPostgresTests() : GroupCommitContract(TestDatabase.Postgres);

/// <summary>Concurrent submissions share transactions (group commit); each must still land exactly once.</summary>
public abstract class GroupCommitContract(Func<TestDatabase> open) : StoreTest(open)
{
    [Fact]
    public async Task Add_StoresEveryRunWithItsEvent_WhenManySubmitAtOnce()
    {
        var runs = Enumerable.Range(0, 300).Select(_ => NewRun()).ToList();

        var results = await Task.WhenAll(runs.Select(r => Task.Run(() => Store.AddAsync(r, Ct), Ct)));

        Assert.All(results, r => Assert.True(r.Created));
        await using var db = await OpenDbAsync();
        Assert.Equal(300, await db.Runs.CountAsync(Ct));
        Assert.Equal(300, await db.RunEvents.CountAsync(Ct));
    }

    [Fact]
    public async Task Add_CreatesOneRunPerKey_WhenRetriesArriveTogether()
    {
        var keyed = Enumerable.Range(0, 40).Select(_ => NewRun(idempotencyKey: "retry")).ToList();
        var plain = Enumerable.Range(0, 40).Select(_ => NewRun()).ToList();

        var results = await Task.WhenAll(keyed.Concat(plain).Select(r => Task.Run(() => Store.AddAsync(r, Ct), Ct)));

        var keyedResults = results.Take(40).ToList();
        var winner = Assert.Single(keyedResults, r => r.Created).Run;
        Assert.All(keyedResults, r => Assert.Equal(winner.Id, r.Run.Id));
        Assert.All(results.Skip(40), r => Assert.True(r.Created));
        await using var db = await OpenDbAsync();
        Assert.Equal(41, await db.Runs.CountAsync(Ct));
        Assert.Equal(41, await db.RunEvents.CountAsync(Ct));
    }

    [Fact]
    public async Task Add_StoresEveryColumnAndTheAudit_AsTheModelReadsThem()
    {
        // Not what a submission sets, but every column a run has: the plain INSERT must write each as EF Core maps it.
        var at = new DateTimeOffset(2026, 12, 3, 1, 2, 3, TimeSpan.FromHours(2)).AddTicks(4560);
        var template = NewRun(idempotencyKey: "k1");
        var run = new Run
        {
            Id = template.Id,
            Pipeline = "wc",
            PipelineVersion = "2.0",
            Name = "nightly",
            ParamsJson = """{"n":1}""",
            TagsJson = """{"team":"x"}""",
            Priority = 7,
            Owner = "bo",
            State = RunState.Queued,
            Message = "m",
            ExitCode = 3,
            Executor = "local",
            NativeId = "42",
            Node = "n9",
            SubmittedAt = at,
            StartedAt = at.AddSeconds(1),
            FinishedAt = at.AddSeconds(2),
            CancelRequestedAt = at.AddSeconds(3),
            SpecJson = """{"argv":["/bin/false"]}""",
            IdempotencyKey = "k1",
            IdempotencyFingerprint = "f1",
        };

        var (stored, created) = await Store.AddAsync(run, new AuditRecord(at, "bo", "run.submit", run.Id, "10.0.0.1"), Ct);

        Assert.True(created);
        Assert.Same(run, stored);
        await using var db = await OpenDbAsync();
        var read = await db.Runs.AsNoTracking().SingleAsync(Ct);
        Assert.Equivalent(run, read, strict: true);
        Assert.Equal(at, read.SubmittedAt);
        var e = await db.RunEvents.AsNoTracking().SingleAsync(Ct);
        Assert.Equal((run.Id, (RunState?)null, RunState.Queued, "submitted", at), (e.RunId, e.From, e.To, e.Reason, e.At));
        var audit = await db.AuditEntries.AsNoTracking().SingleAsync(Ct);
        Assert.Equal((at, "bo", "run.submit", run.Id, "10.0.0.1"), (audit.At, audit.Actor, audit.Action, audit.Target, audit.Address));
    }
}

/// <summary>On SQLite the runs' ends and claims go through the group commit's writer: one holder of the write lock.</summary>
public sealed class SharedWriterSqliteTests() : StoreTest(TestDatabase.Sqlite)
{
    [Fact]
    public async Task EndsAndClaims_CommitWithTheSubmissionsWaiting_InOneTransaction()
    {
        var running = new List<Run>();
        for (var i = 0; i < 3; i++)
        {
            running.Add(await AddRunningAsync());
        }
        var store = (RunStore)Store;
        var commits = 0;
        var file = Services.GetRequiredService<DatabaseConnection>().ConnectionString;
        using var counting = new CommitCounter(new SqliteConnectionStringBuilder(file).DataSource, () => Interlocked.Increment(ref commits));

        // Another process holds SQLite's write lock: the writer's first transaction waits at its BEGIN.
        await using var other = new SqliteConnection(file);
        await other.OpenAsync(Ct);
        await using var hold = other.BeginTransaction(deferred: false);
        var plug = Store.AddAsync(NewRun(), Ct);
        await Eventually.TrueAsync(() => store.WaitingWrites == 0, TimeSpan.FromSeconds(4), "the writer to take the first submission");

        var submitted = Enumerable.Range(0, 4).Select(_ => Store.AddAsync(NewRun(), Ct)).ToList();
        var ended = running.Select(r => Store.FinishAndClaimAsync(
            new RunTransition(r.Id, [RunState.Running], RunState.Succeeded, "exited with code 0") { ExitCode = 0 }, "n1", 1, Ct)).ToList();
        // The ends wait with the submissions, not at a BEGIN of their own.
        await Eventually.TrueAsync(() => store.WaitingWrites == 7, TimeSpan.FromSeconds(4), "the ends and submissions to wait for the writer together");
        await hold.RollbackAsync(Ct);

        Assert.True((await plug).Created);
        Assert.All(await Task.WhenAll(submitted), r => Assert.True(r.Created));
        var results = await Task.WhenAll(ended);
        Assert.All(results, r => Assert.True(r.Transitioned));
        // Each end claimed one of the five queued runs, none twice.
        var claimed = results.SelectMany(r => r.Claimed).Select(r => r.Id).ToList();
        Assert.Equal(3, claimed.Distinct().Count());
        Assert.Equal(2, commits);
        foreach (var run in running)
        {
            Assert.Equal((RunState.Succeeded, 0), ((await GetAsync(run.Id)).State, (await GetAsync(run.Id)).ExitCode));
        }
        await using var db = await OpenDbAsync();
        Assert.Equal(3, await db.Runs.CountAsync(r => r.State == RunState.Running, Ct));
        Assert.Equal(2, await db.Runs.CountAsync(r => r.State == RunState.Queued, Ct));
    }

    /// <summary>EF Core's committed transactions on one SQLite file, from its DiagnosticListener (the process's: other tests' files are left out).</summary>
    private sealed class CommitCounter : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
    {
        private readonly string file;
        private readonly Action counted;
        private readonly List<IDisposable> subscriptions = [];

        public CommitCounter(string file, Action counted)
        {
            this.file = file;
            this.counted = counted;
            subscriptions.Add(DiagnosticListener.AllListeners.Subscribe(this));
        }

        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == DbLoggerCategory.Name)
            {
                lock (subscriptions)
                {
                    subscriptions.Add(value.Subscribe(this));
                }
            }
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            if (value.Key == RelationalEventId.TransactionCommitted.Name
                && value.Value is TransactionEndEventData { Context: { } context }
                && context.Database.GetDbConnection() is SqliteConnection connection && connection.DataSource == file)
            {
                counted();
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void Dispose()
        {
            lock (subscriptions)
            {
                subscriptions.ForEach(s => s.Dispose());
            }
        }
    }
}
