using Runway.Tests.Fixtures;

namespace Runway.Tests.Slurm;

public sealed class SlurmCancelTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Cancel_EndsCanceled_WhenTheJobRuns()
    {
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-sleep" })).GetProperty("id").GetString()!;
        var job = await SlurmWorld.WaitForJobAsync(client, id);
        await Eventually.TrueAsync(() => SlurmWorld.Scontrol(job)["JobState"] == "RUNNING", SlurmWorld.RunTimeout, $"job {job} to run");

        using var response = await client.PostAsync($"/api/v1/runs/{id}/cancel", null, Ct);
        response.EnsureSuccessStatusCode();
        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);

        Assert.Equal("canceled", run.GetProperty("state").GetString());
        Assert.Equal("canceled by user", run.GetProperty("message").GetString());
        Assert.Equal("CANCELLED", SlurmWorld.Scontrol(job)["JobState"]);
    }

    [Fact]
    public async Task Cancel_EndsCanceled_WhenTheJobIsPending_AndTheRunShowsWhyItWaits()
    {
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-later" })).GetProperty("id").GetString()!;
        var job = await SlurmWorld.WaitForJobAsync(client, id);
        await Eventually.TrueAsync(async () => (await SlurmWorld.GetRunAsync(client, id)).GetProperty("message").GetString()
            == "queued on the cluster (Slurm: PENDING, BeginTime)", SlurmWorld.RunTimeout, "the run to show Slurm's pending reason");
        Assert.Equal("running", (await SlurmWorld.GetRunAsync(client, id)).GetProperty("state").GetString());

        using var response = await client.PostAsync($"/api/v1/runs/{id}/cancel", null, Ct);
        response.EnsureSuccessStatusCode();
        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);

        Assert.Equal("canceled", run.GetProperty("state").GetString());
        Assert.Equal("CANCELLED", SlurmWorld.Scontrol(job)["JobState"]);
    }
}
