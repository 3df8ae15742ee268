using System.Diagnostics;
using Runway.Execution.Local;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Execution.Local;

/// <summary>The executor's own files live in a directory the run controls: the run may put anything in their place.</summary>
public sealed class RunDirectoryFilesTests : IDisposable
{
    private readonly TempDirectory run = new();
    private readonly TempDirectory outside = new();
    private string? fifo;

    public void Dispose()
    {
        // A reader stuck opening a FIFO is let go by a writer appearing; O_RDWR opens a FIFO without blocking.
        if (fifo is not null)
        {
            new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite).Dispose();
        }
        run.Dispose();
        outside.Dispose();
    }

    [Fact]
    public async Task Wrapper_SyncsTheExitRecord_AfterWritingIt()
    {
        // The fallback wrapper (no supervisor built) run as the executor runs it: sh, the script, the command's argv.
        var script = Path.Combine(run.Path, RunDirectoryFiles.Script);
        await File.WriteAllTextAsync(script, RunDirectoryFiles.ScriptText, TestContext.Current.CancellationToken);

        var lines = await Strace.RunAsync("openat,write,fsync,fdatasync", outside.Combine("wrapper.strace"), run.Path,
            "/bin/sh", script, "/bin/sh", "-c", "exit 3");

        Assert.Equal(3, RunDirectoryFiles.ReadInt(run.Path, RunDirectoryFiles.ExitCode));
        var written = Array.FindLastIndex(lines, l => l.Contains("write(", StringComparison.Ordinal) && l.Contains($"/{RunDirectoryFiles.ExitCode}>, \"3\\n\"", StringComparison.Ordinal));
        Assert.True(written >= 0, "no write of the exit record in the trace:\n" + string.Join('\n', lines));
        var after = lines.Skip(written + 1).Where(l => l.Contains("fsync(", StringComparison.Ordinal) && l.EndsWith("= 0", StringComparison.Ordinal)).ToList();
        Assert.Contains(after, l => l.Contains($"{run.Path}/{RunDirectoryFiles.ExitCode}>)", StringComparison.Ordinal));
        Assert.Contains(after, l => l.Contains($"{run.Path}>)", StringComparison.Ordinal));
    }

    [Fact]
    public void ReadInt_DoesNotFollowALink()
    {
        File.WriteAllText(outside.Combine("code"), "7\n");
        File.CreateSymbolicLink(run.Combine(RunDirectoryFiles.ExitCode), outside.Combine("code"));

        Assert.Null(RunDirectoryFiles.ReadInt(run.Path, RunDirectoryFiles.ExitCode));
    }

    [Fact]
    public async Task ReadInt_DoesNotWait_OnAFifo()
    {
        using (var mkfifo = Process.Start("mkfifo", run.Combine(RunDirectoryFiles.ExitCode)))
        {
            await mkfifo.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        fifo = run.Combine(RunDirectoryFiles.ExitCode);

        var read = Task.Run(() => RunDirectoryFiles.ReadInt(run.Path, RunDirectoryFiles.ExitCode), TestContext.Current.CancellationToken);

        Assert.Null(await Poll.CompletesAsync(read, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void ReadInt_ReadsWhatTheWrapperWrote()
    {
        File.WriteAllText(run.Combine(RunDirectoryFiles.ExitCode), "3\n");

        Assert.Equal(3, RunDirectoryFiles.ReadInt(run.Path, RunDirectoryFiles.ExitCode));
    }

    [Fact]
    public void WriteAtomically_DoesNotWriteThroughALinkPlantedAtItsTemporaryName()
    {
        var victim = outside.Combine("victim");
        File.WriteAllText(victim, "precious\n");
        File.CreateSymbolicLink(run.Combine(RunDirectoryFiles.Pid + ".runway-tmp"), victim);

        RunDirectoryFiles.WriteAtomically(run.Path, RunDirectoryFiles.Pid, "42\n");

        Assert.Equal("precious\n", File.ReadAllText(victim));
        Assert.Equal(42, RunDirectoryFiles.ReadInt(run.Path, RunDirectoryFiles.Pid));
    }
}
