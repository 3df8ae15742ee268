using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;

namespace Runway.Data;

/// <summary>
/// Shows EF only the migrations of the active provider: <c>Runway.Data.Migrations.Sqlite</c> or
/// <c>….Postgres</c>. Why this seam: EF's documented options for two providers are two context types or
/// two migration assemblies. Two context types would make the API inject a provider-specific subclass
/// (or resolve <see cref="RunwayDb"/> through one), and two assemblies would mean two more projects;
/// filtering one assembly by namespace keeps <see cref="RunwayDb"/> the one sealed type everyone uses.
/// Migrations are hand-written (the feed lacks EF Design), so there is no model snapshot; EF logs that
/// and skips its pending-model-changes check.
/// </summary>
public sealed class ProviderMigrationsAssembly(IDatabaseProvider provider) : IMigrationsAssembly
{
    private IReadOnlyDictionary<string, TypeInfo>? _migrations;

    public Assembly Assembly => typeof(RunwayDb).Assembly;

    public ModelSnapshot? ModelSnapshot => null;

    public IReadOnlyDictionary<string, TypeInfo> Migrations => _migrations ??= Find(NamespaceFor(provider.Name));

    public string? FindMigrationId(string nameOrId) =>
        Migrations.Keys.FirstOrDefault(id =>
            string.Equals(id, nameOrId, StringComparison.OrdinalIgnoreCase)
            || string.Equals(id[(id.IndexOf('_', StringComparison.Ordinal) + 1)..], nameOrId, StringComparison.OrdinalIgnoreCase));

    public Migration CreateMigration(TypeInfo migrationClass, string activeProvider)
    {
        ArgumentNullException.ThrowIfNull(migrationClass);
        var migration = (Migration)Activator.CreateInstance(migrationClass.AsType())!;
        migration.ActiveProvider = activeProvider;
        return migration;
    }

    private static string NamespaceFor(string providerName) => providerName switch
    {
        "Microsoft.EntityFrameworkCore.Sqlite" => "Runway.Data.Migrations.Sqlite",
        "Npgsql.EntityFrameworkCore.PostgreSQL" => "Runway.Data.Migrations.Postgres",
        _ => throw new NotSupportedException($"No Runway migrations for provider {providerName}."),
    };

    private Dictionary<string, TypeInfo> Find(string ns) =>
        Assembly.DefinedTypes
            .Where(t => t.Namespace == ns && t.IsSubclassOf(typeof(Migration))
                && t.GetCustomAttribute<DbContextAttribute>()?.ContextType == typeof(RunwayDb))
            .Select(t => (Id: t.GetCustomAttribute<MigrationAttribute>()?.Id, Type: t))
            .Where(m => m.Id is not null)
            .OrderBy(m => m.Id, StringComparer.Ordinal)
            .ToDictionary(m => m.Id!, m => m.Type);
}
