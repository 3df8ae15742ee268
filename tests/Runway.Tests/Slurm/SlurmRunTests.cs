using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Slurm;

/// <summary>Runs through the real Slurm: outputs, logs, exit codes, and what the batch script does with hostile text.</summary>
public sealed class SlurmRunTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_Succeeds_WithOutputsLogsAndBatchScript()
    {
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();

        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-echo", @params = new { text = "from slurm" } })).GetProperty("id").GetString()!;
        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);

        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal(0, run.GetProperty("exit_code").GetInt32());
        Assert.Equal("slurm", run.GetProperty("executor").GetString());
        Assert.True(SlurmOutputIsJobId(run.GetProperty("native_id").GetString()), run.ToString());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("message").ValueKind);
        Assert.Equal("from slurm", await client.GetStringAsync($"/api/v1/runs/{id}/outputs/out.txt", Ct));
        Assert.Equal("to-stdout\n", await client.GetStringAsync($"/api/v1/runs/{id}/log?stream=stdout", Ct));
        Assert.Equal("to-stderr\n", await client.GetStringAsync($"/api/v1/runs/{id}/log?stream=stderr", Ct));
        var outputs = await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}/outputs", Ct);
        Assert.DoesNotContain("slurm_job_id", outputs.ToString(), StringComparison.Ordinal);
        // The batch script is the user's to read: what ran, and how it was submitted.
        var script = await client.GetStringAsync($"/api/v1/runs/{id}/outputs/slurm.sh", Ct);
        Assert.Contains("#   sbatch '--parsable'", script, StringComparison.Ordinal);
        Assert.Contains("'from slurm'", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Fails_WithItsExitCode_WhenTheCommandExitsNonZero()
    {
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();

        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-exit" })).GetProperty("id").GetString()!;
        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);

        Assert.Equal("failed", run.GetProperty("state").GetString());
        Assert.Equal(3, run.GetProperty("exit_code").GetInt32());
        Assert.Equal("exited with code 3 (Slurm: FAILED, NonZeroExitCode)", run.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("it's $(touch /tmp/runway-pwned) `id` ; rm -rf / && echo \"$HOME\" | cat > x\n'\\'' \\ * ? ~ # !")]
    [InlineData("'")]
    [InlineData("line one\nline two\r\n\ttabbed ${PATH} $1 $@ \"\"")]
    public async Task Parameter_ReachesTheProgramUnchanged_WhenFullOfShellMetacharacters(string text)
    {
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();

        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-echo", @params = new { text } })).GetProperty("id").GetString()!;
        var run = await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);

        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal(text, await client.GetStringAsync($"/api/v1/runs/{id}/outputs/out.txt", Ct));
        Assert.False(File.Exists("/tmp/runway-pwned"));
    }

    private static bool SlurmOutputIsJobId(string? text) => text is not null && Runway.Execution.Slurm.SlurmOutput.IsJobId(text);
}
