using System.Security.Cryptography;

namespace Runway.Runs;

/// <summary>
/// Sortable unique ids (ULID: 48-bit millisecond time, 80 random bits, Crockford base 32). Newest-first
/// lists and cursors can then order by id alone. Files carry an <c>f_</c> prefix so a file id is never
/// mistaken for a run id. Monotonic within a process, as the ULID specification's monotonic generator: an id made
/// in the same millisecond as the one before it takes that one's random bits plus one, so that two runs submitted
/// one after the other within a millisecond list in the order they came (with fresh random bits they were in either
/// order half the time).
/// </summary>
public static class Ids
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    private static readonly UInt128 MaxRandom = (UInt128.One << 80) - 1;
    private static readonly Lock Gate = new();
    private static ulong lastMilliseconds;
    private static UInt128 lastRandom;

    public static string NewRunId(TimeProvider clock) => NewUlid(clock.GetUtcNow());

    public static string NewFileId(TimeProvider clock) => "f_" + NewUlid(clock.GetUtcNow());

    public static bool IsRunId(string? id) => id is { Length: 26 } && id.All(c => Alphabet.Contains(c, StringComparison.Ordinal));

    public static bool IsFileId(string? id) => id is { Length: 28 } && id.StartsWith("f_", StringComparison.Ordinal) && IsRunId(id[2..]);

    public static string NewUlid(DateTimeOffset at)
    {
        var ms = (ulong)at.ToUnixTimeMilliseconds() & 0xFFFF_FFFF_FFFF;
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes[6..]);
        var random = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
        lock (Gate)
        {
            if (ms == lastMilliseconds && lastRandom < MaxRandom)
            {
                random = lastRandom + 1;
            }
            (lastMilliseconds, lastRandom) = (ms, random);
        }
        var value = ((UInt128)ms << 80) | random;

        Span<char> chars = stackalloc char[26];
        // 128 bits as 26 base-32 digits, most significant first (the first digit carries 3 bits).
        for (var i = 25; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }
        return new string(chars);
    }
}
