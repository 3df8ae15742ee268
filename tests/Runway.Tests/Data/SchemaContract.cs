using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Runway.Tests.Data;

/// <summary>
/// The migrations are written by hand, per provider, so nothing but this test keeps them in step with the
/// fluent mapping: the schema they produce must hold exactly the model's tables, columns (store type,
/// nullability), keys, foreign keys and indexes. (<c>HasPendingModelChanges</c> cannot tell: it compares
/// the model with a snapshot, and hand-written migrations keep none.)
/// </summary>
public abstract class SchemaContract(Func<TestDatabase> open) : StoreTest(open)
{
    private static readonly HashSet<string> EfTables = ["__EFMigrationsHistory", "__EFMigrationsLock"];

    [Fact]
    public async Task Migrations_ProduceExactlyTheModelsSchema()
    {
        await using var db = await OpenDbAsync();
        var model = ModelFacts(db);
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync(Ct);
        var database = db.Database.IsNpgsql() ? await PostgresSchema.FactsAsync(connection, Ct) : await SqliteSchema.FactsAsync(connection, Ct);
        database.RemoveWhere(f => EfTables.Any(t => f.Contains($" {t}", StringComparison.Ordinal)));

        var onlyInModel = model.Except(database).Order(StringComparer.Ordinal).ToList();
        var onlyInDatabase = database.Except(model).Order(StringComparer.Ordinal).ToList();

        if (onlyInModel.Count + onlyInDatabase.Count > 0)
        {
            Assert.Fail("The EF model and the schema the migrations produce differ; add or fix a migration in BOTH "
                + "Data/Migrations/Sqlite and Data/Migrations/Postgres.\n"
                + $"In the model only:\n  {string.Join("\n  ", onlyInModel)}\nIn the migrated database only:\n  {string.Join("\n  ", onlyInDatabase)}");
        }
    }

    /// <summary>One line per fact, in the words both sides can be put in.</summary>
    private static HashSet<string> ModelFacts(DbContext db)
    {
        var facts = new HashSet<string>(StringComparer.Ordinal);
        // Names, filters and sort orders of indexes live only in the design-time model.
        foreach (var entity in db.GetService<IDesignTimeModel>().Model.GetEntityTypes())
        {
            var table = entity.GetTableName()!;
            var store = StoreObjectIdentifier.Table(table, entity.GetSchema());
            string Column(IProperty p) => p.GetColumnName(store)!;
            facts.Add($"table {table}");
            foreach (var property in entity.GetProperties())
            {
                facts.Add(ColumnFact(table, Column(property), property.GetColumnType(store), property.IsColumnNullable(store)));
            }
            if (entity.FindPrimaryKey() is { } key)
            {
                facts.Add($"primary key {table} ({string.Join(", ", key.Properties.Select(Column))})");
            }
            foreach (var fk in entity.GetForeignKeys())
            {
                facts.Add($"foreign key {table} ({string.Join(", ", fk.Properties.Select(Column))}) -> {fk.PrincipalEntityType.GetTableName()}");
            }
            foreach (var index in entity.GetIndexes())
            {
                var columns = index.Properties.Select((p, i) => Column(p) + (index.IsDescending is { Count: > 0 } d && d[i] ? " desc" : ""));
                facts.Add(IndexFact(table, index.GetDatabaseName(store)!, columns, index.IsUnique, index.GetFilter() is not null));
            }
        }
        return facts;
    }

    internal static string ColumnFact(string table, string column, string type, bool nullable) =>
        $"column {table}.{column} {type.ToLowerInvariant()}{(nullable ? " null" : " not null")}";

    internal static string IndexFact(string table, string name, IEnumerable<string> columns, bool unique, bool partial) =>
        $"index {table}.{name} ({string.Join(", ", columns)}){(unique ? " unique" : "")}{(partial ? " partial" : "")}";

    internal static async Task<List<object[]>> QueryAsync(DbConnection connection, string sql, CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        var rows = new List<object[]>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }
}

public sealed class SchemaSqliteTests() : SchemaContract(TestDatabase.Sqlite);

public sealed class SchemaPostgresTests() : SchemaContract(TestDatabase.Postgres);
