using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using static Runway.Execution.Local.SupervisorFrames;

namespace Runway.Execution.Local;

/// <summary>
/// The server's side of runway-supervisor, the one long-lived process per node that starts every local run
/// and is its parent (src/runway-supervisor/supervisor.c): found on its socket in the data directory, or
/// started detached (its own session) when there is none, so it outlives this server and a restarted
/// server reconnects to it. One thread reads its frames: start replies, and the end of each run once its
/// exit_code is written.
/// </summary>
/// <remarks>
/// The reader never waits for a lock that a sender holds: the supervisor is one thread that writes its
/// frames before it reads again, so a reader held up behind a sender blocked on a full socket would leave
/// both waiting on each other for ever. A send that makes no progress for <see cref="ReplyLimit"/> gives the
/// supervisor up as lost.
/// </remarks>
/// <remarks>
/// When the supervisor goes away (killed), the runs it led go on as orphans: their exits complete with
/// null, and the executor watches them through /proc; they end system_error when they end, as a run that
/// ended while Runway was down, since nobody is left to record their exit code. The next start launches
/// a new supervisor.
/// </remarks>
public sealed class RunSupervisor : IDisposable
{
    public const string BinaryName = "runway-supervisor";
    private const string SocketName = "supervisor.sock";
    private const int MaxSocketPath = 107; // sun_path, less its NUL
    private static readonly TimeSpan ConnectLimit = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ReplyLimit = TimeSpan.FromSeconds(30);

    private readonly string binary;
    private readonly string dataDirectory;
    private readonly string socketPath;
    private readonly ChildProcesses launcher = new();
    private readonly Lock gate = new();
    private readonly Lock sending = new();
    private readonly ConcurrentDictionary<ulong, PendingStart> pending = new();
    private readonly ConcurrentDictionary<int, Supervised> live = new();
    private Socket? socket;
    private ulong lastId;
    private bool disposed;

    private RunSupervisor(string binary, string dataDirectory)
    {
        this.binary = binary;
        this.dataDirectory = dataDirectory;
        socketPath = Path.Combine(dataDirectory, SocketName);
    }

    /// <summary>
    /// The supervisor for <paramref name="dataDirectory"/>, once it has started a real run the way
    /// <paramref name="isolation"/> asks (the data directory hidden, the run directory writable); null
    /// with the reason when it is missing or fails that probe.
    /// </summary>
    public static RunSupervisor? Start(string dataDirectory, RunIsolation isolation, out string detail)
    {
        var binary = Path.Combine(AppContext.BaseDirectory, BinaryName);
        dataDirectory = Path.GetFullPath(dataDirectory);
        if (!File.Exists(binary))
        {
            detail = $"{BinaryName} was not built (no C compiler, cc, when Runway was built)";
            return null;
        }
        if (Encoding.UTF8.GetByteCount(Path.Combine(dataDirectory, SocketName)) > MaxSocketPath)
        {
            detail = $"the data directory's path is too long for the supervisor's Unix socket ({MaxSocketPath} bytes at most)";
            return null;
        }
        var supervisor = new RunSupervisor(binary, dataDirectory);
        try
        {
            supervisor.Connect(isolation);
            detail = "runs are started by runway-supervisor, one process per node that is their parent"
                + (supervisor.KeptOlder is var (pid, runs)
                    ? $"; it is an older build's (pid {pid}), kept since it leads {runs} run(s): restart Runway once they ended to use this build's"
                    : "");
            return supervisor;
        }
        catch (Exception e) when (e is IOException or SocketException or ExecutorStartException or InvalidDataException or UnauthorizedAccessException or TimeoutException)
        {
            supervisor.Dispose();
            detail = $"{BinaryName} failed its start probe: {e.Message}";
            return null;
        }
    }

    /// <summary>Starts a run; the exit completes with its code once the supervisor has written exit_code, or with null if the supervisor went away first.</summary>
    public async Task<(int Pid, long Start, Task<int?> Exited)> StartAsync(
        RunIsolation isolation, string runDirectory, string program, IReadOnlyList<string> argv,
        IReadOnlyDictionary<string, string> environment, RunConfinement confinement, CancellationToken cancellationToken)
    {
        Socket connected;
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (socket is null)
            {
                try
                {
                    Connect(null);
                }
                catch (Exception e) when (e is IOException or SocketException or InvalidDataException or TimeoutException)
                {
                    throw new ExecutorStartException($"the run supervisor could not be started again: {e.Message}", e);
                }
            }
            connected = socket!;
        }
        var id = Interlocked.Increment(ref lastId);
        var frame = Request(id, isolation, runDirectory, program, argv, environment, confinement);
        var reply = new PendingStart(connected);
        // Waiting before the send: Lost fails every start it finds here once the socket is closed, and a
        // send on a closed socket throws, so no start waits for a reply that cannot come.
        pending[id] = reply;
        try
        {
            lock (sending)
            {
                Send(connected, frame);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            pending.TryRemove(id, out _);
            connected.Dispose(); // a frame cut short leaves the stream unreadable: the reader sees the end
            throw new ExecutorStartException($"the run supervisor did not take the start: {e.Message}", e);
        }
        var (pid, start) = await reply.Done.Task.WaitAsync(ReplyLimit, cancellationToken);
        // Not there only when the supervisor went away right after the reply: the run is an orphan.
        return (pid, start, live.TryGetValue(pid, out var run) ? run.Exit.Task : Task.FromResult<int?>(null));
    }

