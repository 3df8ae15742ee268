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
        RequiresControl();
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();
        using var anonymous = app.CreateClient();
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-sleep", @params = new { seconds = 6 } })).GetProperty("id").GetString()!;
        var job = await SlurmWorld.WaitForJobAsync(client, id);
        await Eventually.TrueAsync(() => SlurmWorld.Scontrol(job)["JobState"] == "RUNNING", SlurmWorld.RunTimeout, $"job {job} to run");

        await WhileControllerIsDownAsync(async () =>
        {
            await Eventually.TrueAsync(async () => SlurmStatus(await anonymous.GetFromJsonAsync<JsonElement>("/readyz", Ct)) == "degraded",
                SlurmWorld.RunTimeout, "/readyz to show the Slurm executor degraded");
            Assert.Equal("running", (await SlurmWorld.GetRunAsync(client, id)).GetProperty("state").GetString());
        });

        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        await Eventually.TrueAsync(async () => SlurmStatus(await anonymous.GetFromJsonAsync<JsonElement>("/readyz", Ct)) == "ok",
            SlurmWorld.RunTimeout, "/readyz to show the Slurm executor recovered");
        Assert.Contains(app.Logs.Entries, l => l.Message.Contains("Slurm executor degraded", StringComparison.Ordinal));
        Assert.Contains(app.Logs.Entries, l => l.Message.Contains("Slurm executor recovered", StringComparison.Ordinal));
    }

    /// <summary>sbatch fails while the controller is down: the run waits (and says so), then is submitted once it is back.</summary>
    [Fact]
    public async Task Submission_WaitsForTheController_AndTheRunSucceedsOnceItIsBack()
    {
        RequiresControl();
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();
        var id = "";
        await WhileControllerIsDownAsync(async () =>
        {
            id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-echo" })).GetProperty("id").GetString()!;
            await Eventually.TrueAsync(async () => (await SlurmWorld.GetRunAsync(client, id)).GetProperty("message").GetString()
                ?.StartsWith("waiting for Slurm to accept the job: ", StringComparison.Ordinal) == true,
                SlurmWorld.RunTimeout, "the run to say it waits for Slurm");
            Assert.Equal("running", (await SlurmWorld.GetRunAsync(client, id)).GetProperty("state").GetString());
        });

        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Single(SlurmWorld.JobsNamed($"runway-{id}"));
    }

    /// <summary>
    /// Runway died between sbatch and recording the job id, and Slurm's controller is down when it starts
    /// again: the run keeps its state (degraded meanwhile), and once Slurm answers its job is found by name.
    /// </summary>
    [Fact]
    public async Task Restart_FindsTheJobByNameOnceTheControllerIsBack_WhenItsIdWasNeverRecorded()
    {
        RequiresControl();
        var (data, id, job) = await SlurmWorld.SubmittedByAnEarlierServerAsync(seconds: 4);
        File.Delete(Path.Combine(data, "runs", id, "slurm_job_id"));
        await SlurmWorld.SetNativeIdAsync(data, id, null);
        await using var second = SlurmWorld.App(data, more: ShortReattach);
        HttpClient client = null!;

        await WhileControllerIsDownAsync(async () =>
        {
            client = await second.CreateUserClientAsync(); // the server starts, and takes the run back, now
            await AssertRunningWhileDegradedAsync(second, client, id, TimeSpan.FromSeconds(3));
            Assert.Equal(JsonValueKind.Null, (await SlurmWorld.GetRunAsync(client, id)).GetProperty("native_id").ValueKind);
        });

        using var _ = client;
        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal(job, run.GetProperty("native_id").GetString());
        Assert.Equal($"{job}\n", File.ReadAllText(Path.Combine(data, "runs", id, "slurm_job_id")));
        Assert.Equal([job], SlurmWorld.JobsNamed($"runway-{id}"));
    }

    /// <summary>A cancel of a run still looked for by name: its job is cancelled once it is found.</summary>
    [Fact]
    public async Task Cancel_CancelsTheJobOnceFoundByName_WhenRequestedBeforeTheControllerIsBack()
    {
        RequiresControl();
        var (data, id, job) = await SlurmWorld.SubmittedByAnEarlierServerAsync(seconds: 120);
        try
        {
            File.Delete(Path.Combine(data, "runs", id, "slurm_job_id"));
            await SlurmWorld.SetNativeIdAsync(data, id, null);
            await using var second = SlurmWorld.App(data, more: ShortReattach);
            HttpClient client = null!;

            await WhileControllerIsDownAsync(async () =>
            {
                client = await second.CreateUserClientAsync();
                using var cancel = await client.PostAsync($"/api/v1/runs/{id}/cancel", null, Ct);
                cancel.EnsureSuccessStatusCode();
                await AssertRunningWhileDegradedAsync(second, client, id, TimeSpan.FromSeconds(1));
            });

            using var _ = client;
            var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);
            Assert.Equal("canceled", run.GetProperty("state").GetString());
            Assert.Equal(job, run.GetProperty("native_id").GetString());
            await Eventually.TrueAsync(() => SlurmWorld.Scontrol(job)["JobState"] == "CANCELLED", SlurmWorld.RunTimeout, $"job {job} to be cancelled");
        }
        finally
        {
            SlurmCluster.Run("scancel", job);
        }
    }

    /// <summary>
    /// As above, but Slurm has no job of the run's name (renamed here; in life: Runway died before sbatch
    /// reached Slurm, or Slurm forgot it): no longer running forever, system_error once Slurm has answered
    /// "none" for Runway:Slurm:ReattachTimeout — and not while it did not answer at all.
    /// </summary>
    [Fact]
    public async Task Restart_EndsTheRunInSystemError_WhenSlurmAnswersAndHasNoJobOfItsName()
    {
        RequiresControl();
        var (data, id, job) = await SlurmWorld.SubmittedByAnEarlierServerAsync(seconds: 60);
        try
        {
            Assert.Equal(0, SlurmCluster.Run("scontrol", "update", $"JobId={job}", "JobName=renamed-by-the-test").Code);
            File.Delete(Path.Combine(data, "runs", id, "slurm_job_id"));
            await SlurmWorld.SetNativeIdAsync(data, id, null);
            await using var second = SlurmWorld.App(data, more: ShortReattach);
            HttpClient client = null!;

            await WhileControllerIsDownAsync(async () =>
            {
                client = await second.CreateUserClientAsync();
                await AssertRunningWhileDegradedAsync(second, client, id, TimeSpan.FromSeconds(3));
            });

            using var _ = client;
            var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);
            Assert.Equal("system_error", run.GetProperty("state").GetString());
            Assert.StartsWith($"Slurm has no job named runway-{id} (looked for ", run.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            SlurmCluster.Run("scancel", job);
        }
    }

    private static readonly Dictionary<string, string> ShortReattach = new() { ["Runway:Slurm:ReattachTimeout"] = "00:00:02" };

    /// <summary>Until /readyz shows Slurm degraded, then for <paramref name="longer"/> (more than the re-attach time-out): the run stays running.</summary>
    private static async Task AssertRunningWhileDegradedAsync(RunwayApp app, HttpClient client, string id, TimeSpan longer)
    {
        using var anonymous = app.CreateClient();
        await Eventually.TrueAsync(async () => SlurmStatus(await anonymous.GetFromJsonAsync<JsonElement>("/readyz", Ct)) == "degraded",
            SlurmWorld.RunTimeout, "/readyz to show the Slurm executor degraded");
        var until = TimeProvider.System.GetTimestamp() + (long)(longer.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        while (TimeProvider.System.GetTimestamp() < until)
        {
            Assert.Equal("running", (await SlurmWorld.GetRunAsync(client, id)).GetProperty("state").GetString());
            await Task.Delay(200, Ct); // sampling a state that must hold for a while, not waiting for work
        }
    }

    /// <summary>Stopping slurmctld: root, and a controller the project's script started (it stops only its own).</summary>
    private static void RequiresControl()
    {
        Requires.Slurm();
        if (Environment.UserName != "root")
        {
            Requires.Skip("stopping slurmctld needs root (scripts/slurm-single-node.sh stop-controller)");
        }
        var status = SlurmCluster.Run(SlurmCluster.Script, "status").Output.Split('\n');
        if (!status.Any(l => l.StartsWith("slurmctld: pid", StringComparison.Ordinal) && l.EndsWith("(started here)", StringComparison.Ordinal)))
        {
            Requires.Skip("slurmctld was not started by scripts/slurm-single-node.sh, which stops only what it started");
        }
    }

    private static async Task WhileControllerIsDownAsync(Func<Task> during)
    {
        Assert.Equal(0, SlurmCluster.Run(SlurmCluster.Script, "stop-controller").Code);
        try
        {
            await during();
        }
        finally
        {
            var (code, output) = SlurmCluster.Run(SlurmCluster.Script, "start-controller");
            Assert.True(code == 0, output);
        }
    }

    private static string? SlurmStatus(JsonElement ready) =>
        ready.GetProperty("executors").GetProperty("slurm").GetProperty("status").GetString();
}
