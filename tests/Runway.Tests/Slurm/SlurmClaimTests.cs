using Runway.Tests.Fixtures;

namespace Runway.Tests.Slurm;

public sealed class SlurmClaimTests
{
    /// <summary>
    /// No Slurm needed either: a node without the Slurm executor must leave a Slurm run queued (for a node
    /// that has it), where before it claimed it and failed it. The local run submitted after it shows that
    /// the node did claim, and so passed the Slurm run over.
    /// </summary>
    [Fact]
    public async Task Node_NeverClaimsASlurmRun_WhenItHasNoSlurmExecutor()
    {
        await using var app = new RunwayApp(SlurmWorld.PipelinesDirectory, settings: SlurmWorld.Settings(slurm: false));
        using var client = await app.CreateUserClientAsync();

        var slurm = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-echo" })).GetProperty("id").GetString()!;
        var local = (await RunwayApp.SubmitAsync(client, new { pipeline = "local-true" })).GetProperty("id").GetString()!;
        var localRun = await RunwayApp.WaitFinalAsync(client, local);
        // This node has no Slurm executor, and says so.
        var ready = await client.GetStringAsync("/readyz", TestContext.Current.CancellationToken);

        Assert.Equal("succeeded", localRun.GetProperty("state").GetString());
        var run = await SlurmWorld.GetRunAsync(client, slurm);
        Assert.Equal("queued", run.GetProperty("state").GetString());
        Assert.DoesNotContain("\"slurm\"", ready, StringComparison.Ordinal);
    }
}
