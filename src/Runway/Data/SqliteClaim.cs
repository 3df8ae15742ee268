using Microsoft.Data.Sqlite;

namespace Runway.Data;

/// <summary>
/// SQLite's claim: one UPDATE … WHERE id IN (SELECT … LIMIT) RETURNING, run inside the store's BEGIN
/// IMMEDIATE transaction. SQLite has a single writer, so no other claimer can run between the select
/// and the update. INDEXED BY pins the partial claim index: without statistics SQLite prefers
/// (state, id) and sorts every queued run on each claim, which a long queue pays for. The literal
/// <c>state = 'queued'</c> (not a parameter) is what lets that partial index apply at all. The executor
/// filter (<see cref="ClaimableExecutors"/>) reads each candidate's row, in the index's order: the index no
/// longer covers the select, but still spares the sort. The drain check is a constant subquery, run once.
/// </summary>
internal static class SqliteClaim
{
    public const string Sql = """
        UPDATE runs SET state = 'running', node = @node, started_at = @now, lease = @lease, lease_expires_at = @expires
        WHERE id IN (
            SELECT id FROM runs INDEXED BY ix_runs_claim WHERE state = 'queued'
                AND (@executors IS NULL OR executor IN (SELECT value FROM json_each(@executors)))
                AND (@max_gpus IS NULL OR (CASE WHEN executor = 'local' THEN COALESCE(json_extract(spec_json, '$.resources.gpus'), 0) ELSE 0 END)
                    BETWEEN @min_gpus AND @max_gpus)
                AND NOT EXISTS (SELECT 1 FROM nodes WHERE name = @node AND draining)
            ORDER BY priority DESC, submitted_at, id
            LIMIT @max)
        RETURNING *
        """;

    /// <summary>As <see cref="PostgresClaim.LimitedSql"/>; SQLite's single writer needs no lock around it. @caps is a JSON object group → cap.</summary>
    public const string LimitedSql = """
        UPDATE runs SET state = 'running', node = @node, started_at = @now, lease = @lease, lease_expires_at = @expires
        WHERE id IN (
            WITH running AS (
                SELECT owner, count(*) AS n FROM runs WHERE state = 'running' GROUP BY owner),
            caps AS (
                SELECT u.username AS owner, max(g.value) AS cap
                FROM users u JOIN json_each(@caps) g ON instr(' ' || u.groups || ' ', ' ' || g.key || ' ') > 0
                GROUP BY u.username),
            candidates AS (
                SELECT q.id, q.priority, q.submitted_at, coalesce(r.n, 0) AS running, coalesce(c.cap, @user_cap) AS cap,
                    row_number() OVER (PARTITION BY q.owner ORDER BY q.priority DESC, q.submitted_at, q.id) AS nth
                FROM runs q INDEXED BY ix_runs_claim LEFT JOIN running r ON r.owner = q.owner LEFT JOIN caps c ON c.owner = q.owner
                WHERE q.state = 'queued'
                    AND (@executors IS NULL OR q.executor IN (SELECT value FROM json_each(@executors)))
                    AND (@max_gpus IS NULL OR (CASE WHEN q.executor = 'local' THEN COALESCE(json_extract(q.spec_json, '$.resources.gpus'), 0) ELSE 0 END)
                        BETWEEN @min_gpus AND @max_gpus)
                    AND NOT EXISTS (SELECT 1 FROM nodes WHERE name = @node AND draining))
            SELECT id FROM candidates WHERE cap IS NULL OR running + nth <= cap
            ORDER BY priority DESC, submitted_at, id
            LIMIT @max)
        RETURNING *
        """;

    /// <summary>As <see cref="PostgresClaim.RescueSql"/>; RETURNING cannot see the old row, so the previous node is read in the SET's subquery first.</summary>
    public const string RescueSql = """
        WITH picked AS (
            SELECT id, node FROM runs WHERE state = 'running' AND lease_expires_at < @now
                AND (@executors IS NULL OR executor IN (SELECT value FROM json_each(@executors)))
            ORDER BY lease_expires_at
            LIMIT @max)
        SELECT id, node FROM picked
        """;

    public static SqliteParameter[] Parameters(string node, int max, DateTimeOffset now, IReadOnlyList<string>? executors = null) =>
    [
        new("@node", node),
        new("@now", UnixMicrosecondsConverter.ToUnixMicroseconds(now)),
        new("@max", max),
        new("@executors", executors is null ? DBNull.Value : System.Text.Json.JsonSerializer.Serialize(executors)),
        new("@min_gpus", (object)0), // not the SqliteType overload, which a literal 0 would pick
        new("@max_gpus", DBNull.Value),
        new("@lease", DBNull.Value),
        new("@expires", DBNull.Value),
    ];
}
