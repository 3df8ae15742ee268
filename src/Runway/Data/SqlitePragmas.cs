using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Runway.Data;

/// <summary>
/// Per-connection SQLite settings, run on every open (cheap: in-process, and pooled handles keep them).
/// synchronous=FULL makes a commit, and so a 201, mean "on disk" even in WAL mode; busy_timeout lets a
/// writer wait for the single write lock instead of failing with SQLITE_BUSY; foreign keys are off by
/// default in SQLite. WAL itself is a property of the file, set once by the migration step.
/// </summary>
public sealed class SqlitePragmas : DbConnectionInterceptor
{
    public const string Sql = "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;";

    public static readonly SqlitePragmas Instance = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = Sql;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var command = connection.CreateCommand();
        await using (command)
        {
            command.CommandText = Sql;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
