using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Runway.Runs;

namespace Runway.Data;

/// <summary>Stores a <see cref="RunState"/> as its wire string, so SQL, logs and JSON all read "timed_out".</summary>
public sealed class RunStateConverter() : ValueConverter<RunState, string>(s => s.ToWire(), s => Parse(s))
{
    public static RunState Parse(string text) =>
        RunStates.TryParse(text, out var state) ? state : throw new FormatException($"Unknown run state '{text}'.");
}

public sealed class UnixMicrosecondsConverter() : ValueConverter<DateTimeOffset, long>(
    v => ToUnixMicroseconds(v), v => FromUnixMicroseconds(v))
{
    private const long UnixEpochTicks = 621_355_968_000_000_000;

    public static long ToUnixMicroseconds(DateTimeOffset value) => (value.UtcTicks - UnixEpochTicks) / 10;

    public static DateTimeOffset FromUnixMicroseconds(long value) => new(UnixEpochTicks + (value * 10), TimeSpan.Zero);
}

public sealed class UtcConverter() : ValueConverter<DateTimeOffset, DateTimeOffset>(v => v.ToUniversalTime(), v => v);

/// <summary>
/// A timestamp as a parameter of hand-written SQL, converted as the model converts it: unix microseconds
/// on SQLite, UTC on PostgreSQL (timestamptz refuses an offset).
/// </summary>
internal static class SqlTime
{
    public static object Of(DateTimeOffset at, bool sqlite) =>
        sqlite ? UnixMicrosecondsConverter.ToUnixMicroseconds(at) : at.ToUniversalTime();
}
