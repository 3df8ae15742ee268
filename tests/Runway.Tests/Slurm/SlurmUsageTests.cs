using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Execution.Limits;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Slurm;

/// <summary>What a Slurm run used, from the real cluster's accounting (sacct over slurmdbd), on the run and in accounting.</summary>
public sealed class SlurmUsageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_RecordsCpuAndPeakMemory_FromSacct()
    {
        RequiresAccounting();
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-burn" })).GetProperty("id").GetString()!;

        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);

        Assert.True(run.GetProperty("state").GetString() == "succeeded", run.ToString());
        var used = run.GetProperty("resources_used");
        Assert.InRange(used.GetProperty("cpu_seconds").GetDouble(), 0.95, 10);
        Assert.InRange(used.GetProperty("peak_memory_bytes").GetInt64(), 100 * ResourceUseTests.MiB, 1024 * ResourceUseTests.MiB);
        // The job's Elapsed (whole seconds), not the time from the claim (which includes Slurm's queue).
        var job = run.GetProperty("native_id").GetString()!;
        var elapsed = SlurmCluster.Run("sacct", "-X", "--noheader", "--parsable2", $"--jobs={job}", "--format=Elapsed").Output.Trim();
        Assert.Equal(Runway.Execution.Slurm.SlurmOutput.Duration(elapsed), used.GetProperty("wall_seconds").GetDouble());

        await using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(await client.GetByteArrayAsync($"/api/v1/runs/{id}/archive", Ct)), System.IO.Compression.CompressionMode.Decompress);
        using var tar = new MemoryStream();
        await gzip.CopyToAsync(tar, Ct);
        var record = JsonDocument.Parse(Assert.Single(PlantedRuns.Entries(tar.ToArray()), e => e.Name == $"{id}/run.json").Data).RootElement;
        Assert.Equal(used.GetProperty("cpu_seconds").GetDouble(), record.GetProperty("resources_used").GetProperty("cpu_seconds").GetDouble());

        using var admin = app.CreateAdminClient();
        var usage = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/usage?group_by=pipeline", Ct);
        var row = Assert.Single(usage.GetProperty("rows").EnumerateArray(), r => r.GetProperty("key").GetString() == "slurm-burn");
        Assert.Equal(used.GetProperty("cpu_seconds").GetDouble() / 3600, row.GetProperty("cpu_hours").GetDouble(), 6);
        Assert.Equal(used.GetProperty("peak_memory_bytes").GetInt64(), row.GetProperty("peak_memory_max_bytes").GetInt64());
    }

    /// <summary>Jobs that end together are read with one sacct, each with its own figures, the peak from its own steps.</summary>
    [Fact]
    public async Task Accounting_ReadsEveryEndedJobsUsage_InOneSacct()
    {
        RequiresAccounting();
        var small = Submit("exit 0");
        var burner = Submit(string.Join(' ', ResourceUseTests.Burner.Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'")));
        await Eventually.TrueAsync(() => SacctState(small) == "COMPLETED" && SacctState(burner) == "COMPLETED", SlurmWorld.RunTimeout, $"jobs {small} and {burner} to complete in sacct");
        var commands = new Runway.Execution.Slurm.SlurmCommands(new Runway.Execution.Slurm.SlurmOptions { CommandTimeout = TimeSpan.FromSeconds(10) });

        var jobs = (await new Runway.Execution.Slurm.SlurmQueries(commands).AccountingAsync([small, burner], Ct)).ToDictionary(j => j.JobId);

        Assert.Equal(1, commands.Issued["sacct"]);
        Assert.Equal(2, jobs.Count);
        Assert.InRange(jobs[burner].Usage?.PeakMemoryBytes ?? 0, 100 * ResourceUseTests.MiB, 1024 * ResourceUseTests.MiB);
        Assert.InRange(jobs[burner].Usage?.CpuSeconds ?? 0, 0.95, 10);
        Assert.InRange(jobs[small].Usage?.PeakMemoryBytes ?? -1, 0, 50 * ResourceUseTests.MiB);
        Assert.InRange(jobs[small].Usage?.CpuSeconds ?? -1, 0, 0.5);
    }

    private static string Submit(string command)
    {
        var (_, output) = SlurmCluster.Run("sbatch", "--parsable", "--output=/dev/null", "--wrap", command);
        return Runway.Execution.Slurm.SlurmOutput.JobId(output) ?? throw new InvalidOperationException($"sbatch: {output}");
    }

    private static string SacctState(string job) =>
        SlurmCluster.Run("sacct", "-X", "--noheader", "--parsable2", $"--jobs={job}", "--format=State").Output.Trim();

    /// <summary>
    /// sacct fails (a configuration pointing at a port where no slurmdbd listens, as when slurmdbd is down): a run
    /// whose job ended and recorded its exit code still ends, after <c>AccountingWait</c>, with its wall time from
    /// the claim and no CPU or memory figure, never a made-up one.
    /// </summary>
    [Fact]
    public async Task Run_EndsWithoutCpuAndMemory_WhenSacctFails()
    {
        RequiresAccounting();
        using var directory = new TempDirectory();
        var conf = SlurmWorld.SecondConfiguration(directory.Path, "AccountingStoragePort", "1");
        Assert.NotEqual(0, SlurmCluster.Run("/usr/bin/env", $"SLURM_CONF={conf}", "sacct", "--jobs=1").Code);
        await using var app = SlurmWorld.App(more: new Dictionary<string, string>
        {
            ["Runway:Slurm:ConfFile"] = conf,
            ["Runway:Slurm:AccountingWait"] = "00:00:01",
        });
        using var client = await app.CreateUserClientAsync();
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-echo" })).GetProperty("id").GetString()!;

        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);

        Assert.True(run.GetProperty("state").GetString() == "succeeded", run.ToString());
        var used = run.GetProperty("resources_used");
        Assert.True(used.GetProperty("wall_seconds").GetDouble() > 0, used.ToString());
        Assert.Equal(JsonValueKind.Null, used.GetProperty("cpu_seconds").ValueKind);
        Assert.Equal(JsonValueKind.Null, used.GetProperty("peak_memory_bytes").ValueKind);
    }

    private static void RequiresAccounting() => SlurmWorld.RequiresConfig("AccountingStorageType", "accounting_storage/slurmdbd",
        "the cluster keeps no job accounting (AccountingStorageType is not slurmdbd): scripts/slurm-single-node.sh up starts slurmdbd");
}
