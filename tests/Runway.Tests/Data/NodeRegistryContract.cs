using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Runway.Data;

namespace Runway.Tests.Data;

/// <summary>One live process per node name, across servers that share a database.</summary>
public abstract class NodeRegistryContract(Func<TestDatabase> open) : StoreTest(open)
{
    [Fact]
    public async Task Claim_Refuses_WhenAnotherLiveProcessHoldsTheName()
    {
        await NewRegistry().ClaimAsync("n1", "/srv/a", Ct);

        var refused = await Assert.ThrowsAsync<NodeInUseException>(() => NewRegistry().ClaimAsync("n1", "/srv/b", Ct));

        Assert.Contains("another live Runway server is node 'n1' (data directory /srv/a", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Claim_Refuses_WhileTheHolderRenewsItsHeartbeat()
    {
        var first = NewRegistry();
        await first.ClaimAsync("n1", "/srv/a", Ct);
        Clock.Advance(new NodeSettings().LeaseTimeout - TimeSpan.FromSeconds(1));
        Assert.NotNull(await first.RenewAsync("n1", Ct));
        Clock.Advance(new NodeSettings().LeaseTimeout - TimeSpan.FromSeconds(1));

        await Assert.ThrowsAsync<NodeInUseException>(() => NewRegistry().ClaimAsync("n1", "/srv/b", Ct));
    }

    [Fact]
    public async Task Claim_TakesOver_WhenTheHeartbeatIsStale()
    {
        var first = NewRegistry();
        await first.ClaimAsync("n1", "/srv/a", Ct);
        Clock.Advance(new NodeSettings().LeaseTimeout + TimeSpan.FromSeconds(1));

        await NewRegistry().ClaimAsync("n1", "/srv/b", Ct);

        Assert.Null(await first.RenewAsync("n1", Ct));
    }

    [Fact]
    public async Task Claim_TakesOverAtOnce_FromTheSameDataDirectory()
    {
        // The new process holds that directory's lock: the old holder is dead, whatever its heartbeat says.
        await NewRegistry().ClaimAsync("n1", "/srv/a", Ct);

        await NewRegistry().ClaimAsync("n1", "/srv/a", Ct);
    }

    [Fact]
    public async Task Claim_Succeeds_WhenTheHolderReleasedTheName()
    {
        var first = NewRegistry();
        await first.ClaimAsync("n1", "/srv/a", Ct);
        await first.ReleaseAsync("n1", Ct);

        await NewRegistry().ClaimAsync("n1", "/srv/b", Ct);
        await NewRegistry().ClaimAsync("n2", "/srv/c", Ct);
    }

    [Fact]
    public async Task Drain_SurvivesTheNodesRestart_UntilUndrained()
    {
        var first = NewRegistry();
        await first.ClaimAsync("n1", "/srv/a", Ct);
        Assert.True(await first.SetDrainingAsync("n1", true, Ct));

        // A crash (the same directory claims the name again) and a clean stop (the name was released): drained both times.
        var crashed = NewRegistry();
        await crashed.ClaimAsync("n1", "/srv/a", Ct);
        Assert.Equal(NodeStates.Draining, await crashed.RenewAsync("n1", Ct));
        await crashed.ReleaseAsync("n1", Ct);
        Assert.Equal(NodeStates.Draining, Assert.Single(await NewRegistry().ListAsync(Ct)).State);
        var restarted = NewRegistry();
        await restarted.ClaimAsync("n1", "/srv/b", Ct);
        Assert.Equal(NodeStates.Draining, await restarted.RenewAsync("n1", Ct));

        Assert.True(await restarted.SetDrainingAsync("n1", false, Ct));
        Assert.Equal(NodeStates.Active, await restarted.RenewAsync("n1", Ct));
        await restarted.ReleaseAsync("n1", Ct);
        Assert.Empty(await NewRegistry().ListAsync(Ct));
    }

    [Fact]
    public async Task Renew_PublishesWhichRunHoldsEachGpu()
    {
        var registry = NewRegistry();
        await registry.ClaimAsync("n1", "/srv/a", Ct, new NodeDescription(NodeRoles.Worker, ["local"], 2, "1", NodeGpus.Serialize(new Dictionary<string, string?> { ["0"] = null, ["1"] = null })));
        Assert.Equal([new NodeGpu("0", null), new NodeGpu("1", null)], NodeGpus.Parse(Assert.Single(await registry.ListAsync(Ct)).Gpus));

        await registry.RenewAsync("n1", Ct, NodeGpus.Serialize(new Dictionary<string, string?> { ["0"] = null, ["1"] = "RUN1" }));

        Assert.Equal([new NodeGpu("0", null), new NodeGpu("1", "RUN1")], NodeGpus.Parse(Assert.Single(await registry.ListAsync(Ct)).Gpus));
    }

    private NodeRegistry NewRegistry() => new(Services.GetRequiredService<IDbContextFactory<RunwayDb>>(), Clock);
}

public sealed class NodeRegistrySqliteTests() : NodeRegistryContract(TestDatabase.Sqlite);

public sealed class NodeRegistryPostgresTests() : NodeRegistryContract(TestDatabase.Postgres);
