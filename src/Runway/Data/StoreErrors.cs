using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Runway.Data;

internal static class StoreErrors
{
    private const int SqliteConstraintUnique = 2067;

    /// <summary>True when an insert lost to an existing (owner, idempotency_key): never for a duplicate id.</summary>
    public static bool IsIdempotencyConflict(DbUpdateException e) => IsIdempotencyConflict(e.InnerException);

    /// <summary>The same, for a statement run outside EF Core's SaveChanges (<see cref="RunInserts"/>).</summary>
    public static bool IsIdempotencyConflict(Exception? e) => e switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation && pg.ConstraintName == RunIndexes.IdempotencyKey,
        // SQLite names the columns, not the index: "UNIQUE constraint failed: runs.owner, runs.idempotency_key".
        SqliteException lite => lite.SqliteExtendedErrorCode == SqliteConstraintUnique
            && lite.Message.Contains("runs.idempotency_key", StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>True when a batch lost to an existing (owner, idempotency_key) of the owner's batches.</summary>
    public static bool IsBatchIdempotencyConflict(DbUpdateException e) => e.InnerException switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation && pg.ConstraintName == BatchIndexes.IdempotencyKey,
        SqliteException lite => lite.SqliteExtendedErrorCode == SqliteConstraintUnique
            && lite.Message.Contains("batches.idempotency_key", StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>True when an insert lost to the run another node already made for the same schedule and fire time.</summary>
    public static bool IsScheduleFireConflict(Exception? e) => e switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation && pg.ConstraintName == RunIndexes.ScheduleFire,
        SqliteException lite => lite.SqliteExtendedErrorCode == SqliteConstraintUnique
            && lite.Message.Contains("runs.schedule_id", StringComparison.Ordinal),
        _ => false,
    };
}
