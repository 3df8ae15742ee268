using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Runway.Data;

/// <summary>
/// Per-connection SQLite settings. synchronous=FULL makes a commit, and so a 201, mean "on disk" even in WAL
/// mode; busy_timeout lets a writer wait for the single write lock instead of failing with SQLITE_BUSY;
/// foreign keys are off by default in SQLite. WAL itself is a property of the file, set once by the
/// migration step.
/// </summary>
/// <remarks>
/// They are settings of the SQLite handle, which the pool keeps between opens: they are run on a handle's
/// first open only. Run on every open, they were three statements parsed and stepped for each query of a
/// short-lived context: a <c>GET /api/v1/runs/{id}</c> (three contexts) prepared nine pragmas for its three
/// selects (issue 10). Code that changes one of them for a while (<see cref="Forget"/>) has them run again
/// on the handle's next open.
/// </remarks>
public sealed class SqlitePragmas : DbConnectionInterceptor
{
    public const string Sql = "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;";

    public static readonly SqlitePragmas Instance = new();

    // The handles that have them (pooled handles live on; a closed one is collected with its entry).
    private static readonly ConditionalWeakTable<SQLitePCL.sqlite3, object> Set = [];
    private static readonly object Done = new();

    /// <summary>The next open of this connection's handle runs the pragmas again (after a pragma was changed on it).</summary>
    public static void Forget(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            Set.Remove(handle);
        }
    }

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!NeedsPragmas(connection))
        {
            return;
        }
        using var command = connection.CreateCommand();
        command.CommandText = Sql;
        command.ExecuteNonQuery();
        Remember(connection);
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!NeedsPragmas(connection))
        {
            return;
        }
        var command = connection.CreateCommand();
        await using (command)
        {
            command.CommandText = Sql;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        Remember(connection);
    }

    private static bool NeedsPragmas(DbConnection connection) =>
        connection is not SqliteConnection { Handle: { } handle } || !Set.TryGetValue(handle, out _);

    private static void Remember(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            Set.AddOrUpdate(handle, Done);
        }
    }
}
