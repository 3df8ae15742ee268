using System.CommandLine;
using Microsoft.Data.Sqlite;
using Runway.Auth;
using Runway.Data;
using Runway.Logging;

namespace Runway.Cli;

/// <summary>
/// The server's own database, opened directly by the verbs an operator runs on the server machine
/// (<c>runway users</c>, <c>runway clients</c>): same settings as <c>runway serve</c> (appsettings.json,
/// RUNWAY_* variables, <c>--data-dir</c>/<c>--database</c>), so they work while the web side is locked out.
/// </summary>
internal sealed class LocalServer
{
    public Option<string?> DataDir { get; } = new("--data-dir") { Description = "The server's data directory [env: RUNWAY_DATA_DIR]", HelpName = "dir" };

    public Option<string?> Database { get; } = new("--database") { Description = "The server's database, when not SQLite in the data directory [env: RUNWAY_DATABASE]", HelpName = "connection" };

    public void AddTo(Command command)
    {
        command.Options.Add(DataDir);
        command.Options.Add(Database);
    }

    /// <summary>The account services over the server's database, migrated to this version's schema.</summary>
    public async Task<ServiceProvider> OpenAsync(ParseResult parse, CancellationToken ct)
    {
        var flags = new List<string>();
        if (parse.GetValue(DataDir) is { Length: > 0 } dataDir)
        {
            flags.AddRange(["--data-dir", dataDir]);
        }
        if (parse.GetValue(Database) is { Length: > 0 } database)
        {
            flags.AddRange(["--database", database]);
        }
        var configuration = new ConfigurationManager();
        configuration.AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true);
        configuration.AddEnvironmentVariables();
        configuration.AddRunwaySettings([.. flags]);
        var options = configuration.GetSection(RunwayOptions.Section).Get<RunwayOptions>() ?? new RunwayOptions();
        // Migrating would create an empty database wherever the verb happened to run, and the user added
        // there would never reach the server: refuse, and say where it looked.
        var connection = DatabaseConnection.Parse(options.Database, options.DataDir);
        if (connection.Provider == DatabaseProvider.Sqlite
            && new SqliteConnectionStringBuilder(connection.ConnectionString).DataSource is { Length: > 0 } file and not ":memory:"
            && !File.Exists(file))
        {
            throw new FileNotFoundException(
                $"no Runway database at {file}; run this on the server machine with the --data-dir or --database that `runway serve` uses (or RUNWAY_DATA_DIR, RUNWAY_DATABASE)", file);
        }
        var services = new ServiceCollection()
            .AddRunwayData(options.Database, options.DataDir)
            .AddRunwayAccounts(configuration)
            .BuildServiceProvider();
        await services.MigrateRunwayDatabaseAsync(ct);
        return services;
    }

    /// <summary>Who the audit trail names for an operator at the server's console.</summary>
    public static string Actor => $"cli:{Environment.UserName}";

    /// <summary>
    /// Stores the entry, then sends it to syslog when the operator configured that (Runway:Audit:Syslog): the
    /// verb's process exits next and runs no background loop that would.
    /// </summary>
    public static async Task AuditAsync(IServiceProvider services, string action, string target, CancellationToken ct)
    {
        await services.GetRequiredService<AuditTrail>().RecordAsync(Actor, action, target, "local", ct);
        await services.GetRequiredService<AuditSyslog>().SendQueuedAsync(SyslogTimeout);
    }

    private static readonly TimeSpan SyslogTimeout = TimeSpan.FromSeconds(5);
}
