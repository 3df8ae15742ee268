using Microsoft.EntityFrameworkCore;
using Runway.Runs;

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
