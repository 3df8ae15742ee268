using Microsoft.Data.Sqlite;

namespace Runway.Data;

/// <summary>
/// SQLite's claim: one UPDATE … WHERE id IN (SELECT … LIMIT) RETURNING, run inside the store's BEGIN
/// IMMEDIATE transaction. SQLite has a single writer, so no other claimer can run between the select
/// and the update. INDEXED BY pins the partial claim index: without statistics SQLite prefers
/// (state, id) and sorts every queued run on each claim, which a long queue pays for. The literal
/// <c>state = 'queued'</c> (not a parameter) is what lets that partial index apply at all. The executor
/// filter (<see cref="ClaimableExecutors"/>) reads each candidate's row, in the index's order: the index no
/// longer covers the select, but still spares the sort.
/// </summary>
internal static class SqliteClaim
{
    public const string Sql = """
        UPDATE runs SET state = 'running', node = @node, started_at = @now
        WHERE id IN (
            SELECT id FROM runs INDEXED BY ix_runs_claim WHERE state = 'queued'
                AND (@executors IS NULL OR executor IN (SELECT value FROM json_each(@executors)))
                AND (@max_gpus IS NULL OR (CASE WHEN executor = 'local' THEN COALESCE(json_extract(spec_json, '$.resources.gpus'), 0) ELSE 0 END)
                    BETWEEN @min_gpus AND @max_gpus)
            ORDER BY priority DESC, submitted_at, id
            LIMIT @max)
        RETURNING *
        """;

    public static SqliteParameter[] Parameters(string node, int max, DateTimeOffset now, IReadOnlyList<string>? executors = null) =>
    [
        new("@node", node),
        new("@now", UnixMicrosecondsConverter.ToUnixMicroseconds(now)),
        new("@max", max),
        new("@executors", executors is null ? DBNull.Value : System.Text.Json.JsonSerializer.Serialize(executors)),
        new("@min_gpus", (object)0), // not the SqliteType overload, which a literal 0 would pick
        new("@max_gpus", DBNull.Value),
    ];
}
