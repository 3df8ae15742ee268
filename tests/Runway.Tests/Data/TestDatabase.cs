using Microsoft.Data.Sqlite;
using Runway.Data;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Data;

/// <summary>A new, empty database for one test, as the <c>connection</c> setting of <c>AddRunwayData</c>.</summary>
public abstract class TestDatabase : IDisposable
{
    public abstract string Connection { get; }

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("runway-data-").FullName;

    /// <summary>The default setting: empty, so the store picks <c>{data}/runway.db</c>.</summary>
    public static TestDatabase Sqlite() => new SqliteTestDatabase();

    public static TestDatabase Postgres() => new PostgresTestDatabase(Requires.Postgres());

    public void Dispose()
    {
        Drop();
        Directory.Delete(DataDirectory, recursive: true);
        GC.SuppressFinalize(this);
    }

    protected abstract void Drop();

    private sealed class SqliteTestDatabase : TestDatabase
    {
        public override string Connection => "";

        protected override void Drop()
        {
            using var connection = new SqliteConnection(DatabaseConnection.Parse(Connection, DataDirectory).ConnectionString);
            SqliteConnection.ClearPool(connection);
        }
    }

    private sealed class PostgresTestDatabase(string connection) : TestDatabase
    {
        public override string Connection => connection;

        protected override void Drop() => PostgresServer.Shared.DropDatabase(connection);
    }
}
