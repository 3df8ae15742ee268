using Runway.Tests.Fakes;

namespace Runway.Tests.Execution.Local;

/// <summary>
/// The bare reads and writes of the kernel's control files (<see cref="ControlFiles"/>) keep what the FileStream calls
/// they replace told their callers: a missing file from a missing folder, the whole text of a long file, no exception on a
/// read that fails.
/// </summary>
public sealed class ControlFilesTests : IDisposable
{
    private readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Read_GivesTheWholeText_OfAFileLongerThanOneBuffer_AndNullForOneThatIsNotThere()
    {
        var text = string.Concat(Enumerable.Range(0, 3000).Select(i => $"{i}\n")); // about 13 KiB: several reads
        File.WriteAllText(folder.Combine("cgroup.procs"), text);

        Assert.Equal(text, ControlFiles.Read(folder.Combine("cgroup.procs")));
        Assert.Equal(text[..100], ControlFiles.Read(folder.Combine("cgroup.procs"), max: 100));
        Assert.Null(ControlFiles.Read(folder.Combine("cgroup.kill")));
        Assert.Null(ControlFiles.Read(folder.Path)); // a folder: read(2) fails with EISDIR, not an exception
    }

    [Fact]
    public void Write_ReplacesTheValue_AndTellsAMissingFileFromAMissingFolder()
    {
        File.WriteAllText(folder.Combine("pids.max"), "");
        ControlFiles.Write(folder.Combine("pids.max"), "4096");

        Assert.Equal("4096", File.ReadAllText(folder.Combine("pids.max")));
        // A kernel without the file (WriteIfPresent goes on), against a cgroup that is gone (the caller stops).
        Assert.Throws<FileNotFoundException>(() => ControlFiles.Write(folder.Combine("cgroup.kill"), "1"));
        Assert.Throws<DirectoryNotFoundException>(() => ControlFiles.Write(folder.Combine("gone/cgroup.kill"), "1"));
        Assert.False(File.Exists(folder.Combine("cgroup.kill"))); // never created: a control file is the kernel's
    }
}
