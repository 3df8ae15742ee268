using System.Data.Common;
using System.Globalization;

namespace Runway.Tests.Data;

/// <summary>What a SQLite database says it holds, as <see cref="SchemaContract"/> facts (pragma table_info, index_list…).</summary>
internal static class SqliteSchema
{
    public static async Task<HashSet<string>> FactsAsync(DbConnection connection, CancellationToken ct)
    {
        var facts = new HashSet<string>(StringComparer.Ordinal);
        var tables = await SchemaContract.QueryAsync(connection,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", ct);
        foreach (var table in tables.Select(r => (string)r[0]))
        {
            facts.Add($"table {table}");
            var columns = await SchemaContract.QueryAsync(connection,
                "SELECT name, type, \"notnull\", pk FROM pragma_table_info(@t)", ct, ("@t", table));
            foreach (var c in columns)
            {
                // A primary key column is NOT NULL whether or not it says so (for non-integer keys SQLite would allow it; EF never writes one).
                facts.Add(SchemaContract.ColumnFact(table, (string)c[0], (string)c[1], Long(c[2]) == 0 && Long(c[3]) == 0));
            }
            var key = columns.Where(c => Long(c[3]) > 0).OrderBy(c => Long(c[3])).Select(c => (string)c[0]).ToList();
            if (key.Count > 0)
            {
                facts.Add($"primary key {table} ({string.Join(", ", key)})");
            }
            foreach (var fk in (await SchemaContract.QueryAsync(connection,
                "SELECT id, \"table\", \"from\" FROM pragma_foreign_key_list(@t) ORDER BY id, seq", ct, ("@t", table))).GroupBy(r => Long(r[0])))
            {
                facts.Add($"foreign key {table} ({string.Join(", ", fk.Select(r => (string)r[2]))}) -> {fk.First()[1]}");
            }
            foreach (var index in await SchemaContract.QueryAsync(connection,
                "SELECT name, \"unique\", partial FROM pragma_index_list(@t) WHERE origin = 'c'", ct, ("@t", table)))
            {
                var name = (string)index[0];
                var keyColumns = await SchemaContract.QueryAsync(connection,
                    "SELECT name, \"desc\" FROM pragma_index_xinfo(@i) WHERE key = 1 ORDER BY seqno", ct, ("@i", name));
                facts.Add(SchemaContract.IndexFact(table, name, keyColumns.Select(k => (string)k[0] + (Long(k[1]) == 1 ? " desc" : "")),
                    Long(index[1]) == 1, Long(index[2]) == 1));
            }
        }
        return facts;
    }

    private static long Long(object value) => Convert.ToInt64(value, CultureInfo.InvariantCulture);
}
