using Runway.Execution;
using Runway.Execution.Slurm;
using Runway.Runs;

namespace Runway.Tests.Execution.Slurm;

/// <summary>The parsers and the state table, on output captured from Debian 12's Slurm 22.05.</summary>
public sealed class SlurmOutputTests
{
    [Theory]
    [InlineData("42\n", "42")]
    [InlineData("42;cluster\n", "42")]
    [InlineData("Submitted batch job 42\n", null)]
    [InlineData("", null)]
    public void JobId_ReadsSbatchParsable(string output, string? expected) => Assert.Equal(expected, SlurmOutput.JobId(output));

    [Fact]
    public void Squeue_ReadsIdStateAndReason()
    {
        var jobs = SlurmOutput.Squeue("1|PENDING|None\n2|FAILED|NonZeroExitCode\n3|PENDING|BeginTime\nnot a job\n");

        Assert.Equal([new SlurmJob("1", "PENDING", "None"), new SlurmJob("2", "FAILED", "NonZeroExitCode"), new SlurmJob("3", "PENDING", "BeginTime")], jobs);
    }

    [Fact]
    public void Sacct_ReadsStateAndExitCode_WithCancelledByUid()
    {
        var jobs = SlurmOutput.Sacct("7|CANCELLED by 0|0:15|||\n8|COMPLETED|0:0|||\n9|OUT_OF_MEMORY|0:125|||\n");

        Assert.Equal([new SlurmJob("7", "CANCELLED by 0", "", 128 + 15), new SlurmJob("8", "COMPLETED", "", 0), new SlurmJob("9", "OUT_OF_MEMORY", "", 128 + 125)], jobs);
    }

    /// <summary>Captured: a job that burnt 1.265 s of CPU holding 107 MiB, and one cancelled while it waited (no steps).</summary>
    [Fact]
    public void Sacct_ReadsUsage_PeakMemoryFromTheLargestStep()
    {
        var jobs = SlurmOutput.Sacct("""
            7423|COMPLETED|0:0|00:00:04|00:01.265|
            7423.batch|COMPLETED|0:0|00:00:04|00:01.265|112017408
            7423.0|COMPLETED|0:0|00:00:02|00:00.500|123K
            7423.extern|COMPLETED|0:0|00:00:04|00:00:00|0
            7424|CANCELLED by 0|0:0|00:00:00|00:00:00|
            """);

        Assert.Equal([
            new SlurmJob("7423", "COMPLETED", "", 0, new RunUsage(4, 1.265, 112017408)),
            new SlurmJob("7424", "CANCELLED by 0", "", 0, new RunUsage(0, 0, null)),
        ], jobs);
    }

    /// <summary>A line sacct never prints is no figure, never an exception: fields missing, garbage, too large, a step of no job asked.</summary>
    [Theory]
    [InlineData("5|COMPLETED|0:0\n", null)]
    [InlineData("5|COMPLETED|0:0|x|y|z\n5.batch|COMPLETED|0:0|x|y|-1\n", null)]
    [InlineData("5|COMPLETED|0:0|INVALID||\n5.batch|COMPLETED|0:0|||99999999999999999999\n", null)]
    [InlineData("5|COMPLETED|0:0|||\n5.batch|COMPLETED|0:0|||2048P\n", null)]
    [InlineData("5|COMPLETED|0:0|||\n5.batch.x|COMPLETED|0:0|||1024\n6.batch|COMPLETED|0:0|||1024\n", null)]
    [InlineData("5|COMPLETED|0:0|||\n5.batch|COMPLETED|0:0|||1024|extra\n", 1024L)]
    public void Sacct_GivesNoFigure_ForGarbage(string output, long? peak)
    {
        var job = Assert.Single(SlurmOutput.Sacct(output));

        Assert.Equal(peak, job.Usage?.PeakMemoryBytes);
        Assert.Null(job.Usage?.WallSeconds);
        Assert.Null(job.Usage?.CpuSeconds);
    }

    [Theory]
    [InlineData("00:01.265", 1.265)]
    [InlineData("59:59.999", 3599.999)]
    [InlineData("00:00:04", 4.0)]
    [InlineData("01:02:03", 3723.0)]
    [InlineData("1-02:03:04", 93784.0)]
    [InlineData("12-00:00:00", 1036800.0)]
    [InlineData("00:00", 0.0)]
    [InlineData("", null)]
    [InlineData("INVALID", null)]
    [InlineData("Unknown", null)]
    [InlineData("1:02", null)]
    [InlineData("00:60", null)]
    [InlineData("00:61:00", null)]
    [InlineData("1-24:00:00", null)]
    [InlineData("1-00:00", null)]
    [InlineData("-00:00:01", null)]
    [InlineData("00:00:01.", null)]
    [InlineData("99999-00:00:00", null)]
    [InlineData("00:00:01\n00:00:02", null)]
    public void Duration_ReadsSacctsFormats(string text, double? seconds) => Assert.Equal(seconds, SlurmOutput.Duration(text));

