using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Runway.Tests.Fixtures;

/// <summary>
/// The PostgreSQL server for this test run: <c>RUNWAY_TEST_POSTGRES</c> when set, else a private server
/// started once from Debian's binaries (<c>apt-get install postgresql</c>) in a temp dir on a free port and
/// stopped when the test process exits. Each test gets its own database (riverqueue/river's riverdbtest).
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<PostgresServer> Instance = new(Start);

    private PostgresServer(string? adminConnectionString, string? unavailable)
    {
        AdminConnectionString = adminConnectionString;
        Unavailable = unavailable;
    }

    public static PostgresServer Shared => Instance.Value;

    /// <summary>Connects to the maintenance database as a user who may create databases; null when unavailable.</summary>
    public string? AdminConnectionString { get; }

    /// <summary>Why there is no server; null when there is one.</summary>
    public string? Unavailable { get; }

    public string CreateDatabase()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        Execute($"CREATE DATABASE {name}");
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    public void DropDatabase(string connectionString)
    {
        using (var connection = new NpgsqlConnection(connectionString))
        {
            NpgsqlConnection.ClearPool(connection);
        }
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        Execute($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    private void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static PostgresServer Start()
    {
        var given = Environment.GetEnvironmentVariable("RUNWAY_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(given))
        {
            return CanConnect(given, out var error)
                ? new(given, null)
                : new(null, $"RUNWAY_TEST_POSTGRES is set, but connecting failed: {error}");
        }
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        if (bin is null)
        {
            return new(null, "RUNWAY_TEST_POSTGRES is not set and /usr/lib/postgresql/*/bin/initdb is missing (apt-get install postgresql)");
        }
        try
        {
            return new(PrivateCluster.Start(bin, FreePort()), null);
        }
        catch (InvalidOperationException e)
        {
            return new(null, e.Message);
        }
    }

    private static bool CanConnect(string connectionString, out string? error)
    {
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
            error = null;
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or ArgumentException or SocketException)
        {
            error = e.Message;
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
