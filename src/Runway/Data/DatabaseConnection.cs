using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace Runway.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Which database the <c>--database</c> setting names, and how to open it.</summary>
public sealed record DatabaseConnection(DatabaseProvider Provider, string ConnectionString)
{
    /// <summary>
    /// Empty: SQLite at <c>{dataDirectory}/runway.db</c>. <c>Host=…</c> or a <c>postgres://</c> /
    /// <c>postgresql://</c> URI: PostgreSQL. Anything else: a SQLite file path or <c>Data Source=…</c> string.
    /// </summary>
    public static DatabaseConnection Parse(string? connection, string dataDirectory)
    {
        if (string.IsNullOrWhiteSpace(connection))
        {
            return Sqlite(Path.Combine(Path.GetFullPath(dataDirectory), "runway.db"));
        }
        connection = connection.Trim();
        if (connection.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || connection.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return new(DatabaseProvider.Postgres, PostgresUri.ToConnectionString(connection));
        }
        if (connection.Contains("Host=", StringComparison.OrdinalIgnoreCase))
        {
            return new(DatabaseProvider.Postgres, connection);
        }
        if (connection.Contains('='))
        {
            var builder = new SqliteConnectionStringBuilder(connection);
            return Sqlite(builder.DataSource, builder);
        }
        return Sqlite(Path.GetFullPath(connection));
    }

    public void Configure(DbContextOptionsBuilder options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Provider == DatabaseProvider.Sqlite)
        {
            options.UseSqlite(ConnectionString).AddInterceptors(SqlitePragmas.Instance).UseModel(CompiledModels.Sqlite.RunwayDbModel.Instance);
        }
        else
        {
            options.UseNpgsql(ConnectionString).UseModel(CompiledModels.Postgres.RunwayDbModel.Instance);
        }
        options.ReplaceService<IMigrationsAssembly, ProviderMigrationsAssembly>();
        // One Information line per SQL statement would drown the store's one line per state change.
        // EF Core logs a failed statement or SaveChanges at Error, with its SQL, before the caller sees the
        // exception; only the caller knows whether it is one. A handled one (an idempotency race, a unique
        // key) is no error; an unhandled one is logged with its stack by whoever catches it last (the
        // exception handler, a loop's catch), so nothing is lost by keeping EF's own line at Debug.
        options.ConfigureWarnings(w => w.Log(
            (RelationalEventId.CommandExecuted, LogLevel.Debug),
            (RelationalEventId.CommandError, LogLevel.Debug),
            (CoreEventId.SaveChangesFailed, LogLevel.Debug)));
    }

    /// <summary>The SQLite file's folder, which must exist before the first open; null for PostgreSQL or :memory:.</summary>
    public string? SqliteDirectory
    {
        get
        {
            if (Provider != DatabaseProvider.Sqlite)
            {
                return null;
            }
            var source = new SqliteConnectionStringBuilder(ConnectionString).DataSource;
            return source is "" or ":memory:" ? null : Path.GetDirectoryName(Path.GetFullPath(source));
        }
    }

    public override string ToString() => Provider == DatabaseProvider.Sqlite
        ? $"sqlite {new SqliteConnectionStringBuilder(ConnectionString).DataSource}"
        : $"postgres {RedactedPostgres()}";

    private string RedactedPostgres()
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }

    private static DatabaseConnection Sqlite(string path, SqliteConnectionStringBuilder? from = null)
    {
        var builder = from ?? new SqliteConnectionStringBuilder();
        builder.DataSource = path;
        // Pooled handles keep their pragmas and page cache between short-lived contexts.
        builder.Pooling = true;
        return new(DatabaseProvider.Sqlite, builder.ToString());
    }
}
