using Npgsql;
using Runway.Data;

namespace Runway.Tests.Data;

public sealed class DatabaseConnectionTests
{
    [Fact]
    public void Parse_PicksSqliteInDataDirectory_WhenEmpty()
    {
        var db = DatabaseConnection.Parse("", "/var/lib/runway");

        Assert.Equal(DatabaseProvider.Sqlite, db.Provider);
        Assert.Equal("sqlite /var/lib/runway/runway.db", db.ToString());
        Assert.Equal("/var/lib/runway", db.SqliteDirectory);
    }

    [Theory]
    [InlineData("/srv/q.db", "/srv/q.db")]
    [InlineData("Data Source=/srv/q.db;Cache=Private", "/srv/q.db")]
    public void Parse_PicksSqlite_WhenPathOrDataSource(string setting, string file)
    {
        var db = DatabaseConnection.Parse(setting, "/var/lib/runway");

        Assert.Equal(DatabaseProvider.Sqlite, db.Provider);
        Assert.Equal($"sqlite {file}", db.ToString());
    }

    [Fact]
    public void Parse_PicksPostgres_WhenKeyValueWithHost()
    {
        var db = DatabaseConnection.Parse("Host=db1;Username=runway;Password=s", "/data");

        Assert.Equal(new DatabaseConnection(DatabaseProvider.Postgres, "Host=db1;Username=runway;Password=s"), db);
        Assert.Null(db.SqliteDirectory);
    }

    [Theory]
    [InlineData("postgres://ana:p%40ss@db.example:5433/runs?sslmode=require")]
    [InlineData("postgresql://ana:p%40ss@db.example:5433/runs?sslmode=require")]
    public void Parse_TranslatesPostgresUri(string uri)
    {
        var db = DatabaseConnection.Parse(uri, "/data");

        Assert.Equal(DatabaseProvider.Postgres, db.Provider);
        var cs = new NpgsqlConnectionStringBuilder(db.ConnectionString);
        Assert.Equal(("db.example", 5433, "runs", "ana", "p@ss", SslMode.Require), (cs.Host, cs.Port, cs.Database, cs.Username, cs.Password, cs.SslMode));
        Assert.DoesNotContain("p@ss", db.ToString(), StringComparison.Ordinal);
    }
}
