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

    private NodeRegistry NewRegistry() => new(Services.GetRequiredService<IDbContextFactory<RunwayDb>>(), Clock);
}

public sealed class NodeRegistrySqliteTests() : NodeRegistryContract(TestDatabase.Sqlite);

public sealed class NodeRegistryPostgresTests() : NodeRegistryContract(TestDatabase.Postgres);
