using System.Diagnostics;
using Runway.Runs;
using Runway.Tests.Fakes;

namespace Runway.Tests.Runs;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RunWorkspaceTests : IDisposable
{
    private const string FileId = "f_01JD0000000000000000000000";
    private const string RunId = "01JD0000000000000000000001";
    private readonly TempDirectory temp = new();
    private readonly RunwayPaths paths;
    private readonly RunWorkspace workspace;

    public RunWorkspaceTests()
    {
        paths = new RunwayPaths(temp.Path);
        paths.EnsureCreated();
        workspace = new RunWorkspace(paths);
        File.WriteAllText(paths.FilePath(FileId), "payload");
    }

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task Prepare_CopiesInputReadOnly_IntoNestedPath()
    {
        var directory = await workspace.PrepareAsync(RunId, Spec("inputs/deep/a.txt"), TestContext.Current.CancellationToken);

        var staged = Path.Combine(directory, "inputs", "deep", "a.txt");
        Assert.Equal(paths.RunDirectory(RunId), directory);
        Assert.Equal("payload", File.ReadAllText(staged));
        Assert.NotEqual(Inode(paths.FilePath(FileId)), Inode(staged));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(staged));
    }

    [Fact]
    public async Task Prepare_KeepsStoredUpload_WhenRunWritesItsInput()
    {
        var directory = await workspace.PrepareAsync(RunId, Spec("a.txt"), TestContext.Current.CancellationToken);
        var staged = Path.Combine(directory, "a.txt");

        // The run owns its directory and its inputs: it can always make one writable.
        File.SetUnixFileMode(staged, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(staged, "changed by the run");

        Assert.Equal("payload", File.ReadAllText(paths.FilePath(FileId)));
    }

    [Fact]
    public async Task Prepare_Succeeds_WhenCalledTwice()
    {
        await workspace.PrepareAsync(RunId, Spec("a.txt"), TestContext.Current.CancellationToken);

        var directory = await workspace.PrepareAsync(RunId, Spec("a.txt"), TestContext.Current.CancellationToken);

        Assert.Equal("payload", File.ReadAllText(Path.Combine(directory, "a.txt")));
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("/etc/escape.txt")]
    [InlineData("a/../../escape.txt")]
    [InlineData("")]
    public async Task Prepare_Throws_WhenPathLeavesRunDirectory(string relative)
    {
        await Assert.ThrowsAsync<InputStagingException>(() => workspace.PrepareAsync(RunId, Spec(relative), TestContext.Current.CancellationToken));

        Assert.False(File.Exists(Path.Combine(paths.RunsDirectory, "escape.txt")));
    }

    [Fact]
    public async Task Prepare_Throws_WhenUploadIsMissing()
    {
        var spec = new RunSpec { Argv = ["true"], Inputs = [new StagedInput("f_01JD0000000000000000000009", "a.txt")] };

        var error = await Assert.ThrowsAsync<InputStagingException>(() => workspace.PrepareAsync(RunId, spec, TestContext.Current.CancellationToken));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    private static RunSpec Spec(string relative) => new() { Argv = ["true"], Inputs = [new StagedInput(FileId, relative)] };

    private static string Inode(string path)
    {
        var info = new ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output.Trim();
    }
}
