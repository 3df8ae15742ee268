using System.Data.Common;
using System.Globalization;
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
/// Accounting over the runs table in ONE statement per request, read from a covering index (ix_runs_usage, or
/// ix_runs_owner_usage for one owner): runs that finished in [from, to), grouped, counted by final state, their
/// wall and CPU seconds summed, and their peak memory's p50, p95 (nearest rank: the smallest value with at least
/// that share of runs at or below it) and max. The percentiles come from a window over the rows inside the
/// database (ROW_NUMBER per group, on SQLite and PostgreSQL alike): no row is carried to this process, though
/// the database sorts each group's peaks. A run whose owner is in several groups counts in each (group_by=group);
/// one in none is left out there.
/// </summary>
public sealed class UsageQuery(IDbContextFactory<RunwayDb> databases)
{
    private static readonly RunState[] Finals = [.. Enum.GetValues<RunState>().Where(s => s.IsFinal())];

    public async Task<IReadOnlyList<UsageRow>> RunAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping by, string? owner, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var sqlite = db.Database.IsSqlite();
        await db.Database.OpenConnectionAsync(ct);
        await using var command = db.Database.GetDbConnection().CreateCommand();
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
            rows.Add(new UsageRow(reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetInt64(1), byState,
                Hours(at), Hours(at + 1), Long(at + 3), Long(at + 4), Long(at + 2)));
        }
        return rows;
    }

    /// <summary>The statement: every piece is a constant of this class; the values are parameters.</summary>
    internal static string Sql(UsageGrouping by, bool sqlite, bool oneOwner)
    {
        var index = oneOwner ? RunIndexes.OwnerUsage : RunIndexes.Usage;
        var key = by switch
        {
            UsageGrouping.User => "r.owner",
            UsageGrouping.Pipeline => "r.pipeline",
            UsageGrouping.Node => "r.node",
            UsageGrouping.Group => "g.name",
            _ => sqlite ? "strftime('%Y-%m-%d', r.finished_at / 1000000, 'unixepoch')" : "to_char(r.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        };
        // Group names are checked at entry (letters, digits, . - _ @: Accounts.GroupsProblem), so a JSON array
        // made by joining them with "," is well formed.
        var groups = by != UsageGrouping.Group ? ""
            : sqlite ? " JOIN users u ON u.username = r.owner JOIN (SELECT j.value AS name, uu.username FROM users uu, json_each('[\"' || replace(uu.groups, ' ', '\",\"') || '\"]') j WHERE j.value <> '') g ON g.username = u.username"
            : " JOIN users u ON u.username = r.owner CROSS JOIN LATERAL unnest(string_to_array(u.groups, ' ')) AS g(name)";
        var from = sqlite ? $"runs r INDEXED BY {index}" : "runs r";
        var owner = oneOwner ? " AND r.owner = @owner" : "";
        var states = string.Concat(Finals.Select(s => $", SUM(CASE WHEN state = '{s.ToWire()}' THEN 1 ELSE 0 END)"));
        return $"""
            WITH f AS (
                SELECT {key} AS k, r.state, r.wall_seconds, r.cpu_seconds, r.peak_memory_bytes
                FROM {from}{groups}
                WHERE r.finished_at IS NOT NULL AND r.finished_at >= @from AND r.finished_at < @to{owner}
            ),
            totals AS (
                SELECT k, COUNT(*) AS runs{states}, SUM(wall_seconds) AS wall, SUM(cpu_seconds) AS cpu, MAX(peak_memory_bytes) AS peak_max
                FROM f GROUP BY k
            ),
            ranked AS (
                SELECT k, peak_memory_bytes AS p,
                    ROW_NUMBER() OVER (PARTITION BY k ORDER BY peak_memory_bytes) AS n, COUNT(*) OVER (PARTITION BY k) AS c
                FROM f WHERE peak_memory_bytes IS NOT NULL
            ),
            pct AS (
                SELECT k, MAX(CASE WHEN n = (c * 50 + 99) / 100 THEN p END) AS p50, MAX(CASE WHEN n = (c * 95 + 99) / 100 THEN p END) AS p95
                FROM ranked WHERE n = (c * 50 + 99) / 100 OR n = (c * 95 + 99) / 100 GROUP BY k
            )
            SELECT totals.*, pct.p50, pct.p95 FROM totals LEFT JOIN pct ON pct.k = totals.k OR (pct.k IS NULL AND totals.k IS NULL)
            ORDER BY totals.k
            """;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