    /// <summary>The exit of a run this supervisor leads (it leads the pid and the start time matches), or null.</summary>
    public Task<int?>? Watch(int pid, long? start) =>
        live.TryGetValue(pid, out var run) && (start is null || run.Start == start) ? run.Exit.Task : null;

    /// <summary>
    /// Tells the supervisor these runs' leases hold for <paramref name="goodFor"/> more: it kills each whole once
    /// that passes without another word (several nodes only). Best effort: a supervisor that is not connected
    /// now hears it at the next renewal, and one that never does kills nothing it was never told of.
    /// </summary>
    public void KeepLeases(TimeSpan goodFor, IReadOnlyCollection<(int Pid, long Start)> runs)
    {
        Socket? connected;
        lock (gate)
        {
            connected = disposed ? null : socket;
        }
        if (connected is null || runs.Count == 0)
        {
            return;
        }
        try
        {
            lock (sending)
            {
                Send(connected, EncodeLeases(goodFor, runs));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            connected.Dispose(); // as for a start: the reader sees the end and reconnects
        }
    }

    /// <summary>Drops what is kept of a run whose exit has been taken.</summary>
    public void Forget(int pid) => live.TryRemove(pid, out _);

    public void Dispose()
    {
        Socket? open;
        lock (gate)
        {
            disposed = true;
            open = socket;
        }
        // The reader sees the end and fails what waits; the supervisor, without a server, ends with its last run.
        open?.Dispose();
        launcher.Dispose();
    }

    /// <summary>An older build's supervisor this one kept, since it still led runs when this server connected: its pid and those runs.</summary>
    public (int Pid, int Runs)? KeptOlder { get; private set; }

    /// <summary>Under <see cref="gate"/> (or before anyone else has this object): connects, launching the supervisor if there is none, then probes when asked.</summary>
    private void Connect(RunIsolation? probe)
    {
        var connected = Greeted(TryConnect() ?? Launch());
        // Runway upgraded while its supervisor stayed (it outlives servers): one that leads no run is stopped and this
        // build's started in its place; one that leads runs goes on leading them, and starting this node's runs, and
        // the start-up log says so (Start's detail), since stopping it would leave its runs without a parent to reap them.
        // Checked after a launch too: one that was starting already (its socket made, not yet listening) holds the
        // lock, so the launched one gives way and the connection reaches that one.
        if (OlderBuild(connected) is { } older)
        {
            if (live.IsEmpty)
            {
                Retire(connected, older);
                connected = Greeted(Launch());
            }
            else
            {
                KeptOlder = (older, live.Count);
            }
        }
        if (probe is not null)
        {
            Probe(connected, probe);
        }
        connected.ReceiveTimeout = 0;
        new Thread(() => Read(connected)) { IsBackground = true, Name = "runway supervisor reader" }.Start();
    }

    private Socket Launch()
    {
        launcher.Start(binary, [binary, socketPath, Path.Combine(dataDirectory, "supervisor.log")], new Dictionary<string, string>(), dataDirectory);
        var deadline = TimeProvider.System.GetUtcNow() + ConnectLimit;
        Socket? connected;
        while ((connected = TryConnect()) is null)
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"{BinaryName} did not listen on {socketPath} within {ConnectLimit.TotalSeconds:0} s (see supervisor.log)");
            }
            Thread.Sleep(5);
        }
        return connected;
    }

    /// <summary>The connection, once the supervisor's greeting (the runs it leads now) is read.</summary>
    private Socket Greeted(Socket connected)
    {
        connected.ReceiveTimeout = (int)ReplyLimit.TotalMilliseconds;
        connected.SendTimeout = (int)ReplyLimit.TotalMilliseconds;
        socket = connected;
        if (!Dispatch(ReadFrame(connected), out var type) || type != Hello)
        {
            throw new InvalidDataException("the supervisor did not greet");
        }
        return connected;
    }

    /// <summary>
    /// The pid of the supervisor at the other end when it runs another runway-supervisor file than this build's
    /// (its /proc/PID/exe is not the file <see cref="binary"/> names: an upgrade replaced it); null when it is this
    /// build's, is not a runway-supervisor at all, or when that cannot be told.
    /// </summary>
    private int? OlderBuild(Socket connected)
    {
        const int SolSocket = 1, SoPeerCred = 17; // struct ucred: pid, uid, gid
        Span<byte> credentials = stackalloc byte[12];
        try
        {
            if (connected.GetRawSocketOption(SolSocket, SoPeerCred, credentials) < sizeof(int))
            {
                return null;
            }
        }
        catch (SocketException)
        {
            return null;
        }
        var pid = BinaryPrimitives.ReadInt32LittleEndian(credentials);
        var exe = $"/proc/{pid}/exe";
        string? program;
        try
        {
            program = pid > 0 && pid != Environment.ProcessId ? new FileInfo(exe).LinkTarget : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // Only a runway-supervisor is ever stopped, whatever else listens there ("… (deleted)": its file was replaced).
        const string Deleted = " (deleted)";
        if (program is null || Path.GetFileName(program.EndsWith(Deleted, StringComparison.Ordinal) ? program[..^Deleted.Length] : program) != BinaryName)
        {
            return null;
        }
        return PosixFiles.TryStatFollowing(exe, out var running) && PosixFiles.TryStatFollowing(binary, out var current)
            && (running.Device, running.Inode) != (current.Device, current.Inode) ? pid : null;
    }

    /// <summary>
    /// Stops an older build's supervisor that leads no run (SIGTERM: it removes its socket and exits) and waits until
    /// it let go of its lock (<c>supervisor.sock.lock</c>, which it holds until it exits): a supervisor launched before
    /// that would find the lock held and give way.
    /// </summary>
    private void Retire(Socket connected, int pid)
    {
        socket = null;
        connected.Dispose();
        Posix.Signal(pid, Posix.SigTerm);
        var deadline = TimeProvider.System.GetUtcNow() + ConnectLimit;
        while (!LockFree(socketPath + ".lock"))
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"the older {BinaryName} (pid {pid}) did not stop within {ConnectLimit.TotalSeconds:0} s");
            }
            Thread.Sleep(5);
        }
    }

    /// <summary>Whether no process holds the supervisor's lock: .NET takes flock(LOCK_EX | LOCK_NB) for FileShare.None, as the supervisor does.</summary>
    private static bool LockFree(string path)
    {
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return true;
        }
        catch (FileNotFoundException)
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private Socket? TryConnect()
    {
        var candidate = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            candidate.Connect(new UnixDomainSocketEndPoint(socketPath));
            return candidate;
        }
        catch (SocketException)
        {
            candidate.Dispose();
            return null;
        }
    }

    /// <summary>One run, as RunIsolation's probe runs one through the chain, read here before the reader thread exists.</summary>
    private void Probe(Socket connected, RunIsolation isolation)
    {
        var scratch = Path.Combine(dataDirectory, "tmp", "supervisor-probe-" + Guid.NewGuid().ToString("N"));
        var marker = scratch + ".marker";
        try
        {
            Directory.CreateDirectory(scratch);
            File.WriteAllText(marker, "");
            isolation.GiveToAccount(scratch);
            var id = Interlocked.Increment(ref lastId);
            var reply = new PendingStart(connected);
            pending[id] = reply;
            Send(connected, Request(id, isolation, scratch, "/bin/sh", ["/bin/sh", "-c", "[ -e \"$1\" ] && exit 3; [ -w . ]", "sh", marker], new Dictionary<string, string>(), RunConfinement.Open));
            while (!reply.Done.Task.IsCompleted)
            {
                Dispatch(ReadFrame(connected), out _);
            }
            if (reply.Done.Task.Exception?.InnerException is { } failed)
            {
                throw failed;
            }
            var run = live[reply.Pid];
            while (!run.Exit.Task.IsCompleted)
            {
                Dispatch(ReadFrame(connected), out _);
            }
            live.TryRemove(reply.Pid, out _);
            var code = run.Code;
            if (code != 0 && !(code == 3 && isolation.Mode == IsolationMode.None))
            {
                throw new ExecutorStartException(code == 3 ? "the data directory stayed visible to the run" : $"the probe's run exited {code}");
            }
        }
        finally
        {
            TryDelete(() => Directory.Delete(scratch, recursive: true));
            TryDelete(() => File.Delete(marker));
        }
    }

    private static byte[] Request(
        ulong id, RunIsolation isolation, string runDirectory, string program, IReadOnlyList<string> argv,
        IReadOnlyDictionary<string, string> environment, RunConfinement confinement)
    {
        var (flags, uid, gid, data, runs) = isolation.SupervisorMode;
        // A network namespace comes with the others: without isolation there are none.
        if (!confinement.Network && flags.HasFlag(StartFlags.Isolate))
        {
            flags |= StartFlags.PrivateNetwork;
            // A root supervisor (no user namespace per run) keeps one loopback-only namespace per owner and puts the
            // owner's runs in it: a new one per run cost ~1.8 ms of CPU, most of it the kernel's asynchronous teardown.
            if (confinement.NetworkOwner is not null && !flags.HasFlag(StartFlags.UserNamespace))
            {
                flags |= StartFlags.SharedLoopback;
            }
        }
        return Encode(new StartRequest(id, flags, uid, gid, data, runDirectory, program, argv, environment, runs)
        {
            Cgroups = confinement.CgroupProcs,
            NetworkKey = confinement.NetworkOwner ?? "",
        });
    }

    private static void Send(Socket connected, byte[] frame)
    {
        var sent = 0;
        while (sent < frame.Length)
        {
            sent += connected.Send(frame.AsSpan(sent));
        }
    }

    private void Read(Socket connected)
    {
        try
        {
            while (true)
            {
                Dispatch(ReadFrame(connected), out _);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidDataException)
        {
            Lost(connected);
        }
    }

    /// <summary>Applies one frame: replies complete their start, an exit its run. False for a frame of no known type.</summary>
    private bool Dispatch(byte[] frame, out byte type)
    {
        var reader = new Reader(frame);
        type = reader.Type();
        switch (type)
        {
            case Hello:
                for (var count = reader.Int32(); count > 0; count--)
                {
                    var pid = reader.Int32();
                    live[pid] = new Supervised(reader.Int64());
                }
                return true;
            case Started or Failed:
                pending.TryRemove(reader.UInt64(), out var waiting);
                if (type == Started)
                {
                    var (pid, start) = (reader.Int32(), reader.Int64());
                    live[pid] = new Supervised(start);
                    if (waiting is not null)
                    {
                        waiting.Pid = pid;
                        waiting.Done.TrySetResult((pid, start));
                    }
                }
                else
                {
                    waiting?.Done.TrySetException(new ExecutorStartException(reader.String()));
                }
                return true;
            case Exited:
                var (ended, startTime, code) = (reader.Int32(), reader.Int64(), reader.Int32());
                if (live.TryGetValue(ended, out var run) && run.Start == startTime)
                {
                    run.Code = code;
                    run.Exit.TrySetResult(code);
                }
                return true;
            default:
                return false;
        }
    }

    private static byte[] ReadFrame(Socket connected)
    {
        Span<byte> header = stackalloc byte[4];
        ReceiveExactly(connected, header);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length is 0 or > 1 << 20)
        {
            throw new InvalidDataException($"a frame of {length} bytes from the supervisor");
        }
        var frame = new byte[length];
        ReceiveExactly(connected, frame);
        return frame;
    }

    private static void ReceiveExactly(Socket connected, Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var read = connected.Receive(buffer);
            if (read == 0)
            {
                throw new IOException("the supervisor closed its socket");
            }
            buffer = buffer[read..];
        }
    }

    /// <summary>The supervisor went away: starts in flight fail, and the runs it led are left to the executor's /proc watch.</summary>
    private void Lost(Socket connected)
    {
        lock (gate)
        {
            if (!ReferenceEquals(socket, connected))
            {
                return;
            }
            socket = null;
        }
        // Closed first, so a start that registers after this look fails on its send instead of waiting.
        connected.Dispose();
        foreach (var (id, waiting) in pending)
        {
            if (ReferenceEquals(waiting.Connection, connected) && pending.TryRemove(id, out var start))
            {
                start.Done.TrySetException(new ExecutorStartException("the run supervisor went away while starting the run"));
            }
        }
        foreach (var pid in live.Keys)
        {
            if (live.TryRemove(pid, out var run))
            {
                run.Exit.TrySetResult(null);
            }
        }
    }

    private static void TryDelete(Action delete)
    {
        try
        {
            delete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A scratch file of the probe; the data directory's tmp is Runway's to clean.
        }
    }

    /// <summary>A start sent on <paramref name="connection"/>, waiting for its reply.</summary>
    private sealed class PendingStart(Socket connection)
    {
        public Socket Connection { get; } = connection;

        public TaskCompletionSource<(int Pid, long Start)> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Pid { get; set; }
    }

    private sealed class Supervised(long start)
    {
        public long Start { get; } = start;

        public TaskCompletionSource<int?> Exit { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int? Code { get; set; }
    }
}
