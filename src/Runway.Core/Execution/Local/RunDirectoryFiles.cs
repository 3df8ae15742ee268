using System.Globalization;
using System.Text;

namespace Runway.Execution.Local;

/// <summary>
/// The files the local executor keeps in a run directory. They, not Runway's memory, are the record of a
/// local run: a restarted server reads them to learn what happened while it was down.
/// </summary>
internal static class RunDirectoryFiles
{
    public const string Script = RunFiles.Script;
    public const string Pid = RunFiles.Pid;
    public const string PidStart = RunFiles.PidStart;
    public const string WrapperPid = RunFiles.WrapperPid;
    public const string ExitCode = RunFiles.ExitCode;
    public const string ResourceUse = RunFiles.ResourceUse;
    public const string Gpus = RunFiles.Gpus;
    public const string Stdout = RunFiles.Stdout;
    public const string Stderr = RunFiles.Stderr;
    public const string Temp = RunFiles.Temp;

    // Started as `/bin/sh run.sh ARGV...` leading a new session and process group (posix_spawn, SETSID).
    // 1. The command's words are positional parameters run as "$@": the shell never parses them. argv[0]
    //    is an absolute path, so no shell builtin or function can stand in for the program.
    // 2. A TERM to the group reaches the command too; the trap only keeps this shell alive to record the
    //    code, and skips the command if the stop came before it started. Caught (not ignored) signals are
    //    reset to default in the command, so it still dies of TERM.
    //    A stop landing between the shell's fork and the command's exec can be caught by the child's copy
    //    of the trap and so never reach the command: the executor sends the wrapper's children started
    //    since the stop a TERM of their own (LocalExecutor.TermLateCommand). A subshell, `( exec "$@" )`,
    //    would not close that window either (it too forks with the trap in place), and its fork cost a
    //    quarter of a trivial run's CPU.
    // 3. Only builtins besides the command: each extra program (mv) cost a fork and an exec, several
    //    times the cost of /bin/true itself. So no rename: each file is one short write(2), which a reader
    //    sees whole or empty, and readers take an empty file for a missing one. The server writes `pid`
    //    itself (atomically); the wrapper's own pid.wrapper only covers a server that died right after
    //    the start, and is written before the command runs, so a run without either never ran its command.
    // 4. Started isolated (RunIsolation), this shell is the init of a pid namespace, where $$ is 1: the
    //    isolate step passes the group's pid as the server knows it, which is no business of the command's.
    // 5. The exit record is durable before the run counts as ended, as the supervisor's is: coreutils' sync
    //    fsyncs the file and the directory holding its name (without them a crash could lose the code, and a
    //    restart then fail a run that ended well). The one program besides the command, after it has ended:
    //    this wrapper is the fallback for a build without a C compiler (README, "Performance").
    public const string ScriptText =
        """
        # Runway run wrapper: records this run's pid and exit status in its directory.
        stopped=
        trap 'stopped=1' TERM INT HUP
        group=${RUNWAY_PROCESS_GROUP:-$$}
        unset RUNWAY_PROCESS_GROUP
        exec </dev/null >stdout.log 2>stderr.log
        echo $group >pid.wrapper
        if [ -n "$stopped" ]; then
            code=143
        else
            "$@"
            code=$?
        fi
        echo $code >exit_code
        /bin/sync exit_code . 2>/dev/null
        exit $code

        """;

    public static int? ReadInt(string runDirectory, string name) =>
        ReadText(runDirectory, name) is { } text
        && int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    /// <summary>The wrapper's exit record: the code, and the file's modification time, which is when the run ended.</summary>
    public static (int Code, DateTimeOffset At)? ReadExit(string runDirectory)
    {
        var (text, at) = Read(runDirectory, ExitCode);
        return text is not null && int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var code)
            ? (code, at)
            : null;
    }

    public static long? ReadLong(string runDirectory, string name) =>
        ReadText(runDirectory, name) is { } text
        && long.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    /// <param name="mode">The file's permissions whatever the server's umask (the run account must read the script).</param>
    public static void WriteAtomically(string runDirectory, string name, string text, UnixFileMode? mode = null)
    {
        // Not name.tmp: the wrapper uses that, and the two may write the pid file at the same time.
        // CreateNew (O_CREAT|O_EXCL) never follows a link: one the run planted at the temporary name is
        // deleted, and one planted again in between makes this throw rather than write where it points.
        // The bare calls (PosixFiles.CreateNew): a FileStream adds an fstat, an fstatfs, an lseek and a flock and its undo,
        // and the delete beforehand is needed only when something is in the way (once per run, for resource_use).
        var temporary = Path.Combine(runDirectory, name + ".runway-tmp");
        var bytes = Encoding.UTF8.GetBytes(text);
        var error = PosixFiles.CreateNew(temporary, bytes, mode);
        if (error == AlreadyThere)
        {
            File.Delete(temporary);
            error = PosixFiles.CreateNew(temporary, bytes, mode);
        }
        if (error == 0 && PosixFiles.Rename(temporary, Path.Combine(runDirectory, name)) is var moved && moved != 0)
        {
            PosixFiles.Unlink(temporary);
            error = moved;
        }
        if (error != 0)
        {
            throw PosixFiles.Failure(error, temporary);
        }
    }

    /// <summary>
    /// Deletes what an earlier attempt of the run left at <paramref name="name"/>; nothing there (every first attempt) is
    /// one unlink(2) that finds nothing.
    /// </summary>
    public static void DeleteLeftover(string runDirectory, string name)
    {
        var path = Path.Combine(runDirectory, name);
        if (PosixFiles.Unlink(path) is var error and not (0 or NothingThere))
        {
            throw PosixFiles.Failure(error, path);
        }
    }

    private const int NothingThere = 2; // ENOENT

    private const int AlreadyThere = 17; // EEXIST

    /// <summary>
    /// The run may have put a link, a FIFO or an endless file (a link to /dev/zero) where these were: read
    /// only a regular file, reached without following links or waiting (<see cref="RunTree"/>), and only
    /// its first bytes, which are all a pid or an exit code needs.
    /// </summary>
    public static string? ReadText(string runDirectory, string name) => Read(runDirectory, name).Text;

    private static (string? Text, DateTimeOffset At) Read(string runDirectory, string name)
    {
        using var tree = RunTree.Open(runDirectory);
        using var file = tree?.OpenFile(name);
        if (file is null)
        {
            return (null, default);
        }
        var buffer = new byte[64];
        var read = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        return (Encoding.UTF8.GetString(buffer, 0, read), file.ModifiedAt);
    }
}
