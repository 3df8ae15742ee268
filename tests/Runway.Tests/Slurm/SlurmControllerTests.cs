using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Slurm;

/// <summary>Stops Slurm's controller, which every other Slurm test needs: this collection runs alone.</summary>
[CollectionDefinition(nameof(SlurmControllerTests), DisableParallelization = true)]
public sealed class SlurmControllerGroup;

[Collection(nameof(SlurmControllerTests))]
public sealed class SlurmControllerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_Completes_WhenSlurmctldStopsAndStartsAgainDuringIt_AndReadyzShowsSlurmDegradedMeanwhile()
    {
        Requires.Slurm();
        if (Environment.UserName != "root")
        {
            Requires.Skip("stopping slurmctld needs root (scripts/slurm-single-node.sh stop-controller)");
        }
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();
        using var anonymous = app.CreateClient();
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-sleep", @params = new { seconds = 6 } })).GetProperty("id").GetString()!;
        var job = await SlurmWorld.WaitForJobAsync(client, id);
        await Eventually.TrueAsync(() => SlurmWorld.Scontrol(job)["JobState"] == "RUNNING", SlurmWorld.RunTimeout, $"job {job} to run");

        try
        {
            Assert.Equal(0, SlurmCluster.Run(SlurmCluster.Script, "stop-controller").Code);
            await Eventually.TrueAsync(async () => SlurmStatus(await anonymous.GetFromJsonAsync<JsonElement>("/readyz", Ct)) == "degraded",
                SlurmWorld.RunTimeout, "/readyz to show the Slurm executor degraded");
            Assert.Equal("running", (await SlurmWorld.GetRunAsync(client, id)).GetProperty("state").GetString());
        }
        finally
        {
            var (code, output) = SlurmCluster.Run(SlurmCluster.Script, "start-controller");
            Assert.True(code == 0, output);
        }

        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        await Eventually.TrueAsync(async () => SlurmStatus(await anonymous.GetFromJsonAsync<JsonElement>("/readyz", Ct)) == "ok",
            SlurmWorld.RunTimeout, "/readyz to show the Slurm executor recovered");
        Assert.Contains(app.Logs.Entries, l => l.Message.Contains("Slurm executor degraded", StringComparison.Ordinal));
        Assert.Contains(app.Logs.Entries, l => l.Message.Contains("Slurm executor recovered", StringComparison.Ordinal));
    }

    private static string? SlurmStatus(JsonElement ready) =>
        ready.GetProperty("executors").GetProperty("slurm").GetProperty("status").GetString();
}
