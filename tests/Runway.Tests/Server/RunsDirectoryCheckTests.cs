using Runway.Tests.Fakes;

namespace Runway.Tests.Server;

/// <summary>A configured runs directory that Runway would chmod 0700 or expose is refused before anything is created or changed.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RunsDirectoryCheckTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData("/", "root directory")]
    [InlineData("DATA", "data directory or above it")]
    [InlineData("PARENT", "data directory or above it")]
    [InlineData("DATA/files", "Runway's own")]
    [InlineData("DATA/tmp/x", "Runway's own")]
    [InlineData("DATA/keys", "Runway's own")]
    public void Refuses_ADirectoryRunwayWouldDamageOrExpose(string runs, string says)
    {
        var data = temp.Combine("data");
        var paths = new RunwayPaths(data, runs.Replace("PARENT", temp.Path, StringComparison.Ordinal).Replace("DATA", data, StringComparison.Ordinal));

        var refused = Assert.Throws<StartRefusedException>(paths.CheckRunsDirectory);

        Assert.Contains(says, refused.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public void Refuses_AnExistingDirectoryHoldingSomethingElse_AndLeavesItsModeAlone()
    {
        var home = Directory.CreateDirectory(temp.Combine("home"));
        Directory.CreateDirectory(Path.Combine(home.FullName, "alice"));
        home.UnixFileMode = (UnixFileMode)0b111_101_101;

        var refused = Assert.Throws<StartRefusedException>(new RunwayPaths(temp.Combine("data"), home.FullName).CheckRunsDirectory);

        Assert.Contains("'alice'", refused.Message, StringComparison.Ordinal);
        Assert.Equal((UnixFileMode)0b111_101_101, new DirectoryInfo(home.FullName).UnixFileMode);
    }

    [Fact]
    public void Accepts_ANewDirectory_OrOneOfRunDirectories_OnADedicatedFilesystem()
    {
        var runs = Directory.CreateDirectory(temp.Combine("runs"));
        Directory.CreateDirectory(Path.Combine(runs.FullName, "01JD0000000000000000000001"));
        Directory.CreateDirectory(Path.Combine(runs.FullName, "lost+found"));

        new RunwayPaths(temp.Combine("data"), runs.FullName).CheckRunsDirectory();
        new RunwayPaths(temp.Combine("data"), temp.Combine("new")).CheckRunsDirectory();
        new RunwayPaths(temp.Combine("data")).CheckRunsDirectory();
    }
}
