using Microsoft.Data.Sqlite;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Slurm;

/// <summary>A restart of Runway takes its Slurm jobs back: no run lost, no job submitted twice.</summary>
public sealed class SlurmRestartTests
{
    [Fact]
    public async Task Restart_TakesBackTheRunningJob_AndItEndsSucceeded()
    {
        var (data, id, job) = await SubmittedByAnEarlierServerAsync(seconds: 4);

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
        var (data, id, job) = await SubmittedByAnEarlierServerAsync(seconds: 4);
        File.Delete(Path.Combine(data, "runs", id, "slurm_job_id"));
        await SetNativeIdAsync(data, id, null);

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
        var (data, id, job) = await SubmittedByAnEarlierServerAsync(seconds: 30);
        try
        {
            await SetNativeIdAsync(data, id, "987654321");

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

    /// <summary>A sleep run submitted to Slurm by a server that then stopped (its job goes on): its data directory, run and job.</summary>
    private static async Task<(string Data, string Id, string Job)> SubmittedByAnEarlierServerAsync(int seconds)
    {
        var data = Directory.CreateTempSubdirectory("runway-slurm-restart-").FullName;
        await using var first = SlurmWorld.App(data);
        using var client = await first.CreateUserClientAsync();
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-sleep", @params = new { seconds } })).GetProperty("id").GetString()!;
        return (data, id, await SlurmWorld.WaitForJobAsync(client, id));
    }

    private static async Task SetNativeIdAsync(string data, string id, string? nativeId)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(data, "runway.db")};Pooling=false");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var update = connection.CreateCommand();
        update.CommandText = "UPDATE runs SET native_id = $native WHERE id = $id";
        update.Parameters.AddWithValue("$id", id);
        update.Parameters.AddWithValue("$native", (object?)nativeId ?? DBNull.Value);
        Assert.Equal(1, await update.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
    }
}
