using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Runs;

namespace Runway.Api;

/// <summary>How accounting groups finished runs (<c>?group_by=</c>).</summary>
public enum UsageGrouping
{
    User,
    Pipeline,
    Group,
    Node,
    Day,
}

/// <summary>The finished runs of one group in a time range: counts by final state, wall and CPU hours, peak memory percentiles.</summary>
public sealed record UsageRow(
    string? Key, long Runs, IReadOnlyDictionary<string, long> RunsByState, double WallHours, double CpuHours,
    long? PeakMemoryP50Bytes, long? PeakMemoryP95Bytes, long? PeakMemoryMaxBytes);

/// <summary>
/// Accounting over the runs table in ONE command per request (one statement, and on SQLite by day the days' table
/// filled first), read from a covering index (ix_runs_usage, or
/// ix_runs_owner_usage for one owner): runs that finished in [from, to), grouped, counted by final state, their
/// wall and CPU seconds summed, and their peak memory's p50, p95 (nearest rank: the smallest value with at least
/// that share of runs at or below it) and max. One pass over the index and one grouping, no window: PostgreSQL
/// takes the percentiles with its ordered-set aggregate (percentile_disc is the nearest rank); SQLite, which has
/// none, with an aggregate of this class registered on the connection (it keeps each group's peaks, 8 bytes a
/// run, and sorts them once). A window over every row (ROW_NUMBER per group) took 5.8 s for a million runs on
/// SQLite; this takes about a quarter of that (the README's performance table has the measured figure).
/// SQLite groups only by sorting, and sorting a million rows cost about 0.25 s of a 0.6 s statement, so its two
/// groupings that an index can hand over already in order do not sort: by user, the owner index is read one owner
/// at a time (the owners found by a loose index scan, a seek each); by day, a temporary table of the days that hold
/// a finished run (found the same way), in its rowid order, drives a range read per day. PostgreSQL by day does the
/// same in one statement (a recursive scan of the days, a lateral aggregate per day). The other groupings sort or
/// hash, except PostgreSQL by user, which reads the owner index in order.
/// Days are whole UTC days: SQLite groups by the integer day number of its microsecond times, which is far cheaper
/// than formatting a date per row, and the key is formatted here. A run whose owner is in several groups counts
/// in each (group_by=group); one in none is left out there.
/// </summary>
public sealed class UsageQuery(IDbContextFactory<RunwayDb> databases)
{
    private static readonly RunState[] Finals = [.. Enum.GetValues<RunState>().Where(s => s.IsFinal())];
    private const string Percentiles = "runway_peak_percentiles";
    private const long MicrosecondsPerDay = 86_400_000_000;

