namespace Runway.Data;

/// <summary>
/// PostgreSQL's claim: lock up to <c>max</c> queued rows in claim order, skipping rows another node has
/// locked (so concurrent claimers never wait on, or take, each other's runs), then update exactly those.
/// The CTE form keeps the locking select materialized once (riverqueue/river's JobGetAvailable).
/// </summary>
internal static class PostgresClaim
{
    public const string Sql = """
        WITH picked AS (
            SELECT id FROM runs WHERE state = 'queued'
                AND (@executors::text[] IS NULL OR executor = ANY(@executors::text[]))
                AND (@max_gpus::int IS NULL OR (CASE WHEN executor = 'local' THEN COALESCE((spec_json::jsonb #>> '{resources,gpus}')::int, 0) ELSE 0 END)
                    BETWEEN @min_gpus::int AND @max_gpus::int)
            ORDER BY priority DESC, submitted_at, id
            LIMIT @max
            FOR UPDATE SKIP LOCKED)
        UPDATE runs SET state = 'running', node = @node, started_at = @now
        FROM picked WHERE runs.id = picked.id
        RETURNING runs.*
        """;
}
