using Microsoft.EntityFrameworkCore;

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
}