    public async Task<IReadOnlyList<UsageRow>> RunAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping by, string? owner, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var sqlite = db.Database.IsSqlite();
        await db.Database.OpenConnectionAsync(ct);
        var connection = db.Database.GetDbConnection();
        if (connection is SqliteConnection lite)
        {
            lite.CreateAggregate<long, List<long>?, string?>(Percentiles, null, Collect, NearestRanks, isDeterministic: true);
        }
        // Deferred: the days' table and the statement read one snapshot, and no write lock is taken on the database.
        await using var snapshot = connection is SqliteConnection reads && by == UsageGrouping.Day ? reads.BeginTransaction(deferred: true) : null;
        await using var command = connection.CreateCommand();
        command.Transaction = snapshot;
        command.CommandText = Sql(by, sqlite, owner is not null);
        Add(command, "@from", SqlTime.Of(from, sqlite));
        Add(command, "@to", SqlTime.Of(to, sqlite));
        if (owner is not null)
        {
            Add(command, "@owner", owner);
        }
        var rows = new List<UsageRow>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            long? Long(int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);
            double Hours(int i) => reader.IsDBNull(i) ? 0 : Math.Round(reader.GetDouble(i) / 3600, 6);
            var byState = new Dictionary<string, long>(StringComparer.Ordinal);
            for (var s = 0; s < Finals.Length; s++)
            {
                byState[Finals[s].ToWire()] = Long(2 + s) ?? 0;
            }
            var at = 2 + Finals.Length;
            var (p50, p95) = sqlite ? Parse(reader.IsDBNull(at + 3) ? null : reader.GetString(at + 3)) : (Long(at + 3), Long(at + 4));
            rows.Add(new UsageRow(Key(reader, by, sqlite), reader.GetInt64(1), byState, Hours(at), Hours(at + 1), p50, p95, Long(at + 2)));
        }
        return rows;
    }

    private static string? Key(DbDataReader reader, UsageGrouping by, bool sqlite) =>
        reader.IsDBNull(0) ? null
        : by == UsageGrouping.Day && sqlite
            ? DateTimeOffset.UnixEpoch.AddDays(reader.GetInt64(0)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : reader.GetString(0);

    /// <summary>The statement: every piece is a constant of this class; the values are parameters.</summary>
    internal static string Sql(UsageGrouping by, bool sqlite, bool oneOwner)
    {
        var index = oneOwner || (sqlite && by == UsageGrouping.User) ? RunIndexes.OwnerUsage : RunIndexes.Usage;
        var key = by switch
        {
            UsageGrouping.User => "r.owner",
            UsageGrouping.Pipeline => "r.pipeline",
            UsageGrouping.Node => "r.node",
            UsageGrouping.Group => "g.name",
            _ => "d.day", // the days' table (SQLite; PostgreSQL by day is its own statement, below)
        };
        // Group names are checked at entry (letters, digits, . - _ @: Accounts.GroupsProblem), so a JSON array
        // made by joining them with "," is well formed.
        var groups = by != UsageGrouping.Group ? ""
            : sqlite ? " JOIN users u ON u.username = r.owner JOIN (SELECT j.value AS name, uu.username FROM users uu, json_each('[\"' || replace(uu.groups, ' ', '\",\"') || '\"]') j WHERE j.value <> '') g ON g.username = u.username"
            : " JOIN users u ON u.username = r.owner CROSS JOIN LATERAL unnest(string_to_array(u.groups, ' ')) AS g(name)";
        // CROSS JOIN: SQLite keeps the days' table as the outer loop, so the rows arrive grouped by day.
        var from = !sqlite ? "runs r"
            : by == UsageGrouping.Day ? $"temp.{Days} d CROSS JOIN runs r INDEXED BY {index}"
            : $"runs r INDEXED BY {index}";
        var owner = oneOwner ? " AND r.owner = @owner"
            : sqlite && by == UsageGrouping.User ? " AND r.owner IN (SELECT name FROM owners WHERE name IS NOT NULL)"
            : "";
        // By day on SQLite, one range per day: with the range's bounds as further terms, SQLite may take @from as the
        // lower bound and read from there to each day's end (2 s instead of 0.3 s for a million runs in 12 days).
        var range = sqlite && by == UsageGrouping.Day
            ? $"r.finished_at >= MAX(@from, d.day * {MicrosecondsPerDay}) AND r.finished_at < MIN(@to, (d.day + 1) * {MicrosecondsPerDay})"
            : "r.finished_at >= @from AND r.finished_at < @to";
        var states = string.Concat(Finals.Select(s => $", SUM(CASE WHEN r.state = '{s.ToWire()}' THEN 1 ELSE 0 END)"));
        // FILTER: the aggregate never sees a null, so its argument is a plain long (about a fifth less CPU per million runs
        // than a nullable one, measured on this machine: 0.55 against 0.64–0.78 s for the whole statement).
        var percentiles = sqlite ? $"{Percentiles}(r.peak_memory_bytes) FILTER (WHERE r.peak_memory_bytes IS NOT NULL)"
            : "percentile_disc(0.5) WITHIN GROUP (ORDER BY r.peak_memory_bytes), percentile_disc(0.95) WITHIN GROUP (ORDER BY r.peak_memory_bytes)";
        if (!sqlite && by == UsageGrouping.Day)
        {
            // PostgreSQL by day: the same loose scan of the days, and one aggregate per day over its range of
            // ix_runs_usage (or the owner's index), so no run is sorted by day first (0.66–0.83 s against 0.27–0.32 s
            // for a million runs in psql on this machine). Each day's key is formatted once, not once per run.
            const string Next = "date_trunc('day', (SELECT MIN(finished_at) FROM runs WHERE finished_at IS NOT NULL AND finished_at >= {0} AND finished_at < @to{1}) AT TIME ZONE 'UTC')";
            var mine = oneOwner ? " AND owner = @owner" : "";
            return $"""
                WITH RECURSIVE days(day) AS (
                    SELECT {string.Format(CultureInfo.InvariantCulture, Next, "@from", mine)}
                    UNION ALL SELECT {string.Format(CultureInfo.InvariantCulture, Next, "(days.day + interval '1 day') AT TIME ZONE 'UTC'", mine)} FROM days WHERE days.day IS NOT NULL)
                SELECT to_char(d.day, 'YYYY-MM-DD') AS k, a.* FROM days d CROSS JOIN LATERAL (
                    SELECT COUNT(*){states}, SUM(r.wall_seconds), SUM(r.cpu_seconds), MAX(r.peak_memory_bytes), {percentiles}
                    FROM runs r
                    WHERE r.finished_at IS NOT NULL AND r.finished_at >= GREATEST(@from, d.day AT TIME ZONE 'UTC') AND r.finished_at < LEAST(@to, (d.day + interval '1 day') AT TIME ZONE 'UTC'){owner}) a
                WHERE d.day IS NOT NULL ORDER BY 1
                """;
        }
        return $"""
            {Prelude(by, sqlite)}SELECT {key} AS k, COUNT(*){states}, SUM(r.wall_seconds), SUM(r.cpu_seconds), MAX(r.peak_memory_bytes), {percentiles}
            FROM {from}{groups}
            WHERE r.finished_at IS NOT NULL AND {range}{owner}
            GROUP BY 1 ORDER BY 1
            """;
    }

    private const string Days = "runway_usage_days";

    /// <summary>
    /// What SQLite's ordered groupings read first: the owners of any run (each the next one after the last, one seek of
    /// an owner-first index), or the days with a finished run in the range (each the day of the first run finished
    /// after the last one, a seek of ix_runs_usage) into the connection's temporary table, emptied first.
    /// </summary>
    private static string Prelude(UsageGrouping by, bool sqlite) => !sqlite ? ""
        : by == UsageGrouping.User ? """
            WITH RECURSIVE owners(name) AS (
                SELECT MIN(owner) FROM runs
                UNION ALL SELECT (SELECT MIN(o.owner) FROM runs o WHERE o.owner > owners.name) FROM owners WHERE owners.name IS NOT NULL)

            """
        : by == UsageGrouping.Day ? $"""
            CREATE TEMP TABLE IF NOT EXISTS {Days}(day INTEGER PRIMARY KEY);
            DELETE FROM temp.{Days};
            INSERT INTO temp.{Days}(day)
            WITH RECURSIVE days(day) AS (
                SELECT (SELECT MIN(finished_at) FROM runs INDEXED BY {RunIndexes.Usage} WHERE finished_at >= @from AND finished_at < @to) / {MicrosecondsPerDay}
                UNION ALL SELECT (SELECT MIN(finished_at) FROM runs INDEXED BY {RunIndexes.Usage} WHERE finished_at >= (days.day + 1) * {MicrosecondsPerDay} AND finished_at < @to) / {MicrosecondsPerDay}
                FROM days WHERE days.day IS NOT NULL)
            SELECT day FROM days WHERE day IS NOT NULL;

            """
        : "";

    /// <summary>SQLite's step, for each non-null peak: a group's first makes its list (a null seed, so groups share nothing).</summary>
    private static List<long> Collect(List<long>? peaks, long peak)
    {
        (peaks ??= []).Add(peak);
        return peaks;
    }

    /// <summary>SQLite's final step: "p50 p95" by nearest rank, or null when the group had no peak.</summary>
    private static string? NearestRanks(List<long>? peaks)
    {
        if (peaks is null)
        {
            return null;
        }
        peaks.Sort();
        long Rank(int percent) => peaks[((peaks.Count * percent) + 99) / 100 - 1];
        return string.Create(CultureInfo.InvariantCulture, $"{Rank(50)} {Rank(95)}");
    }

    private static (long?, long?) Parse(string? ranks)
    {
        if (ranks is null)
        {
            return (null, null);
        }
        var space = ranks.IndexOf(' ', StringComparison.Ordinal);
        return (long.Parse(ranks.AsSpan(0, space), CultureInfo.InvariantCulture), long.Parse(ranks.AsSpan(space + 1), CultureInfo.InvariantCulture));
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
