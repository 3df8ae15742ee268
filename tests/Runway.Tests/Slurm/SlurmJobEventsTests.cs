using Runway.Execution.Slurm;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Slurm;

/// <summary>What an operator (or Slurm itself) does to a running job, on the real cluster: the run follows it.</summary>
public sealed class SlurmJobEventsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>scontrol requeue: the run goes back to waiting (and shows why), runs again and succeeds, once.</summary>
    [Fact]
    public async Task Run_WaitsThenSucceeds_WhenItsJobIsRequeued()
    {
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();
        var (id, job) = await RunningJobAsync(client, seconds: 4);

        Assert.Equal(0, SlurmCluster.Run("scontrol", "requeue", job).Code);
        // Slurm holds a requeued job back for a while (BeginTime): the run shows it waits.
        await Eventually.TrueAsync(async () => (await SlurmWorld.GetRunAsync(client, id)).GetProperty("message").GetString()
            == "queued on the cluster (Slurm: PENDING, BeginTime)", SlurmWorld.RunTimeout, "the run to show its requeued job waiting");
        Assert.Equal("running", (await SlurmWorld.GetRunAsync(client, id)).GetProperty("state").GetString());
        // Not "now": slurmd refuses a launch whose credential is from the second the requeue revoked the job's
        // ("Job N already killed, do not launch batch job"), and the job fails; Slurm's own delay is 2 minutes.
        Assert.Equal(0, SlurmCluster.Run("scontrol", "update", $"JobId={job}", "StartTime=now+3").Code);

        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);
        Assert.True(run.GetProperty("state").GetString() == "succeeded", $"{run} / {string.Join(' ', SlurmWorld.Scontrol(job))}");
        Assert.Equal(job, run.GetProperty("native_id").GetString());
        Assert.Equal("1", SlurmWorld.Scontrol(job)["Restarts"]);
        Assert.Equal([job], SlurmWorld.JobsNamed($"runway-{id}"));
    }

    /// <summary>scontrol suspend and resume: the run shows it is suspended, stays running, and succeeds once resumed.</summary>
    [Fact]
    public async Task Run_ShowsSuspended_ThenSucceeds_WhenItsJobIsSuspendedAndResumed()
    {
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();
        var (id, job) = await RunningJobAsync(client, seconds: 3);

        Assert.Equal(0, SlurmCluster.Run("scontrol", "suspend", job).Code);
        try
        {
            await Eventually.TrueAsync(async () => (await SlurmWorld.GetRunAsync(client, id)).GetProperty("message").GetString()
                == "suspended in Slurm (SUSPENDED)", SlurmWorld.RunTimeout, "the run to show its job suspended");
            Assert.Equal("running", (await SlurmWorld.GetRunAsync(client, id)).GetProperty("state").GetString());
        }
        finally
        {
            SlurmCluster.Run("scontrol", "resume", job);
        }

        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
    }

    /// <summary>gpus → --gres=gpu:N, scheduled on the cluster's GPUs (the test cluster's are fake, two of them).</summary>
    [Fact]
    public async Task Gpus_ReachSlurmAsGres_AndTheJobGetsThem()
    {
        SlurmWorld.RequiresConfig("GresTypes", "gpu", "the cluster has no GPUs (GresTypes): scripts/slurm-single-node.sh configures two fake ones");
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-gpu" })).GetProperty("id").GetString()!;
        var job = await SlurmWorld.WaitForJobAsync(client, id);

        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);

        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal("gres:gpu:2", SlurmWorld.Scontrol(job)["TresPerNode"]);
        Assert.Equal("0,1", File.ReadAllText(Path.Combine(app.DataDirectory, "runs", id, "gpus.txt")));
    }

    /// <summary>A job over its --mem is killed by Slurm's cgroup: the run fails with OUT_OF_MEMORY in its message, apart from other failures.</summary>
    [Fact]
    public async Task Run_FailsWithOutOfMemory_WhenItsJobUsesMoreThanItsMemory()
    {
        SlurmWorld.RequiresConfig("TaskPlugin", "task/cgroup", "Slurm does not constrain memory here (TaskPlugin is not task/cgroup: no cgroup v1 memory hierarchy)");
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-oom" })).GetProperty("id").GetString()!;

        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);

        Assert.Equal("failed", run.GetProperty("state").GetString());
        Assert.Contains("(Slurm: OUT_OF_MEMORY, OutOfMemory)", run.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A cluster that keeps no accounting (here: a second configuration of the test cluster that says so,
    /// accounting_storage/none, as a submit host of such a cluster has): sacct says so once, and from then on the
    /// state of jobs that left squeue comes from one scontrol show job, from the same controller.
    /// </summary>
    [Fact]
    public async Task Accounting_FallsBackToScontrol_WhenTheClusterKeepsNoAccounting()
    {
        Requires.Slurm();
        using var directory = new Runway.Tests.Fakes.TempDirectory();
        var conf = SlurmWorld.SecondConfiguration(directory.Path, "AccountingStorageType", "accounting_storage/none");
        var (_, output) = SlurmCluster.Run("sbatch", "--parsable", "--output=/dev/null", "--wrap", "exit 4");
        var job = SlurmOutput.JobId(output) ?? throw new InvalidOperationException($"sbatch: {output}");
        var commands = new SlurmCommands(new SlurmOptions { CommandTimeout = TimeSpan.FromSeconds(10), ConfFile = conf });
        var queries = new SlurmQueries(commands);
        await Eventually.TrueAsync(() => SlurmWorld.Scontrol(job)["JobState"] == "FAILED", SlurmWorld.RunTimeout, $"job {job} to fail");

        var first = await queries.AccountingAsync([job], Ct);
        var second = await queries.AccountingAsync([job], Ct);

        Assert.Equal(new SlurmJob(job, "FAILED", "NonZeroExitCode", 4), Assert.Single(first));
        Assert.Equal(first, second);
        Assert.Equal(1, commands.Issued["sacct"]);
        Assert.Equal(2, commands.Issued["scontrol"]);
        Assert.False(queries.KeepsAccounting);
    }

    private static async Task<(string Id, string Job)> RunningJobAsync(HttpClient client, int seconds)
    {
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-sleep", @params = new { seconds } })).GetProperty("id").GetString()!;
        var job = await SlurmWorld.WaitForJobAsync(client, id);
        await Eventually.TrueAsync(() => SlurmWorld.Scontrol(job)["JobState"] == "RUNNING", SlurmWorld.RunTimeout, $"job {job} to run");
        return (id, job);
    }
}
