using Runway.Execution;
using Runway.Tests.Fakes;

namespace Runway.Tests.Execution.Limits;

/// <summary>What a local run used, measured by its cgroup (resource_use) or by the supervisor's wait4 (rusage).</summary>
public sealed class ResourceUseTests
{
    /// <summary>Burns a second of CPU (user + system, by its own clock) while holding 100 MiB it has written to.</summary>
    public static readonly string[] Burner =
    [
        "/usr/bin/perl", "-e",
        "my $n = 100 * 1024 * 1024; my $m = 'x' x $n; 1 while (times)[0] + (times)[1] < 1.0; exit(length($m) == $n ? 0 : 1)",
    ];

    public const long MiB = 1024 * 1024;

    public static TheoryData<string, bool> Ways => new()
    {
        { "none", true }, // the cgroup alone
        { "supervisor", true }, // the cgroup first, rusage beside it
        { "supervisor", false }, // rusage alone
    };

    [Theory]
    [MemberData(nameof(Ways))]
    public async Task Exit_CarriesCpuAndPeakMemory_OfARunThatBurnsThem(string mode, bool confine)
    {
        using var world = new LimitsWorld(mode, confine: confine);
        var launch = world.Launch(Burner);

        var exit = await Poll.CompletesAsync((await world.StartAsync(launch)).Exited, TimeSpan.FromSeconds(60));

        Assert.Equal(0, exit.ExitCode);
        var usage = Assert.IsType<Runway.Runs.RunUsage>(exit.Usage);
        Assert.InRange(usage.CpuSeconds ?? 0, 0.95, 10);
        Assert.InRange(usage.PeakMemoryBytes ?? 0, 100 * MiB, 1024 * MiB);
        Assert.Equal(confine, File.Exists(Path.Combine(launch.RunDirectory, RunFiles.ResourceUse)));
    }
}
