using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Runway.Api;
using Runway.Auth;
using Runway.Data;
using Runway.Runs;

namespace Runway.Tests.Data;

/// <summary>
/// Accounting sums across users against a hand count: runs with known figures stored through the store, one
/// query per grouping (<see cref="UsageQuery"/>), on SQLite and on PostgreSQL.
/// </summary>
public abstract class UsageContract(Func<TestDatabase> open) : StoreTest(open)
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public async Task Usage_SumsPerUser_AsCountedByHand()
    {
        var (from, to) = await SeedAsync();

        var rows = (await QueryAsync(from, to, UsageGrouping.User)).ToDictionary(r => r.Key!);

        Assert.Equal(["ana", "bob"], rows.Keys.Order());
        var ana = rows["ana"];
        Assert.Equal((3L, 2L, 1L, 0L), (ana.Runs, ana.RunsByState["succeeded"], ana.RunsByState["failed"], ana.RunsByState["timed_out"]));
        Assert.Equal((1.5, 0.75), (ana.WallHours, ana.CpuHours));
        // Peaks 100, 200, 300 MiB: nearest rank p50 is the 2nd, p95 the 3rd.
        Assert.Equal((200 * MiB, 300 * MiB, 300 * MiB), (ana.PeakMemoryP50Bytes, ana.PeakMemoryP95Bytes, ana.PeakMemoryMaxBytes));
        var bob = rows["bob"];
        Assert.Equal((2L, 1L, 1L), (bob.Runs, bob.RunsByState["timed_out"], bob.RunsByState["canceled"]));
        Assert.Equal((2.0, 2.0), (bob.WallHours, bob.CpuHours));
        Assert.Equal((1000 * MiB, 1000 * MiB, 1000 * MiB), (bob.PeakMemoryP50Bytes, bob.PeakMemoryP95Bytes, bob.PeakMemoryMaxBytes));
    }

    [Fact]
    public async Task Usage_CountsARunInEachOfItsOwnersGroups()
    {
        var (from, to) = await SeedAsync();

        var rows = (await QueryAsync(from, to, UsageGrouping.Group)).ToDictionary(r => r.Key!);

        Assert.Equal(["lab-a", "lab-b"], rows.Keys.Order());
        var a = rows["lab-a"];
        Assert.Equal((5L, 3.5, 2.75), (a.Runs, a.WallHours, a.CpuHours));
        // Peaks 100, 200, 300, 1000 MiB: p50 the 2nd, p95 the 4th.
        Assert.Equal((200 * MiB, 1000 * MiB, 1000 * MiB), (a.PeakMemoryP50Bytes, a.PeakMemoryP95Bytes, a.PeakMemoryMaxBytes));
        Assert.Equal((3L, 1.5), (rows["lab-b"].Runs, rows["lab-b"].WallHours));
    }

    [Fact]
    public async Task Usage_GroupsByPipelineNodeAndDay_AndOneOwner()
    {
        var (from, to) = await SeedAsync();

        var pipelines = (await QueryAsync(from, to, UsageGrouping.Pipeline)).ToDictionary(r => r.Key!);
        Assert.Equal((4L, 1L), (pipelines["wordstats"].Runs, pipelines["align"].Runs));
        var node = Assert.Single(await QueryAsync(from, to, UsageGrouping.Node));
        Assert.Equal(("n1", 5L), (node.Key, node.Runs));
        var day = Assert.Single(await QueryAsync(from, to, UsageGrouping.Day));
        Assert.Equal((from.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), 5L), (day.Key, day.Runs));
        // Every figure of a day's row, as of the users' rows above: peaks 100, 200, 300, 1000 MiB.
        Assert.Equal((2L, 1L, 1L, 1L, 3.5, 2.75), (day.RunsByState["succeeded"], day.RunsByState["failed"], day.RunsByState["timed_out"], day.RunsByState["canceled"], day.WallHours, day.CpuHours));
        Assert.Equal((200 * MiB, 1000 * MiB, 1000 * MiB), (day.PeakMemoryP50Bytes, day.PeakMemoryP95Bytes, day.PeakMemoryMaxBytes));
        var mine = Assert.Single(await QueryAsync(from, to, UsageGrouping.User, owner: "bob"));
        Assert.Equal(("bob", 2L, 2.0), (mine.Key, mine.Runs, mine.WallHours));
    }

    [Fact]
    public async Task Usage_ByDay_HasARowPerUtcDayWithRuns_InDayOrder()
    {
        var (from, _) = await SeedAsync(); // five runs on 2026-11-24, two of them bob's
        Clock.Advance(new DateTimeOffset(2026, 11, 24, 23, 59, 58, TimeSpan.Zero) - Clock.GetUtcNow());
        await FinishAsync("ana", RunState.Succeeded, new RunUsage(60, 60, 10 * MiB)); // finishes a second later, on the 24th
        Clock.Advance(TimeSpan.FromSeconds(1)); // the next finishes at midnight: the 25th
        await FinishAsync("ana", RunState.Succeeded, new RunUsage(60, 60, 10 * MiB));
        Clock.Advance(TimeSpan.FromDays(2)); // 2026-11-27: the 26th has no run
        await FinishAsync("bob", RunState.Failed, new RunUsage(60, 60, 10 * MiB));
        await FinishAsync("bob", RunState.Succeeded, new RunUsage(60, 60, 10 * MiB));
        var to = Clock.GetUtcNow().AddSeconds(1);

        (string?, long)[] Days(IReadOnlyList<UsageRow> rows) => [.. rows.Select(r => (r.Key, r.Runs))];
        Assert.Equal([("2026-11-24", 6L), ("2026-11-25", 1L), ("2026-11-27", 2L)], Days(await QueryAsync(from, to, UsageGrouping.Day)));
        Assert.Equal([("2026-11-24", 2L), ("2026-11-27", 2L)], Days(await QueryAsync(from, to, UsageGrouping.Day, owner: "bob")));
        // A range that starts and ends inside days counts only what finished in it.
        var lateOn24th = new DateTimeOffset(2026, 11, 24, 23, 0, 0, TimeSpan.Zero);
        Assert.Equal([("2026-11-24", 1L), ("2026-11-25", 1L)], Days(await QueryAsync(lateOn24th, lateOn24th.AddDays(2), UsageGrouping.Day)));
        Assert.Empty(await QueryAsync(to, to.AddDays(1), UsageGrouping.Day));
        var users = await QueryAsync(from, to, UsageGrouping.User);
        Assert.Equal([("ana", 5L), ("bob", 4L)], [.. users.Select(r => (r.Key!, r.Runs))]);
    }

    private Task<IReadOnlyList<UsageRow>> QueryAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping by, string? owner = null) =>
        new UsageQuery(Services.GetRequiredService<IDbContextFactory<RunwayDb>>()).RunAsync(from, to, by, owner, Ct);

    /// <summary>
    /// ana (lab-a, lab-b): succeeded 1 h wall, 0.5 h CPU, 100 MiB; failed 0.5 h, 0.25 h, 300 MiB; succeeded 0 h, no CPU figure, 200 MiB (pipeline align).
    /// bob (lab-a): timed_out 2 h, 2 h, 1000 MiB; canceled with no figures. cy (no group): one run that finished before the range.
    /// </summary>
    private async Task<(DateTimeOffset From, DateTimeOffset To)> SeedAsync()
    {
        await using (var db = await OpenDbAsync())
        {
            foreach (var (name, groups) in (ReadOnlySpan<(string, string)>)[("ana", "lab-a lab-b"), ("bob", "lab-a"), ("cy", "")])
            {
                db.Users.Add(new UserAccount { Username = name, Role = Roles.User, Groups = groups, PasswordHash = "x", CreatedAt = Clock.GetUtcNow() });
            }
            await db.SaveChangesAsync(Ct);
        }
        await FinishAsync("cy", RunState.Succeeded, new RunUsage(60, 60, 10 * MiB));
        Clock.Advance(TimeSpan.FromMinutes(1));
        var from = Clock.GetUtcNow();
        await FinishAsync("ana", RunState.Succeeded, new RunUsage(3600, 1800, 100 * MiB));
        await FinishAsync("ana", RunState.Failed, new RunUsage(1800, 900, 300 * MiB));
        await FinishAsync("ana", RunState.Succeeded, new RunUsage(0, null, 200 * MiB), pipeline: "align");
        await FinishAsync("bob", RunState.TimedOut, new RunUsage(7200, 7200, 1000 * MiB));
        await FinishAsync("bob", RunState.Canceled, null);
        return (from, Clock.GetUtcNow().AddSeconds(1));
    }

    private async Task FinishAsync(string owner, RunState state, RunUsage? usage, string pipeline = "wordstats")
    {
        var template = NewRun(owner);
        var (run, _) = await Store.AddAsync(new Run
        {
            Id = template.Id,
            Pipeline = pipeline,
            PipelineVersion = "1",
            ParamsJson = "{}",
            Owner = owner,
            Executor = "local",
            SpecJson = template.SpecJson,
            SubmittedAt = template.SubmittedAt,
        }, Ct);
        Assert.Equal(run.Id, Assert.Single(await Store.ClaimAsync("n1", 1, Ct)).Id);
        Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await Store.TryTransitionAsync(new(run.Id, [RunState.Running], state, "test") { Usage = usage }, Ct));
    }
}

public sealed class UsageSqliteTests() : UsageContract(TestDatabase.Sqlite);

public sealed class UsagePostgresTests() : UsageContract(TestDatabase.Postgres);
