using System.Runtime.InteropServices;

namespace Runway.Execution.Local;

/// <summary>
/// Starts programs with posix_spawn(3), each in a new session (POSIX_SPAWN_SETSID: no setsid(1) to exec
/// first), and reaps them. One thread waits for all of them with poll(2) on a pidfd each (Linux 5.3+),
/// not a thread per child; where pidfds are missing it checks its children every few milliseconds.
/// Process.Start would do neither: it cannot make a session, and it costs more in this process.
/// </summary>
internal sealed unsafe partial class ChildProcesses : IDisposable
{
    private const short SpawnSetSignalDefault = 0x04;
    private const short SpawnSetSignalMask = 0x08;
    private const short SpawnSetSid = 0x80;
    private const int SigKill = 9;
    private const int SigStop = 19;
    private const int SignalSetBytes = 128;
    // glibc's posix_spawnattr_t is 336 bytes and posix_spawn_file_actions_t 80 on 64-bit Linux; room to spare.
    private const int OpaqueBytes = 1024;
    private const int ENOSYS = 38;
    private const int EINTR = 4;
    private const int EAGAIN = 11;
    private const int ReadWrite = 2;
    private const short PollIn = 1;
    private const int WNoHang = 1;
    private static readonly TimeSpan FallbackInterval = TimeSpan.FromMilliseconds(5);

    private readonly Lock gate = new();
    private readonly Dictionary<int, Child> children = [];
    private int wakeFd = -1;
    private Thread? reaper;
    private volatile bool disposed;

    /// <summary>
    /// Starts <paramref name="program"/> (an absolute path) with exactly <paramref name="argv"/> and
    /// <paramref name="environment"/>, in <paramref name="workingDirectory"/>, as the leader of a new
    /// session and process group, every signal at its default and none blocked. It returns once the
    /// program is exec'd (or failed to be): the new group exists by then. StartTime is the child's
    /// (/proc/pid/stat field 22), read before anything can reap it. Exited gives the exit status (128 +
    /// the signal for a killed process), or null when something else reaped it; it stays pending if this
    /// object is disposed first, since the child goes on (a server that stops leaves its runs running).
    /// </summary>
    public (int Pid, long? StartTime, Task<int?> Exited) Start(
        string program, IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        EnsureReaper();
        var strings = new List<nint>();
        void* attributes = null, actions = null, mask = null, defaults = null;
        nint* paths = null, argvArray = null, envArray = null;
        try
        {
            attributes = NativeMemory.AllocZeroed(OpaqueBytes);
            actions = NativeMemory.AllocZeroed(OpaqueBytes);
            mask = NativeMemory.AllocZeroed(SignalSetBytes);
            defaults = NativeMemory.AllocZeroed(SignalSetBytes);
            paths = Strings([program, workingDirectory, "/dev/null"], strings);
            argvArray = Strings([.. argv], strings);
            envArray = Strings(environment.Select(e => $"{e.Key}={e.Value}").ToList(), strings);
            Check(SpawnAttrInit(attributes), "posix_spawnattr_init");
            try
            {
                Check(SpawnFileActionsInit(actions), "posix_spawn_file_actions_init");
                try
                {
                    Check(SigEmptySet(mask), "sigemptyset");
                    Check(SigFillSet(defaults), "sigfillset");
                    Check(SigDelSet(defaults, SigKill), "sigdelset");
                    Check(SigDelSet(defaults, SigStop), "sigdelset");
                    Check(SpawnAttrSetSigMask(attributes, mask), "posix_spawnattr_setsigmask");
                    Check(SpawnAttrSetSigDefault(attributes, defaults), "posix_spawnattr_setsigdefault");
                    Check(SpawnAttrSetFlags(attributes, SpawnSetSid | SpawnSetSignalMask | SpawnSetSignalDefault), "posix_spawnattr_setflags");
                    Check(SpawnFileActionsAddChdir(actions, (byte*)paths[1]), "posix_spawn_file_actions_addchdir_np");
                    // Never this process's stdin, stdout or stderr: a program that keeps them for the whole
                    // run (unshare, waiting for the wrapper that has its own) would hold this server's
                    // pipes open, and whoever reads them (a supervisor, `runway serve | tee`) would wait
                    // for the run to end.
                    for (var fd = 0; fd <= 2; fd++)
                    {
                        Check(SpawnFileActionsAddOpen(actions, fd, (byte*)paths[2], ReadWrite, 0), "posix_spawn_file_actions_addopen");
                    }
                    int pid;
                    var error = PosixSpawn(&pid, (byte*)paths[0], actions, attributes, argvArray, envArray);
                    if (error != 0)
                    {
                        throw new ExecutorStartException($"could not start {program}: {Marshal.GetPInvokeErrorMessage(error)}");
                    }
                    var startTime = ProcessTable.StartTimeOfChild(pid);
                    return (pid, startTime, Track(pid));
                }
                finally
                {
                    _ = SpawnFileActionsDestroy(actions);
                }
            }
            finally
            {
                _ = SpawnAttrDestroy(attributes);
            }
        }
        finally
        {
            foreach (var s in strings)
            {
                Marshal.FreeCoTaskMem(s);
            }
            NativeMemory.Free(paths);
            NativeMemory.Free(argvArray);
            NativeMemory.Free(envArray);
            NativeMemory.Free(attributes);
            NativeMemory.Free(actions);
            NativeMemory.Free(mask);
            NativeMemory.Free(defaults);
        }
    }

