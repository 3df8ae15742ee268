using System.Security.Cryptography;

namespace Runway.Runs;

/// <summary>
/// Sortable unique ids (ULID: 48-bit millisecond time, 80 random bits, Crockford base 32). Newest-first
/// lists and cursors can then order by id alone. Files carry an <c>f_</c> prefix so a file id is never
/// mistaken for a run id.
/// </summary>
public static class Ids
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static string NewRunId(TimeProvider clock) => NewUlid(clock.GetUtcNow());

    public static string NewFileId(TimeProvider clock) => "f_" + NewUlid(clock.GetUtcNow());

    public static bool IsRunId(string? id) => id is { Length: 26 } && id.All(c => Alphabet.Contains(c, StringComparison.Ordinal));

    public static bool IsFileId(string? id) => id is { Length: 28 } && id.StartsWith("f_", StringComparison.Ordinal) && IsRunId(id[2..]);

    public static string NewUlid(DateTimeOffset at)
    {
        Span<byte> bytes = stackalloc byte[16];
        var ms = (ulong)at.ToUnixTimeMilliseconds();
        for (var i = 5; i >= 0; i--)
        {
            bytes[i] = (byte)(ms & 0xFF);
            ms >>= 8;
        }
        RandomNumberGenerator.Fill(bytes[6..]);

        Span<char> chars = stackalloc char[26];
        // 128 bits as 26 base-32 digits, most significant first (the first digit carries 3 bits).
        var hi = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
        var lo = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        var value = new UInt128(hi, lo);
        for (var i = 25; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }
        return new string(chars);
    }
}
