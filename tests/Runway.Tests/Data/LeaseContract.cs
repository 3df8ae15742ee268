using Microsoft.Extensions.DependencyInjection;
using Runway.Auth;
using Runway.Data;
using Runway.Runs;

namespace Runway.Tests.Data;

/// <summary>
/// Issue 13, in the store: claims lease runs to the claiming process, a lapsed lease lets another node rescue the run,
/// and the first node is fenced off from it; draining nodes and users at their cap claim nothing more.
/// </summary>
public abstract class LeaseContract(Func<TestDatabase> open) : StoreTest(open)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Claim_LeasesTheRunToTheClaimingProcess()
    {
        await using var a = Node(out var lease);
        await AddAsync();

        var claimed = Assert.Single(await a.GetRequiredService<IRunStore>().ClaimAsync("n1", 1, Ct));

        Assert.Equal((lease.Id, Clock.GetUtcNow() + Timeout), (claimed.Lease, claimed.LeaseExpiresAt));
        Assert.Equal(lease.Id, (await GetAsync(claimed.Id)).Lease);
    }

    [Fact]
    public async Task Rescue_TakesOverARun_OnlyOnceItsLeaseExpired()
    {
        await using var a = Node(out _);
        await using var b = Node(out var bLease);
        var run = await AddAsync();
        Assert.Single(await a.GetRequiredService<IRunStore>().ClaimAsync("n1", 1, Ct));
        var rescuer = b.GetRequiredService<IRunStore>();

        Clock.Advance(Timeout - TimeSpan.FromSeconds(1));
        Assert.Empty(await rescuer.RescueExpiredAsync("n2", 10, Ct));
        Clock.Advance(TimeSpan.FromSeconds(2));
        var rescued = Assert.Single(await rescuer.RescueExpiredAsync("n2", 10, Ct));

        Assert.Equal((run.Id, "n1"), (rescued.Run.Id, rescued.PreviousNode));
        Assert.Equal(("n2", bLease.Id, RunState.Running), (rescued.Run.Node, rescued.Run.Lease, rescued.Run.State));
        Assert.Empty(await a.GetRequiredService<IRunStore>().RescueExpiredAsync("n1", 10, Ct));
    }

    [Fact]
    public async Task Renew_KeepsTheLease_AndReportsARunTakenOver()
    {
        await using var a = Node(out _);
        await using var b = Node(out _);
        var run = await AddAsync();
        var store = a.GetRequiredService<IRunStore>();
        Assert.Single(await store.ClaimAsync("n1", 1, Ct));

        Clock.Advance(Timeout - TimeSpan.FromSeconds(1));
        Assert.Empty(await store.RenewLeasesAsync([run.Id], Ct));
        Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Empty(await b.GetRequiredService<IRunStore>().RescueExpiredAsync("n2", 10, Ct)); // renewed: not expired

        Clock.Advance(Timeout + TimeSpan.FromSeconds(1));
        Assert.Single(await b.GetRequiredService<IRunStore>().RescueExpiredAsync("n2", 10, Ct));
        Assert.Equal([run.Id], await store.RenewLeasesAsync([run.Id], Ct));
    }

    [Fact]
    public async Task Fencing_ANodeWhoseLeaseWasTaken_CannotTouchTheRun()
    {
        await using var a = Node(out _);
        await using var b = Node(out _);
        var run = await AddAsync();
        var first = a.GetRequiredService<IRunStore>();
        Assert.Single(await first.ClaimAsync("n1", 1, Ct));
        Clock.Advance(Timeout + TimeSpan.FromSeconds(1));
        var second = b.GetRequiredService<IRunStore>();
        Assert.Single(await second.RescueExpiredAsync("n2", 10, Ct));

        // The first node comes back from its pause and tries to record what it saw.
        var succeeded = new RunTransition(run.Id, [RunState.Running], RunState.Succeeded, "exited with code 0") { ExitCode = 0 };
        Assert.False(await first.TryTransitionAsync(succeeded, Ct));
        Assert.False(await first.TryTransitionAsync(new RunTransition(run.Id, [RunState.Running], RunState.Queued, "handed back"), Ct));
        await first.SetNativeIdAsync(run.Id, "4242", Ct);
        await first.SetNoteAsync(run.Id, "from the old node", Ct);
        var (finished, _) = await first.FinishAndClaimAsync(succeeded, "n1", 1, Ct);
        Assert.False(finished);
        Assert.Equal([false], (await first.FinishManyAndClaimAsync([succeeded], "n1", 1, Ct)).Transitioned);
        var untouched = await GetAsync(run.Id);
        Assert.Equal((RunState.Running, "n2", null, null), (untouched.State, untouched.Node, untouched.NativeId, untouched.Message));

        Assert.True(await second.TryTransitionAsync(succeeded, Ct));
        Assert.Equal(RunState.Succeeded, (await GetAsync(run.Id)).State);
    }

    [Fact]
    public async Task Retry_QueuesTheRunAgain_AsItsNextAttempt()
    {
        await using var a = Node(out _);
        var store = a.GetRequiredService<IRunStore>();
        var run = await AddAsync();
        Assert.Single(await store.ClaimAsync("n1", 1, Ct));

        Assert.True(await store.TryTransitionAsync(new RunTransition(run.Id, [RunState.Running], RunState.Queued, "node n0 was lost") { Retry = true }, Ct));

        var queued = await GetAsync(run.Id);
        Assert.Equal((RunState.Queued, 2, null, null, null), (queued.State, queued.Attempt, queued.Lease, queued.LeaseExpiresAt, queued.Node));
        var again = Assert.Single(await store.ClaimAsync("n1", 1, Ct));
        Assert.Equal(2, again.Attempt);
        Assert.Equal([RunState.Queued, RunState.Running, RunState.Queued, RunState.Running], (await Store.ListEventsAsync(run.Id, Ct)).Select(e => e.To));
    }

    [Fact]
    public async Task TakeBack_LeasesANodesRunsToItsNewProcess()
    {
        await using var before = Node(out _);
        await using var after = Node(out var afterLease);
        var run = await AddAsync();
        Assert.Single(await before.GetRequiredService<IRunStore>().ClaimAsync("n1", 1, Ct));

        var taken = Assert.Single(await after.GetRequiredService<IRunStore>().TakeBackAsync("n1", Ct));

        Assert.Equal((run.Id, afterLease.Id), (taken.Id, taken.Lease));
        Assert.False(await before.GetRequiredService<IRunStore>().TryTransitionAsync(
            new RunTransition(run.Id, [RunState.Running], RunState.Succeeded, "exited with code 0"), Ct));
    }

    [Fact]
    public async Task Claim_TakesNothing_WhileTheNodeIsDraining()
    {
        var registry = new NodeRegistry(Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<RunwayDb>>(), Clock);
        await registry.ClaimAsync("n1", "/srv/a", Ct);
        await AddAsync();

        Assert.True(await registry.SetDrainingAsync("n1", true, Ct));
        Assert.Empty(await Store.ClaimAsync("n1", 5, Ct));
        Assert.Equal(NodeStates.Draining, await registry.RenewAsync("n1", Ct));

        Assert.True(await registry.SetDrainingAsync("n1", false, Ct));
        Assert.Single(await Store.ClaimAsync("n1", 5, Ct));
    }

    [Fact]
    public async Task Claim_KeepsEachUserUnderTheirCap_AndTakesOthersRuns()
    {
        await AddUserAsync("ana", "");
        await AddUserAsync("bo", "lab big");
        var limits = new UserRunLimits { MaxRunningPerUser = 2, Groups = { ["big"] = new GroupRunLimits { MaxRunningPerUser = 3 } } };
        await using var node = BuildServices(more: s => s.AddSingleton(limits));
        var store = node.GetRequiredService<IRunStore>();
        for (var i = 0; i < 5; i++)
        {
            await AddAsync("ana", priority: 1);
        }
        for (var i = 0; i < 5; i++)
        {
            await AddAsync("bo");
        }
        await AddAsync("cy"); // no account: the global cap

        var first = await store.ClaimAsync("n1", 10, Ct);
        Assert.Equal(new Dictionary<string, int> { ["ana"] = 2, ["bo"] = 3, ["cy"] = 1 },
            first.GroupBy(r => r.Owner).ToDictionary(g => g.Key, g => g.Count()));
        Assert.Empty(await store.ClaimAsync("n1", 10, Ct));

        // A slot of ana's frees: exactly one more of hers.
        var done = first.First(r => r.Owner == "ana");
        Assert.True(await store.TryTransitionAsync(new RunTransition(done.Id, [RunState.Running], RunState.Succeeded, "exited with code 0"), Ct));
        Assert.Equal(["ana"], (await store.ClaimAsync("n1", 10, Ct)).Select(r => r.Owner));
    }

    private async Task AddUserAsync(string name, string groups)
    {
        await using var db = await OpenDbAsync();
        db.Users.Add(new UserAccount { Username = name, Role = Roles.User, Groups = groups, PasswordHash = "x", CreatedAt = Clock.GetUtcNow() });
        await db.SaveChangesAsync(Ct);
    }

    /// <summary>Another node process on this database: its store holds a lease of its own.</summary>
    private ServiceProvider Node(out NodeLease lease)
    {
        var own = NodeLease.New(Timeout);
        lease = own;
        return BuildServices(more: s => s.AddSingleton(own));
    }
}

public sealed class LeaseSqliteTests() : LeaseContract(TestDatabase.Sqlite);

public sealed class LeasePostgresTests() : LeaseContract(TestDatabase.Postgres);
