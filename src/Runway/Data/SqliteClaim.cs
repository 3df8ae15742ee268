using Microsoft.EntityFrameworkCore;
using Runway.Runs;

namespace Runway.Data;

/// <summary>
/// SQLite's claim: one UPDATE … WHERE id IN (SELECT … LIMIT) RETURNING, run inside the store's BEGIN
/// IMMEDIATE transaction. SQLite has a single writer, so no other claimer can run between the select
/// and the update. The literal <c>state = 'queued'</c> (not a parameter) lets the planner use the
/// partial claim index, which carries the same literal.
/// </summary>
internal static class SqliteClaim
{
    public static IQueryable<Run> Claim(RunwayDb db, string node, int max, DateTimeOffset now) =>
        db.Runs.FromSql($"""
            UPDATE runs SET state = 'running', node = {node}, started_at = {UnixMicrosecondsConverter.ToUnixMicroseconds(now)}
            WHERE id IN (
                SELECT id FROM runs WHERE state = 'queued'
                ORDER BY priority DESC, submitted_at, id
                LIMIT {max})
            RETURNING *
            """);
}