    [Theory]
    [InlineData("112017408", 112017408L)]
    [InlineData("0", 0L)]
    [InlineData("123K", 123L * 1024)]
    [InlineData("1.5M", 1572864L)]
    [InlineData("2G", 2L << 30)]
    [InlineData("1T", 1L << 40)]
    [InlineData("1023T", 1023L << 40)]
    [InlineData("1025T", null)]
    [InlineData("2P", null)]
    [InlineData("", null)]
    [InlineData("K", null)]
    [InlineData("12k", null)]
    [InlineData("-5", null)]
    [InlineData("1.5", null)]
    [InlineData("1e9", null)]
    [InlineData("12 K", null)]
    [InlineData("99999999999999999999", null)]
    public void Bytes_ReadsSacctsSizes(string text, long? bytes) => Assert.Equal(bytes, SlurmOutput.Bytes(text));

    [Fact]
    public void Scontrol_ReadsTheFirstOfEachKey()
    {
        const string line = "JobId=1 JobName=t1 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) "
            + "JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:01 "
            + "TimeLimit=UNLIMITED WorkDir=/tmp Comment=JobState=RUNNING  StdErr=/tmp/t1.out StdIn=/dev/null StdOut=/tmp/t1.out Power= \n";

        Assert.Equal([new SlurmJob("1", "FAILED", "NonZeroExitCode", 3)], SlurmOutput.Scontrol(line));
    }

    [Theory]
    [InlineData("PENDING", SlurmPhase.Waiting, null)]
    [InlineData("CONFIGURING", SlurmPhase.Waiting, null)]
    [InlineData("REQUEUED", SlurmPhase.Waiting, null)]
    [InlineData("PREEMPTED", SlurmPhase.Waiting, null)]
    [InlineData("RUNNING", SlurmPhase.Running, null)]
    [InlineData("COMPLETING", SlurmPhase.Running, null)]
    [InlineData("SUSPENDED", SlurmPhase.Suspended, null)]
    [InlineData("COMPLETED", SlurmPhase.Final, null)]
    [InlineData("FAILED", SlurmPhase.Final, RunState.Failed)]
    [InlineData("NODE_FAIL", SlurmPhase.Final, RunState.Failed)]
    [InlineData("OUT_OF_MEMORY", SlurmPhase.Final, RunState.Failed)]
    [InlineData("BOOT_FAIL", SlurmPhase.Final, RunState.Failed)]
    [InlineData("DEADLINE", SlurmPhase.Final, RunState.Failed)]
    [InlineData("CANCELLED by 1000", SlurmPhase.Final, RunState.Canceled)]
    [InlineData("TIMEOUT", SlurmPhase.Final, RunState.TimedOut)]
    [InlineData("SOMETHING_NEW", SlurmPhase.Waiting, null)]
    public void States_MapEverySlurmState(string state, SlurmPhase phase, RunState? final) =>
        Assert.Equal((phase, final), SlurmStates.Of(state));

    [Fact]
    public void Exit_KeepsTimeoutCancelAndOutOfMemoryApart()
    {
        var timeout = Final(new SlurmJob("1", "TIMEOUT", "TimeLimit"), recorded: null, TimeSpan.FromMinutes(1));
        var oom = Final(new SlurmJob("2", "OUT_OF_MEMORY", "OutOfMemory", 128 + 9), recorded: null, null);
        var cancelled = Final(new SlurmJob("3", "CANCELLED", "None"), recorded: null, null);
        var completed = Final(new SlurmJob("4", "COMPLETED", "None", 0), recorded: 0, null);
        var failed = Final(new SlurmJob("5", "FAILED", "NonZeroExitCode", 1), recorded: 3, null);

        Assert.Equal((RunState.TimedOut, "exceeded time limit of 1m (Slurm: TIMEOUT, TimeLimit)"), (timeout.To, timeout.Message));
        Assert.Equal((RunState.Failed, "killed by signal 9 (exit code 137) (Slurm: OUT_OF_MEMORY, OutOfMemory)"), (oom.To, oom.Message));
        Assert.Equal((RunState.Canceled, "canceled in Slurm (Slurm: CANCELLED)"), (cancelled.To, cancelled.Message));
        Assert.Equal((RunState.Succeeded, (string?)null), (completed.To, completed.Message));
        // The run's own exit record comes before Slurm's exit code.
        Assert.Equal((RunState.Failed, 3), (failed.To, failed.ExitCode));
    }

    [Fact]
    public void Note_ShowsWhyAJobWaits_AndNothingWhileItRuns()
    {
        Assert.Equal("queued on the cluster (Slurm: PENDING, Resources)", SlurmStates.Note(new SlurmJob("1", "PENDING", "Resources")));
        Assert.Equal("suspended in Slurm (SUSPENDED)", SlurmStates.Note(new SlurmJob("1", "SUSPENDED", "None")));
        Assert.Null(SlurmStates.Note(new SlurmJob("1", "RUNNING", "None")));
    }

    private static RunTransition Final(SlurmJob job, int? recorded, TimeSpan? limit) =>
        RunOutcome.Final("r", SlurmStates.Exit(job, recorded, limit, null), StopCause.None, limit);
}
