using System.Buffers.Binary;
using System.Text;

namespace Runway.Execution.Local;

/// <summary>
/// The frames runway-supervisor (src/runway-supervisor/supervisor.c, whose header comment is the protocol)
/// and the server exchange: a u32 length, then a type byte and little-endian fields; strings are a u32
/// length and UTF-8 bytes. Only argument vectors and paths cross, never a shell string.
/// </summary>
internal static class SupervisorFrames
{
    public const byte Start = (byte)'S';
    public const byte Hello = (byte)'H';
    public const byte Started = (byte)'R';
    public const byte Failed = (byte)'F';
    public const byte Exited = (byte)'X';
    public const byte Leases = (byte)'L';

    /// <summary>An Exited code: the supervisor killed the run because its lease lapsed, and recorded nothing.</summary>
    public const int LeaseLapsed = -1;

    /// <summary>'L': these runs' leases hold for <paramref name="goodFor"/> more (see supervisor.c's header).</summary>
    public static byte[] EncodeLeases(TimeSpan goodFor, IReadOnlyCollection<(int Pid, long Start)> runs)
    {
        var frame = new byte[4 + 1 + 4 + 4 + (runs.Count * 12)];
        var at = frame.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)(frame.Length - 4));
        at[4] = Leases;
        BinaryPrimitives.WriteUInt32LittleEndian(at[5..], (uint)Math.Clamp(goodFor.TotalMilliseconds, 0, int.MaxValue));
        BinaryPrimitives.WriteUInt32LittleEndian(at[9..], (uint)runs.Count);
        var offset = 13;
        foreach (var (pid, start) in runs)
        {
            BinaryPrimitives.WriteInt32LittleEndian(at[offset..], pid);
            BinaryPrimitives.WriteInt64LittleEndian(at[(offset + 4)..], start);
            offset += 12;
        }
        return frame;
    }

    /// <summary>What the supervisor does in the run's child, as bits: the isolation mode's part.</summary>
    [Flags]
    public enum StartFlags : uint
    {
        None = 0,
        Isolate = 1,
        UserNamespace = 2,
        RunAccount = 4,
        PrivateNetwork = 8,

        /// <summary>The runs directory is outside the data directory: hidden as well (its path ends the frame).</summary>
        HideRuns = 16,

        /// <summary>With PrivateNetwork, without UserNamespace: the run joins the loopback-only namespace the supervisor keeps for its owner (its key ends the frame).</summary>
        SharedLoopback = 32,
    }

    public sealed record StartRequest(
        ulong Id, StartFlags Flags, uint Uid, uint Gid, string DataDirectory, string RunDirectory,
        string Program, IReadOnlyList<string> Argv, IReadOnlyDictionary<string, string> Environment, string RunsDirectory = "")
    {
        /// <summary>The cgroup.procs files the run's first process writes itself into before it execs (<see cref="RunCgroup"/>).</summary>
        public IReadOnlyList<string> Cgroups { get; init; } = [];

        /// <summary>Whose kept loopback namespace the run joins (with <see cref="StartFlags.SharedLoopback"/>).</summary>
        public string NetworkKey { get; init; } = "";
    }

    /// <summary>A whole frame, length first.</summary>
    public static byte[] Encode(StartRequest request)
    {
        using var body = new MemoryStream();
        body.Write(new byte[4]);
        body.WriteByte(Start);
        Span<byte> number = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(number, request.Id);
        body.Write(number);
        foreach (var value in (uint[])[(uint)request.Flags, request.Uid, request.Gid])
        {
            WriteUInt32(body, value);
        }
        WriteString(body, request.DataDirectory);
        WriteString(body, request.RunDirectory);
        WriteString(body, request.Program);
        WriteStrings(body, request.Argv);
        WriteStrings(body, [.. request.Environment.Select(e => $"{e.Key}={e.Value}")]);
        WriteStrings(body, request.Cgroups);
        if (request.Flags.HasFlag(StartFlags.HideRuns))
        {
            // Last and only with its flag: a supervisor started by an older server reads the frames it knows.
            WriteString(body, request.RunsDirectory);
        }
        if (request.Flags.HasFlag(StartFlags.SharedLoopback))
        {
            WriteString(body, request.NetworkKey);
        }
        var frame = body.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)(frame.Length - 4));
        return frame;
    }

    private static void WriteStrings(Stream body, IReadOnlyCollection<string> values)
    {
        WriteUInt32(body, (uint)values.Count);
        foreach (var value in values)
        {
            WriteString(body, value);
        }
    }

    private static void WriteString(Stream body, string value)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ExecutorStartException("an argument, the directory or an environment variable holds a NUL character");
        }
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteUInt32(body, (uint)bytes.Length);
        body.Write(bytes);
    }

    private static void WriteUInt32(Stream body, uint value)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(number, value);
        body.Write(number);
    }

    /// <summary>Reads a frame's fields in order; a frame too short for them throws <see cref="InvalidDataException"/>.</summary>
    public ref struct Reader(ReadOnlySpan<byte> frame)
    {
        private ReadOnlySpan<byte> rest = frame;

        public byte Type() => Take(1)[0];

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public ulong UInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public string String() => Encoding.UTF8.GetString(Take(BinaryPrimitives.ReadInt32LittleEndian(Take(4))));

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count < 0 || rest.Length < count)
            {
                throw new InvalidDataException("a short frame from the supervisor");
            }
            var taken = rest[..count];
            rest = rest[count..];
            return taken;
        }
    }
}
