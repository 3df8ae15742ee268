using System.Diagnostics;
using Runway.Execution;
using Runway.Execution.Slurm;
using Runway.Runs;

namespace Runway.Tests.Execution.Slurm;

public sealed class SlurmBatchTests
{
    private static readonly RunLaunch Launch = new("r_1", "/data/runs/r_1", new RunSpec
    {
        Argv = ["/bin/echo", "a'b", "$(id)"],
        Resources = new PipelineResources { Cpus = 4, MemoryMb = 2048, Gpus = 2 },
        TimeLimit = TimeSpan.FromSeconds(90061),
        Slurm = new SlurmSettings { Qos = "short", Options = ["--constraint=avx2"] },
    });

    [Fact]
    public void Arguments_MapResourcesAndTheOperatorsSettings_PipelineOverServer()
    {
        var options = new SlurmOptions { Partition = "batch", Account = "lab", Qos = "normal", SbatchOptions = ["--exclusive"] };

        var arguments = SlurmBatch.Arguments(Launch, options);

        Assert.Equal(
        [
            "--parsable", "--job-name=runway-r_1", "--comment=r_1", "--chdir=/data/runs/r_1",
            "--output=/data/runs/r_1/stdout.log", "--error=/data/runs/r_1/stderr.log", "--input=/dev/null",
            "--cpus-per-task=4", "--mem=2048M", "--time=1-01:01:01", "--gres=gpu:2",
            "--partition=batch", "--account=lab", "--qos=short", "--exclusive", "--constraint=avx2", "/data/runs/r_1/slurm.sh",
        ], arguments);
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("it's")]
    [InlineData("''")]
    [InlineData("$(touch /tmp/x) `id` ${HOME} $1 \"q\" \\ ; & | < > * ? ~ # !")]
    [InlineData("new\nline\r\n")]
    [InlineData("")]
    public void Quote_MakesAWordThatShReadsBackUnchanged(string value)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"printf %s {SlurmBatch.Quote(value)}");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        Assert.Equal(value, output);
    }

    [Fact]
    public void ScriptText_QuotesEveryWordOfTheCommandAndEnvironment_AndRecordsTheExitCode()
    {
        var launch = Launch with { Spec = Launch.Spec with { Environment = new Dictionary<string, string> { ["GREETING"] = "it's $(id)" } } };

        var script = SlurmBatch.ScriptText(launch, SlurmBatch.Arguments(launch, new SlurmOptions()));

        Assert.StartsWith("#!/bin/sh\n", script, StringComparison.Ordinal);
        Assert.Contains("export GREETING='it'\\''s $(id)'\n", script, StringComparison.Ordinal);
        Assert.Contains("'/bin/echo' \\\n    'a'\\''b' \\\n    '$(id)' </dev/null\n", script, StringComparison.Ordinal);
        Assert.EndsWith("code=$?\necho $code >exit_code\nexit $code\n", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Time_RoundsUpToWholeSeconds_InSlurmsFormat()
    {
        Assert.Equal("0-00:01:00", SlurmBatch.Time(TimeSpan.FromMinutes(1)));
        Assert.Equal("0-00:00:02", SlurmBatch.Time(TimeSpan.FromSeconds(1.5)));
        Assert.Equal("2-00:00:00", SlurmBatch.Time(TimeSpan.FromDays(2)));
    }
}
