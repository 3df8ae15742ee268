using System.Diagnostics;
using System.Globalization;

namespace Runway.Tests.Fixtures;

/// <summary>
/// strace attached to a running process, every thread of it (<c>-f</c>), with each descriptor's path (<c>-y</c>): for
/// the tests of what a crash would expose but a test cannot stage, such as whether a name is synced after it is made.
/// Skips when strace is missing, or may not attach (a non-root developer under Yama's ptrace_scope).
/// </summary>
public sealed class Strace : IAsyncDisposable
{
    private const string Program = "/usr/bin/strace";
    private readonly Process tracer;
    private readonly string output;

    private Strace(Process tracer, string output)
    {
        this.tracer = tracer;
        this.output = output;
    }

    /// <summary>Attaches to <paramref name="pid"/> for the system calls <paramref name="calls"/> (strace's trace= list); returns once every thread is traced.</summary>
    public static async Task<Strace> AttachAsync(int pid, string calls, string output)
    {
        if (!File.Exists(Program))
        {
            Requires.Skip($"strace not available: no {Program} (apt-get install strace)");
        }
        var tracer = Process.Start(new ProcessStartInfo(Program)
        {
            ArgumentList = { "-f", "-y", "-e", "trace=" + calls, "-o", output, "-p", pid.ToString(CultureInfo.InvariantCulture) },
            RedirectStandardError = true,
        })!;
        var errors = tracer.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await Eventually.TrueAsync(
            () => tracer.HasExited || Directory.GetDirectories($"/proc/{pid}/task").All(task => TracerOf(task) == tracer.Id),
            TimeSpan.FromSeconds(10), $"strace to attach to every thread of process {pid}");
        if (tracer.HasExited)
        {
            var why = (await errors).Trim();
            tracer.Dispose();
            Requires.Skip($"strace could not attach to process {pid}: {why}");
        }
        return new Strace(tracer, output);
    }

    /// <summary>
    /// Runs <paramref name="command"/> under strace from its first call (every process it starts too, <c>-f</c>), in
    /// <paramref name="workingDirectory"/>, to its end: the calls traced, each line led by its process's id.
    /// </summary>
    public static async Task<string[]> RunAsync(string calls, string output, string workingDirectory, params string[] command)
    {
        if (!File.Exists(Program))
        {
            Requires.Skip($"strace not available: no {Program} (apt-get install strace)");
        }
        var start = new ProcessStartInfo(Program) { WorkingDirectory = workingDirectory, RedirectStandardError = true };
        foreach (var argument in (string[])["-f", "-y", "-e", "trace=" + calls, "-o", output, "--", .. command])
        {
            start.ArgumentList.Add(argument);
        }
        using var tracer = Process.Start(start)!;
        var errors = tracer.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await tracer.WaitForExitAsync(TestContext.Current.CancellationToken);
        if (!File.Exists(output))
        {
            Requires.Skip($"strace could not run {command[0]}: {(await errors).Trim()}");
        }
        return File.ReadAllLines(output);
    }

    /// <summary>Detaches, and returns the calls traced, each line led by its thread's id.</summary>
    public async Task<string[]> StopAsync()
    {
        await DetachAsync();
        return File.ReadAllLines(output);
    }

    public async ValueTask DisposeAsync()
    {
        await DetachAsync();
        tracer.Dispose();
    }

    private async Task DetachAsync()
    {
        if (tracer.HasExited)
        {
            return;
        }
        Posix.Signal(tracer.Id, 2); // SIGINT: strace detaches and writes the rest of its output
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await tracer.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            tracer.Kill(); // a tracee stays stopped only while its tracer lives: killing strace frees it
            await tracer.WaitForExitAsync(CancellationToken.None);
            Assert.Fail("strace did not detach within 10 s of SIGINT");
        }
    }

    /// <summary>The TracerPid of a thread (/proc/PID/task/TID), 0 when none traces it or it is gone.</summary>
    private static int TracerOf(string task)
    {
        try
        {
            var line = File.ReadLines(Path.Combine(task, "status")).FirstOrDefault(l => l.StartsWith("TracerPid:", StringComparison.Ordinal));
            return line is null ? 0 : int.Parse(line["TracerPid:".Length..].Trim(), CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
