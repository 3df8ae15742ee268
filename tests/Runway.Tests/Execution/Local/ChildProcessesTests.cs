using System.Globalization;
using Runway.Execution;
using Runway.Execution.Local;
using Runway.Tests.Fakes;

namespace Runway.Tests.Execution.Local;

public sealed class ChildProcessesTests : IDisposable
{
    private static readonly Dictionary<string, string> Environment = new(StringComparer.Ordinal) { ["PATH"] = "/usr/bin:/bin", ["ONLY"] = "this" };
    private readonly TempDirectory temp = new();
    private readonly ChildProcesses children = new();

    public void Dispose()
    {
        children.Dispose();
        temp.Dispose();
    }

    [Theory]
    [InlineData("exit 0", 0)]
    [InlineData("exit 7", 7)]
    [InlineData("kill -KILL $$", 137)]
    [InlineData("kill -TERM $$", 143)]
    public async Task Exited_GivesTheStatus_OrTheSignalPlus128(string script, int expected)
    {
        var (_, _, exited) = children.Start("/bin/sh", ["sh", "-c", script], Environment, temp.Path);

        Assert.Equal(expected, await Poll.CompletesAsync(exited));
    }

    [Fact]
    public async Task Start_GivesTheChildNoneOfThisProcesssStdio()
    {
        // Held by a long run (unshare keeps them while it waits), this process's stdout would never reach
        // end of file for whoever reads it: a supervisor, a pipe, a benchmark waiting for the server to exit.
        var (pid, _, exited) = children.Start("/bin/sleep", ["sleep", "30"], Environment, temp.Path);
        try
        {
            var fds = Enumerable.Range(0, 3).Select(fd => new FileInfo($"/proc/{pid}/fd/{fd}").LinkTarget).ToList();

            Assert.Equal(["/dev/null", "/dev/null", "/dev/null"], fds);
        }
        finally
        {
            Posix.Signal(pid, Posix.SigKill);
            await Poll.CompletesAsync(exited);
        }
    }

    [Fact]
    public async Task Start_LeadsANewSession_InTheDirectory_WithOnlyTheGivenEnvironment_AndNoSignalIgnoredOrBlocked()
    {
        // This test process ignores SIGPIPE (the .NET runtime does): a child must not inherit that. The
        // signals are read by the shell's own process once it execs grep: read from outside, /proc/$$ of a
        // dash that is waiting for a child shows every signal blocked (it blocks them around wait).
        var (pid, startTime, exited) = children.Start("/bin/sh",
            ["sh", "-c", "pwd >where; env >env; cat /proc/$$/stat >stat; exec grep -E '^Sig(Ign|Blk):' /proc/self/status >signals"],
            Environment, temp.Path);

        Assert.Equal(0, await Poll.CompletesAsync(exited));
        Assert.NotNull(startTime);
        Assert.Equal(temp.Path, File.ReadAllText(temp.Combine("where")).Trim());
        var stat = File.ReadAllText(temp.Combine("stat"));
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        Assert.Equal(pid.ToString(CultureInfo.InvariantCulture), fields[2]); // process group
        Assert.Equal(pid.ToString(CultureInfo.InvariantCulture), fields[3]); // session
        var variables = File.ReadAllLines(temp.Combine("env")).Where(l => !l.StartsWith("PWD=", StringComparison.Ordinal) && !l.StartsWith("SHLVL=", StringComparison.Ordinal) && !l.StartsWith("_=", StringComparison.Ordinal));
        // (those three are the shell's own)
        Assert.Equal(["ONLY=this", "PATH=/usr/bin:/bin"], variables.Order(StringComparer.Ordinal));
        // Signals 1-31 (bits 0-30): the real-time ones above are glibc's own, which sigfillset leaves out.
        Assert.All(File.ReadAllLines(temp.Combine("signals")),
            line => Assert.Equal(0UL, ulong.Parse(line.Split('\t')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) & 0x7FFF_FFFF));
    }

    [Fact]
    public async Task ManyChildren_AreAllReaped_WithTheirOwnStatus()
    {
        var started = Enumerable.Range(0, 40)
            .Select(i => children.Start("/bin/sh", ["sh", "-c", $"exit {i}"], Environment, temp.Path))
            .ToList();

        var statuses = await Poll.CompletesAsync(Task.WhenAll(started.Select(s => s.Exited)));

        Assert.Equal(Enumerable.Range(0, 40).Select(i => (int?)i), statuses);
    }

    [Fact]
    public async Task Dispose_LeavesRunningChildrenAlone_AndTheirExitPending()
    {
        var (pid, _, exited) = children.Start("/bin/sh", ["sh", "-c", "while [ ! -e release ]; do sleep 0.05; done; echo done >finished"], Environment, temp.Path);
        try
        {
            children.Dispose();

            Assert.False(exited.IsCompleted);
            Assert.True(Posix.Exists(pid));
            File.WriteAllText(temp.Combine("release"), "");
            await Poll.UntilAsync(() => File.Exists(temp.Combine("finished")), "the child to finish on its own");
            Assert.False(exited.IsCompleted);
        }
        finally
        {
            Posix.KillGroup(pid, Posix.SigKill);
        }
    }

    [Fact]
    public void Start_RefusesANulCharacter_InAnArgument()
    {
        var e = Assert.Throws<ExecutorStartException>(() => children.Start("/bin/sh", ["sh", "-c", "exit 0", "a\0b"], Environment, temp.Path));

        Assert.Contains("NUL", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_OfAMissingProgram_Fails_WithTheReason()
    {
        var e = Assert.Throws<ExecutorStartException>(() => children.Start(temp.Combine("nothing"), ["nothing"], Environment, temp.Path));

        Assert.Contains("No such file", e.Message, StringComparison.Ordinal);
    }
}
