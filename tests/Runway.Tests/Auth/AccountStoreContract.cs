using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Runway.Auth;
using Runway.Data;
using Runway.Tests.Data;

namespace Runway.Tests.Auth;

public sealed class AccountStoreSqliteTests() : AccountStoreContract(TestDatabase.Sqlite);

public sealed class AccountStorePostgresTests() : AccountStoreContract(TestDatabase.Postgres);

/// <summary>Users, tokens, clients and the audit trail on each provider, through the services the API and CLI use.</summary>
public abstract class AccountStoreContract(Func<TestDatabase> open) : StoreTest(open)
{
    /// <summary>The account services over the test's database; disposed by each test before the database is dropped.</summary>
    private ServiceProvider OpenAccounts() => new ServiceCollection()
        .AddSingleton<TimeProvider>(Clock)
        .AddRunwayData(Database.Connection, Database.DataDirectory)
        .AddRunwayAccounts(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Runway:Auth:PasswordIterations"] = "1000" }).Build())
        .BuildServiceProvider();


    [Fact]
    public async Task FirstAdmin_IsCreatedOnce_WithAGeneratedPasswordThatVerifies()
    {
        await using var services = OpenAccounts();
        var users = services.GetRequiredService<Runway.Auth.Accounts>();
        var generated = await users.EnsureFirstAdminAsync(null, Ct);
        var again = await users.EnsureFirstAdminAsync("ignored-now", Ct);

        Assert.NotNull(generated);
        Assert.Null(again);
        Assert.Equal(Roles.Admin, (await users.VerifyPasswordAsync("admin", generated, Ct))?.Role);
        Assert.Null(await users.VerifyPasswordAsync("admin", "ignored-now", Ct));
    }

    [Fact]
    public async Task Users_AreUniqueByName_AndADisabledOneCannotLogIn()
    {
        await using var services = OpenAccounts();
        var users = services.GetRequiredService<Runway.Auth.Accounts>();
        var added = await users.AddAsync(new NewUser("ana", null, Groups: ["lab", "m31"]), "ana-password", Ct);
        var duplicate = await users.AddAsync(new NewUser("ana", null), "other-password", Ct);
        var verified = await users.VerifyPasswordAsync("ana", "ana-password", Ct);
        await users.UpdateAsync("ana", u => u.Enabled = false, Ct);

        Assert.NotNull(added);
        Assert.Null(duplicate);
        Assert.Equal(["lab", "m31"], verified?.GroupList);
        Assert.Null(await users.VerifyPasswordAsync("ana", "ana-password", Ct));
    }

    [Fact]
    public async Task Tokens_ValidateUntilRevokedOrExpired()
    {
        await using var services = OpenAccounts();
        var users = services.GetRequiredService<Runway.Auth.Accounts>();
        var tokens = services.GetRequiredService<Tokens>();
        await users.AddAsync(new NewUser("ana", null), "ana-password", Ct);
        var (kept, keptSecret) = await tokens.IssueAsync("ana", "kept", [Scopes.RunsRead], Clock.GetUtcNow().AddHours(1), null, Ct);
        var (revoked, revokedSecret) = await tokens.IssueAsync("ana", "revoked", [Scopes.RunsRead], null, null, Ct);

        Assert.True(await tokens.RevokeAsync(revoked.Id, "ana", Ct));
        Assert.False(await tokens.RevokeAsync(kept.Id, "bob", Ct));
        Assert.Equal([Scopes.RunsRead], (await tokens.ValidateAsync(keptSecret, Ct))?.Scopes);
        Assert.Null(await tokens.ValidateAsync(revokedSecret, Ct));
        Clock.Advance(TimeSpan.FromHours(2));
        Assert.Null(await tokens.ValidateAsync(keptSecret, Ct));
    }

    [Fact]
    public async Task Token_InUse_StopsAtOnce_WhenRevoked_OrItsUserDisabled_OrItsClientRevoked()
    {
        await using var services = OpenAccounts();
        var users = services.GetRequiredService<Runway.Auth.Accounts>();
        var tokens = services.GetRequiredService<Tokens>();
        var clients = services.GetRequiredService<Clients>();
        await users.AddAsync(new NewUser("ana", null), "ana-password", Ct);
        await users.AddAsync(new NewUser("bob", null), "bob-password", Ct);
        var (revoked, revokedSecret) = await tokens.IssueAsync("ana", "t", [Scopes.RunsRead], null, null, Ct);
        var (_, bobSecret) = await tokens.IssueAsync("bob", "t", [Scopes.RunsRead], null, null, Ct);
        var (client, _) = await clients.AddAsync("pipeline-bot", "ana", [Scopes.RunsRead], Ct);
        var (_, clientSecret) = await tokens.IssueAsync("ana", "bot", [Scopes.RunsRead], null, client.ClientId, Ct);
        // In use: each has just been validated, so a server may hold on to its grant.
        Assert.NotNull(await tokens.ValidateAsync(revokedSecret, Ct));
        Assert.NotNull(await tokens.ValidateAsync(bobSecret, Ct));
        Assert.NotNull(await tokens.ValidateAsync(clientSecret, Ct));

        await tokens.RevokeAsync(revoked.Id, "ana", Ct);
        await users.UpdateAsync("bob", u => u.Enabled = false, Ct);
        await clients.RevokeAsync(client.ClientId, Ct);

        Assert.Null(await tokens.ValidateAsync(revokedSecret, Ct));
        Assert.Null(await tokens.ValidateAsync(bobSecret, Ct));
        Assert.Null(await tokens.ValidateAsync(clientSecret, Ct));
    }

    [Fact]
    public async Task Token_RevokedThroughAnotherServer_StopsWithinTheCacheLifetime()
    {
        await using var here = OpenAccounts();
        await using var elsewhere = OpenAccounts();
        await here.GetRequiredService<Runway.Auth.Accounts>().AddAsync(new NewUser("ana", null), "ana-password", Ct);
        var tokens = here.GetRequiredService<Tokens>();
        var (token, secret) = await tokens.IssueAsync("ana", "t", [Scopes.RunsRead], null, null, Ct);
        Assert.NotNull(await tokens.ValidateAsync(secret, Ct));

        await elsewhere.GetRequiredService<Tokens>().RevokeAsync(token.Id, null, Ct);
        Clock.Advance(GrantCache.Lifetime + TimeSpan.FromSeconds(1));

        Assert.Null(await tokens.ValidateAsync(secret, Ct));
    }

    [Fact]
    public async Task Token_ForAUserNoLongerAdmin_LosesTheAdminScope()
    {
        await using var services = OpenAccounts();
        var users = services.GetRequiredService<Runway.Auth.Accounts>();
        var tokens = services.GetRequiredService<Tokens>();
        await users.AddAsync(new NewUser("root", null, Roles.Admin), "root-password", Ct);
        var (_, secret) = await tokens.IssueAsync("root", "all", Scopes.All, null, null, Ct);
        await users.UpdateAsync("root", u => u.Role = Roles.User, Ct);

        Assert.DoesNotContain(Scopes.Admin, (await tokens.ValidateAsync(secret, Ct))!.Scopes);
    }

    [Fact]
    public async Task Client_VerifiesItsSecret_AndRevokingItRevokesItsTokens()
    {
        await using var services = OpenAccounts();
        var users = services.GetRequiredService<Runway.Auth.Accounts>();
        var tokens = services.GetRequiredService<Tokens>();
        var clients = services.GetRequiredService<Clients>();
        await users.AddAsync(new NewUser("ana", null), "ana-password", Ct);
        var (client, secret) = await clients.AddAsync("nightly", "ana", [Scopes.RunsRead], Ct);
        var (_, token) = await tokens.IssueAsync("ana", "client", [Scopes.RunsRead], Clock.GetUtcNow().AddHours(1), client.ClientId, Ct);

        Assert.NotNull(await clients.VerifyAsync(client.ClientId, secret, Ct));
        Assert.Null(await clients.VerifyAsync(client.ClientId, secret + "x", Ct));
        Assert.True(await clients.RevokeAsync(client.ClientId, Ct));
        Assert.Null(await clients.VerifyAsync(client.ClientId, secret, Ct));
        Assert.Null(await tokens.ValidateAsync(token, Ct));
    }

    [Fact]
    public async Task Audit_KeepsEntriesInOrder_WithTheirTime()
    {
        await using var services = OpenAccounts();
        var audit = services.GetRequiredService<AuditTrail>();
        await audit.RecordAsync("ana", "run.submit", "01J", "10.0.0.1", Ct);
        Clock.Advance(TimeSpan.FromSeconds(1));
        await audit.RecordAsync("ana", "run.cancel", "01J", "10.0.0.1", Ct);

        await using var db = await OpenDbAsync();
        var entries = await db.AuditEntries.AsNoTracking().OrderBy(a => a.Id).ToListAsync(Ct);

        Assert.Equal(["run.submit", "run.cancel"], entries.Select(e => e.Action));
        Assert.Equal(Clock.GetUtcNow(), entries[1].At);
    }

}
