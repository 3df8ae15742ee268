using System.Data.Common;

namespace Runway.Tests.Data;

/// <summary>What a PostgreSQL schema says it holds, as <see cref="SchemaContract"/> facts (pg_catalog).</summary>
internal static class PostgresSchema
{
    public static async Task<HashSet<string>> FactsAsync(DbConnection connection, CancellationToken ct)
    {
        var facts = new HashSet<string>(StringComparer.Ordinal);
        var tables = await SchemaContract.QueryAsync(connection,
            "SELECT c.oid::bigint, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            + "WHERE n.nspname = current_schema() AND c.relkind = 'r'", ct);
        foreach (var row in tables)
        {
            var (oid, table) = ((long)row[0], (string)row[1]);
            facts.Add($"table {table}");
            foreach (var c in await SchemaContract.QueryAsync(connection,
                "SELECT attname::text, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
                + "WHERE attrelid = @oid::oid AND attnum > 0 AND NOT attisdropped", ct, ("oid", oid)))
            {
                facts.Add(SchemaContract.ColumnFact(table, (string)c[0], (string)c[1], !(bool)c[2]));
            }
            foreach (var k in await SchemaContract.QueryAsync(connection,
                "SELECT contype::text, confrelid::regclass::text, "
                + "(SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(conkey) WITH ORDINALITY k(num, n) "
                + " JOIN pg_attribute a ON a.attrelid = conrelid AND a.attnum = k.num) "
                + "FROM pg_constraint WHERE conrelid = @oid::oid AND contype IN ('p', 'f')", ct, ("oid", oid)))
            {
                facts.Add((string)k[0] == "p" ? $"primary key {table} ({k[2]})" : $"foreign key {table} ({k[2]}) -> {k[1]}");
            }
            foreach (var i in await SchemaContract.QueryAsync(connection,
                "SELECT c.relname::text, ix.indisunique, ix.indpred IS NOT NULL, "
                + "(SELECT string_agg(pg_get_indexdef(ix.indexrelid, k, true) || CASE WHEN ix.indoption[k - 1] & 1 = 1 THEN ' desc' ELSE '' END, ', ' ORDER BY k) "
                + " FROM generate_series(1, ix.indnkeyatts) k) "
                + "FROM pg_index ix JOIN pg_class c ON c.oid = ix.indexrelid WHERE ix.indrelid = @oid::oid AND NOT ix.indisprimary", ct, ("oid", oid)))
            {
                facts.Add($"index {table}.{i[0]} ({i[3]}){((bool)i[1] ? " unique" : "")}{((bool)i[2] ? " partial" : "")}");
            }
        }
        return facts;
    }
}
