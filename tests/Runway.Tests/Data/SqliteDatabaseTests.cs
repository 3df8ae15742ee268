using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Runway.Data;

namespace Runway.Tests.Data;

/// <summary>What only SQLite needs: durability pragmas and a claim that stays on its index.</summary>
public sealed class SqliteDatabaseTests() : StoreTest(TestDatabase.Sqlite)
{
    [Fact]
    public async Task Connection_IsDurableWaitsForLocksAndChecksForeignKeys()
    {
        await using var db = await OpenDbAsync();
        await db.Database.OpenConnectionAsync(Ct);
        var connection = db.Database.GetDbConnection();

        Assert.Equal("wal", await ScalarAsync(connection, "PRAGMA journal_mode"));
        Assert.Equal("2", await ScalarAsync(connection, "PRAGMA synchronous")); // FULL
        Assert.Equal("5000", await ScalarAsync(connection, "PRAGMA busy_timeout"));
        Assert.Equal("1", await ScalarAsync(connection, "PRAGMA foreign_keys"));
    }

    [Fact]
    public async Task Claim_UsesPartialClaimIndexInOrder()
    {
        await using var db = await OpenDbAsync();
        await db.Database.OpenConnectionAsync(Ct);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + SqliteClaim.Sql;
        command.Parameters.AddRange(SqliteClaim.Parameters("n1", 5, Clock.GetUtcNow(), ["local", "slurm"]));
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                plan.Add(reader.GetString(3));
            }
        }

        // The executor filter reads the row of each candidate, so the index serves the order, not every column.
        Assert.Contains(plan, step => step.Contains("USING INDEX ix_runs_claim", StringComparison.Ordinal));
        // Served in index order, never sorted.
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    private static async Task<string?> ScalarAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        var value = reader.GetValue(0).ToString();
        Assert.False(await reader.ReadAsync(Ct), $"{sql} returned more than one row");
        return value;
    }
}