    /// <summary>
    /// Stops watching. Children still running are left alone and their Exited stays pending: they are
    /// runs that outlive this server, which the next start takes back from their run directories.
    /// </summary>
    public void Dispose()
    {
        Thread? thread;
        lock (gate)
        {
            if (disposed)
            {
                return;
            }
            disposed = true;
            WakeLocked();
            thread = reaper;
        }
        // Descriptors are closed only once the reaper is surely gone: it may be using them until then.
        if (thread is not null && !thread.Join(TimeSpan.FromSeconds(5)))
        {
            return;
        }
        lock (gate)
        {
            foreach (var child in children.Values.Where(c => c.PidFd >= 0))
            {
                _ = Close(child.PidFd);
            }
            children.Clear();
            if (wakeFd >= 0)
            {
                _ = Close(wakeFd);
                wakeFd = -1;
            }
        }
    }

    /// <summary>The pid is this process's unreaped child, so it cannot be reused before the pidfd refers to it.</summary>
    private Task<int?> Track(int pid)
    {
        var pidFd = (int)PidFdOpen(434, pid, 0);
        var child = new Child(pid, pidFd, new TaskCompletionSource<int?>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (gate)
        {
            if (disposed)
            {
                // Disposed while this child started: it runs on, unwatched, like the others.
                if (pidFd >= 0)
                {
                    _ = Close(pidFd);
                }
                return child.Exit.Task;
            }
            children.Add(pid, child);
            WakeLocked();
        }
        return child.Exit.Task;
    }

    private void EnsureReaper()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (reaper is not null)
            {
                return;
            }
            wakeFd = EventFd(0, 0x80000 /* EFD_CLOEXEC */ | 0x800 /* EFD_NONBLOCK */);
            if (wakeFd < 0)
            {
                throw new ExecutorStartException($"eventfd failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }
            reaper = new Thread(Reap) { IsBackground = true, Name = "runway child reaper" };
            reaper.Start();
        }
    }

    /// <summary>Under <see cref="gate"/>, so the descriptor cannot be closed (and its number reused) meanwhile.</summary>
    private void WakeLocked()
    {
        ulong one = 1;
        if (wakeFd >= 0)
        {
            _ = Write(wakeFd, &one, sizeof(ulong));
        }
    }

    /// <summary>Waits for a child to exit (or a new one to watch), then reaps every child that has.</summary>
    private void Reap()
    {
        var fds = new PollFd[16];
        var watched = new List<Child>();
        var stalled = false;
        while (!disposed)
        {
            var polling = true;
            lock (gate)
            {
                watched.Clear();
                watched.AddRange(children.Values);
            }
            var count = 1;
            if (fds.Length < watched.Count + 1)
            {
                fds = new PollFd[(watched.Count + 1) * 2];
            }
            fds[0] = new PollFd { Fd = wakeFd, Events = PollIn };
            foreach (var child in watched)
            {
                if (child.PidFd >= 0)
                {
                    fds[count++] = new PollFd { Fd = child.PidFd, Events = PollIn };
                }
                else
                {
                    polling = false; // no pidfd: look at it every few milliseconds
                }
            }
            // A pidfd that says "exited" while waitpid says "not yet" (a tracer holds the zombie): look
            // again in a while instead of spinning on a descriptor that stays readable.
            var timeout = !polling || stalled ? (int)FallbackInterval.TotalMilliseconds : -1;
            fixed (PollFd* p = fds)
            {
                var ready = Poll(p, (nuint)count, timeout);
                if (ready < 0 && Marshal.GetLastPInvokeError() != EINTR)
                {
                    Thread.Sleep(FallbackInterval);
                }
            }
            if ((fds[0].Revents & PollIn) != 0)
            {
                ulong drained;
                _ = Read(wakeFd, &drained, sizeof(ulong));
            }
            stalled = false;
            foreach (var child in watched)
            {
                if (!TryReap(child) && child.PidFd >= 0 && Readable(fds, count, child.PidFd))
                {
                    stalled = true;
                }
            }
        }
    }

    private static bool Readable(PollFd[] fds, int count, int fd)
    {
        for (var i = 1; i < count; i++)
        {
            if (fds[i].Fd == fd)
            {
                return fds[i].Revents != 0;
            }
        }
        return false;
    }

    /// <summary>Reaps the child if it has exited and completes its task; false while it runs.</summary>
    private bool TryReap(Child child)
    {
        int status;
        var reaped = WaitPid(child.Pid, &status, WNoHang);
        if (reaped == 0 || (reaped < 0 && Marshal.GetLastPInvokeError() is EINTR or EAGAIN))
        {
            return false;
        }
        lock (gate)
        {
            // Only this entry: once reaped, the pid may already belong to a newer child.
            if (children.TryGetValue(child.Pid, out var tracked) && ReferenceEquals(tracked, child))
            {
                children.Remove(child.Pid);
            }
        }
        if (child.PidFd >= 0)
        {
            _ = Close(child.PidFd);
        }
        // ECHILD: reaped by someone else. The runtime reaps every child when this process is pid 1 (a
        // container without an init), and the kernel does when SIGCHLD is ignored; the wrapper's
        // exit_code file still tells how the command ended.
        child.Exit.TrySetResult(reaped < 0 ? null : Decode(status));
        return true;
    }

    // WIFEXITED: low 7 bits zero, code in the next 8; otherwise killed by the signal in the low 7 bits.
    private static int Decode(int status) => (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);

    /// <summary>A NULL-terminated array of UTF-8 copies (each added to <paramref name="allocated"/>); NUL inside a value is refused.</summary>
    private static nint* Strings(List<string> values, List<nint> allocated)
    {
        var array = (nint*)NativeMemory.AllocZeroed((nuint)(values.Count + 1), (nuint)sizeof(nint));
        try
        {
            for (var i = 0; i < values.Count; i++)
            {
                if (values[i].Contains('\0', StringComparison.Ordinal))
                {
                    throw new ExecutorStartException("an argument, the directory or an environment variable holds a NUL character");
                }
                var s = Marshal.StringToCoTaskMemUTF8(values[i]);
                allocated.Add(s);
                array[i] = s;
            }
            return array;
        }
        catch
        {
            NativeMemory.Free(array);
            throw;
        }
    }

    private static void Check(int result, string call)
    {
        if (result != 0)
        {
            throw new ExecutorStartException($"{call} failed: {Marshal.GetPInvokeErrorMessage(result > 0 ? result : Marshal.GetLastPInvokeError())}");
        }
    }

    private sealed record Child(int Pid, int PidFd, TaskCompletionSource<int?> Exit);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int PosixSpawn(int* pid, byte* path, void* fileActions, void* attributes, nint* argv, nint* envp);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SpawnAttrInit(void* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SpawnAttrDestroy(void* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SpawnAttrSetFlags(void* attributes, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SpawnAttrSetSigMask(void* attributes, void* mask);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SpawnAttrSetSigDefault(void* attributes, void* signals);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SpawnFileActionsInit(void* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SpawnFileActionsDestroy(void* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addchdir_np")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SpawnFileActionsAddChdir(void* actions, byte* path);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SpawnFileActionsAddOpen(void* actions, int fd, byte* path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "sigemptyset", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SigEmptySet(void* set);

    [LibraryImport("libc", EntryPoint = "sigfillset", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SigFillSet(void* set);

    [LibraryImport("libc", EntryPoint = "sigdelset", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int SigDelSet(void* set, int signal);

    // syscall(SYS_pidfd_open = 434, pid, flags): 434 on every Linux architecture; -1 (ENOSYS) before 5.3.
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial long PidFdOpen(long number, int pid, uint flags);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Close(int fd);
}
