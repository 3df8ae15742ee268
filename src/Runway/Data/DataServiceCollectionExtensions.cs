using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Runway.Runs;

namespace Runway.Data;

public static class DataServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RunwayDb"/> (scoped, for handlers and pages), a pooled
    /// <see cref="IDbContextFactory{RunwayDb}"/> (for singletons and background loops), and <see cref="IRunStore"/>.
    /// </summary>
    public static IServiceCollection AddRunwayData(this IServiceCollection services, string? connection, string dataDirectory)
    {
        var database = DatabaseConnection.Parse(connection, dataDirectory);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(database);
        services.AddPooledDbContextFactory<RunwayDb>(database.Configure);
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<RunwayDb>>().CreateDbContext());
        services.AddSingleton<RunStore>();
        services.AddSingleton<IRunStore>(sp => sp.GetRequiredService<RunStore>());
        return services;
    }

    /// <summary>Creates or upgrades the schema; run once at startup, before anything else touches the database.</summary>
    public static async Task MigrateRunwayDatabaseAsync(this IServiceProvider services, CancellationToken ct)
    {
        var database = services.GetRequiredService<DatabaseConnection>();
        if (database.SqliteDirectory is { } directory)
        {
            Directory.CreateDirectory(directory);
        }
        await using var db = await services.GetRequiredService<IDbContextFactory<RunwayDb>>().CreateDbContextAsync(ct);
        if (database.Provider == DatabaseProvider.Sqlite)
        {
            // Persistent in the file: readers never block the writer, and commits append instead of rewriting pages.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;", ct);
        }
        await db.Database.MigrateAsync(ct);
    }
}
