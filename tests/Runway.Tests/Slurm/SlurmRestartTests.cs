using Runway.Tests.Fixtures;

namespace Runway.Tests.Slurm;

/// <summary>A restart of Runway takes its Slurm jobs back: no run lost, no job submitted twice.</summary>
public sealed class SlurmRestartTests
{
    [Fact]
    public async Task Restart_TakesBackTheRunningJob_AndItEndsSucceeded()
    {
        var (data, id, job) = await SlurmWorld.SubmittedByAnEarlierServerAsync(seconds: 4);

        await using var second = SlurmWorld.App(data);
        using var again = await second.CreateUserClientAsync();
        var run = await RunwayApp.WaitFinalAsync(again, id, SlurmWorld.RunTimeout);

        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal(job, run.GetProperty("native_id").GetString());
        Assert.Equal([job], SlurmWorld.JobsNamed($"runway-{id}"));
    }

    /// <summary>
    /// Runway died after sbatch answered but before the job id reached the store or the run directory: the
    /// restart finds the job by its name instead of submitting it again.
    /// </summary>
    [Fact]
    public async Task Restart_FindsTheJobByName_WhenItsIdWasNeverRecorded()
    {
        var (data, id, job) = await SlurmWorld.SubmittedByAnEarlierServerAsync(seconds: 4);
        File.Delete(Path.Combine(data, "runs", id, "slurm_job_id"));
        await SlurmWorld.SetNativeIdAsync(data, id, null);

        await using var second = SlurmWorld.App(data);
        using var again = await second.CreateUserClientAsync();
        var run = await RunwayApp.WaitFinalAsync(again, id, SlurmWorld.RunTimeout);

        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal(job, run.GetProperty("native_id").GetString());
        Assert.Equal([job], SlurmWorld.JobsNamed($"runway-{id}"));
    }

    /// <summary>A job Slurm has never heard of (its record purged, say) ends the run in system_error, never running forever.</summary>
    [Fact]
    public async Task Restart_EndsTheRunInSystemError_WhenItsJobVanishedFromSlurm()
    {
        var (data, id, job) = await SlurmWorld.SubmittedByAnEarlierServerAsync(seconds: 30);
        try
        {
            await SlurmWorld.SetNativeIdAsync(data, id, "987654321");

            await using var second = SlurmWorld.App(data);
            using var again = await second.CreateUserClientAsync();
            var run = await RunwayApp.WaitFinalAsync(again, id, SlurmWorld.RunTimeout);

            Assert.Equal("system_error", run.GetProperty("state").GetString());
            Assert.Equal("Slurm job 987654321 vanished: neither squeue nor accounting (sacct, scontrol) knows it, and the run recorded no exit code",
                run.GetProperty("message").GetString());
        }
        finally
        {
            SlurmCluster.Run("scancel", job);
        }
    }
}
