using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Runway.Compat.Orchestration;
using Runway.Data;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Compat;

/// <summary>The Orchestration view's integer ids (ProcessIds) on the embedded database, as the server makes them.</summary>
public sealed class OrchestrationIdsTests : UserClientTest
{
    [Fact]
    public async Task AnId_IsNeverGivenTwice_EvenAfterTheNewestIsDeleted()
    {
        var ids = App.Services.GetRequiredService<ProcessIds>();
        var first = await SubmitAsync();
        var second = await SubmitAsync();
        var given = await ids.IdsOfAsync([first, second], Ct);
        Assert.True(given[second] > given[first]);

        // The newest run's row goes (as a deleted run record's does, by cascade); the next run shown gets a new integer.
        var databases = App.Services.GetRequiredService<IDbContextFactory<RunwayDb>>();
        await using (var db = await databases.CreateDbContextAsync(Ct))
        {
            Assert.Equal(1, await db.Set<ProcessId>().Where(p => p.RunId == second).ExecuteDeleteAsync(Ct));
        }
        var third = await SubmitAsync();

        Assert.True(await ids.IdOfAsync(third, Ct) > given[second], "the deleted run's integer was given to another run");
        Assert.Null(await ids.RunIdOfAsync(given[second], Ct));
    }

    private async Task<string> SubmitAsync() =>
        (await RunwayApp.SubmitAsync(Client, new { pipeline = "hello" })).GetProperty("id").GetString()!;
}
