namespace Runway.Data;

/// <summary>
/// PostgreSQL's claim: lock up to <c>max</c> queued rows in claim order, skipping rows another node has
/// locked (so concurrent claimers never wait on, or take, each other's runs), then update exactly those.
/// The CTE form keeps the locking select materialized once (riverqueue/river's JobGetAvailable). A draining
/// node (nodes.draining) claims nothing; each claimed run carries the claimer's lease (<see cref="NodeLease"/>).
/// </summary>
internal static class PostgresClaim
{
    public const string Sql = """
        WITH picked AS (
            SELECT id FROM runs WHERE state = 'queued'
                AND (@executors::text[] IS NULL OR executor = ANY(@executors::text[]))
                AND (@max_gpus::int IS NULL OR (CASE WHEN executor = 'local' THEN COALESCE((spec_json::jsonb #>> '{resources,gpus}')::int, 0) ELSE 0 END)
                    BETWEEN @min_gpus::int AND @max_gpus::int)
                AND NOT EXISTS (SELECT 1 FROM nodes WHERE name = @node AND draining)
            ORDER BY priority DESC, submitted_at, id
            LIMIT @max
            FOR UPDATE SKIP LOCKED)
        UPDATE runs SET state = 'running', node = @node, started_at = @now, lease = @lease, lease_expires_at = @expires
        FROM picked WHERE runs.id = picked.id
        RETURNING runs.*
        """;

    /// <summary>
    /// The claim under per-user limits (<see cref="UserRunLimits"/>): an owner's queued runs are numbered in claim
    /// order, and only those that fit beside the owner's running runs under the owner's cap are candidates. The
    /// counts are only right if no other claim commits between this statement's snapshot and its commit, so the
    /// store takes <see cref="LimitLock"/> first: limited claims queue for a moment instead of overrunning a cap.
    /// </summary>
    public const string LimitedSql = """
        WITH running AS (
            SELECT owner, count(*) AS n FROM runs WHERE state = 'running' GROUP BY owner),
        caps AS (
            SELECT u.username AS owner, max(g.cap) AS cap
            FROM users u JOIN unnest(@group_names::text[], @group_caps::int[]) AS g(name, cap)
                ON g.name = ANY(string_to_array(u.groups, ' '))
            GROUP BY u.username),
        candidates AS (
            SELECT q.id, q.priority, q.submitted_at, coalesce(r.n, 0) AS running, coalesce(c.cap, @user_cap::int) AS cap,
                row_number() OVER (PARTITION BY q.owner ORDER BY q.priority DESC, q.submitted_at, q.id) AS nth
            FROM runs q LEFT JOIN running r ON r.owner = q.owner LEFT JOIN caps c ON c.owner = q.owner
            WHERE q.state = 'queued'
                AND (@executors::text[] IS NULL OR q.executor = ANY(@executors::text[]))
                AND (@max_gpus::int IS NULL OR (CASE WHEN q.executor = 'local' THEN COALESCE((q.spec_json::jsonb #>> '{resources,gpus}')::int, 0) ELSE 0 END)
                    BETWEEN @min_gpus::int AND @max_gpus::int)
                AND NOT EXISTS (SELECT 1 FROM nodes WHERE name = @node AND draining)),
        picked AS (
            SELECT id FROM runs WHERE state = 'queued' AND id IN (
                SELECT id FROM candidates WHERE cap IS NULL OR running + nth <= cap
                ORDER BY priority DESC, submitted_at, id
                LIMIT @max)
            FOR UPDATE SKIP LOCKED)
        UPDATE runs SET state = 'running', node = @node, started_at = @now, lease = @lease, lease_expires_at = @expires
        FROM picked WHERE runs.id = picked.id
        RETURNING runs.*
        """;

    /// <summary>Serializes limited claims across nodes until their transaction ends (a constant key: "runway claim").</summary>
    public const string LimitLock = "SELECT pg_advisory_xact_lock(7217306535214220333)";

    /// <summary>
    /// Takes over running runs whose lease expired (their node is lost, or never learnt of the claim): each moves
    /// to this node's lease, and the node it was on comes back as previous_node.
    /// </summary>
    public const string RescueSql = """
        WITH picked AS (
            SELECT id, node FROM runs WHERE state = 'running' AND lease_expires_at < @now
                AND (@executors::text[] IS NULL OR executor = ANY(@executors::text[]))
            ORDER BY lease_expires_at
            LIMIT @max
            FOR UPDATE SKIP LOCKED)
        UPDATE runs SET node = @node, lease = @lease, lease_expires_at = @expires
        FROM picked WHERE runs.id = picked.id
        RETURNING runs.*, picked.node AS previous_node
        """;
}
