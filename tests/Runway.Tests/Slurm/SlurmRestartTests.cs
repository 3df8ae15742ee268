using Microsoft.Data.Sqlite;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Slurm;

/// <summary>A restart of Runway takes its Slurm jobs back: no run lost, no job submitted twice.</summary>
public sealed class SlurmRestartTests
{
    [Fact]
    public async Task Restart_TakesBackTheRunningJob_AndItEndsSucceeded()
    {
        var data = Directory.CreateTempSubdirectory("runway-slurm-restart-").FullName;
        string id, job;
        await using (var first = SlurmWorld.App(data))
        {
            using var client = await first.CreateUserClientAsync();
            id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-sleep", @params = new { seconds = 4 } })).GetProperty("id").GetString()!;
            job = await SlurmWorld.WaitForJobAsync(client, id);
        }

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
        var data = Directory.CreateTempSubdirectory("runway-slurm-restart-").FullName;
        string id, job;
        await using (var first = SlurmWorld.App(data))
        {
            using var client = await first.CreateUserClientAsync();
            id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-sleep", @params = new { seconds = 4 } })).GetProperty("id").GetString()!;
            job = await SlurmWorld.WaitForJobAsync(client, id);
        }
        File.Delete(Path.Combine(data, "runs", id, "slurm_job_id"));
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(data, "runway.db")};Pooling=false"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var forget = connection.CreateCommand();
            forget.CommandText = "UPDATE runs SET native_id = NULL WHERE id = $id";
            forget.Parameters.AddWithValue("$id", id);
            Assert.Equal(1, await forget.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        }

        await using var second = SlurmWorld.App(data);
        using var again = await second.CreateUserClientAsync();
        var run = await RunwayApp.WaitFinalAsync(again, id, SlurmWorld.RunTimeout);

        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal(job, run.GetProperty("native_id").GetString());
        Assert.Equal([job], SlurmWorld.JobsNamed($"runway-{id}"));
    }
}
