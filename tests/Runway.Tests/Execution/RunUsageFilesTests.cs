using Runway.Execution;
using Runway.Runs;
using Runway.Tests.Fakes;

namespace Runway.Tests.Execution;

/// <summary>Reading what a run used from files the run itself could have replaced with anything.</summary>
public sealed class RunUsageFilesTests : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose() => directory.Dispose();

    [Fact]
    public void Read_TakesTheCgroupFigures_OverRusage()
    {
        Write(RunFiles.ResourceUse, "cpu_usec 1500000\npeak_memory_bytes 104857600\noom_kill 0\n");
        Write(RunFiles.Rusage, "900000 100000 2048\n");

        Assert.Equal(new RunUsage(null, 1.5, 104_857_600), RunUsageFiles.Read(directory.Path));
    }

    [Fact]
    public void Read_FallsBackToRusage_PerFigure()
    {
        Write(RunFiles.ResourceUse, "cpu_usec 2000000\npeak_memory_bytes unknown\noom_kill 0\n");
        Write(RunFiles.Rusage, "900000 100000 2048\n");

        Assert.Equal(new RunUsage(null, 2.0, 2048 * 1024), RunUsageFiles.Read(directory.Path));
    }

    [Fact]
    public void Read_AddsUserAndSystemTime_AndTakesRssInKiB()
    {
        Write(RunFiles.Rusage, "750000 250000 102400\n");

        Assert.Equal(new RunUsage(null, 1.0, 100L * 1024 * 1024), RunUsageFiles.Read(directory.Path));
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage\n")]
    [InlineData("1 2\n")]
    [InlineData("1 2 3 4\n")]
    [InlineData("-1 2 3\n")]
    [InlineData("1 2 99999999999999999999\n")]
    [InlineData("1e6 2 3\n")]
    [InlineData("9223372036854775807 9223372036854775807 1\n")]
    [InlineData("1 2 9223372036854775807\n")]
    public void Read_GivesNoFigures_ForAGarbledRusage(string text)
    {
        Write(RunFiles.Rusage, text);

        Assert.True(RunUsageFiles.Read(directory.Path).IsEmpty);
    }

    [Theory]
    [InlineData("cpu_usec 1\npeak_memory_bytes 2\nextra 3\n")]
    [InlineData("cpu_usec one\n")]
    [InlineData("cpu_usec  1\n")]
    [InlineData("cpu_usec\n")]
    public void Read_GivesNoFigures_ForAGarbledResourceUse(string text)
    {
        Write(RunFiles.ResourceUse, text);

        Assert.True(RunUsageFiles.Read(directory.Path).IsEmpty);
    }

    [Fact]
    public void Read_FollowsNoLink()
    {
        var elsewhere = Path.Combine(Path.GetDirectoryName(directory.Path)!, $"usage-{Guid.NewGuid():N}");
        File.WriteAllText(elsewhere, "1000000 0 1024\n");
        try
        {
            File.CreateSymbolicLink(directory.Combine(RunFiles.Rusage), elsewhere);
            File.CreateSymbolicLink(directory.Combine(RunFiles.ResourceUse), "/proc/self/status");

            Assert.True(RunUsageFiles.Read(directory.Path).IsEmpty);
        }
        finally
        {
            File.Delete(elsewhere);
        }
    }

    [Fact]
    public void Read_GivesNoFigures_ForAHugeFileOrADirectory()
    {
        Write(RunFiles.Rusage, "1 2 3" + new string('\n', RunUsageFiles.MaxBytes));
        Directory.CreateDirectory(directory.Combine(RunFiles.ResourceUse));

        Assert.True(RunUsageFiles.Read(directory.Path).IsEmpty);
    }

    [Fact]
    public void Read_GivesNoFigures_ForAFifo_WithoutWaiting()
    {
        Runway.Tests.Fixtures.PlantedRuns.Run("mkfifo", directory.Combine(RunFiles.Rusage));

        Assert.True(RunUsageFiles.Read(directory.Path).IsEmpty);
    }

    [Fact]
    public void Read_GivesNoFigures_WhenTheRunDirectoryIsMissing() =>
        Assert.True(RunUsageFiles.Read(directory.Combine("gone")).IsEmpty);

    private void Write(string name, string text) => File.WriteAllText(directory.Combine(name), text);
}
