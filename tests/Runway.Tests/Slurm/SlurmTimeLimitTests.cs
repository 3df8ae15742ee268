using Runway.Tests.Fixtures;

namespace Runway.Tests.Slurm;

public sealed class SlurmTimeLimitTests
{
    /// <summary>Slurm counts time limits in minutes and checks them every half minute: this takes 60–90 s.</summary>
    [Fact]
    public async Task Run_EndsTimedOut_WhenSlurmEndsItAtItsTimeLimit()
    {
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-timeout" })).GetProperty("id").GetString()!;
        var job = await SlurmWorld.WaitForJobAsync(client, id);

        var run = await RunwayApp.WaitFinalAsync(client, id, TimeSpan.FromSeconds(150));

        Assert.Equal("timed_out", run.GetProperty("state").GetString());
        Assert.Equal("exceeded time limit of 1m (Slurm: TIMEOUT, TimeLimit)", run.GetProperty("message").GetString());
        Assert.Equal("TIMEOUT", SlurmWorld.Scontrol(job)["JobState"]);
    }
}
