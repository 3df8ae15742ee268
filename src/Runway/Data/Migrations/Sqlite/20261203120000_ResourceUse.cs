using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Sqlite;

// Hand-written; mirrors Data/RunConfiguration.cs. Issue 16: what each finished run used (wall and CPU seconds,
// peak memory bytes), and two partial covering indexes for the accounting query (Api/UsageQuery.cs): all finished
// runs in a time range, and one owner's; the query reads the index alone, never the table's rows.
[DbContext(typeof(RunwayDb))]
[Migration("20261203120000_ResourceUse")]
public sealed class ResourceUse : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.AddColumn<double>("wall_seconds", "runs", type: "REAL", nullable: true);
        migrationBuilder.AddColumn<double>("cpu_seconds", "runs", type: "REAL", nullable: true);
        migrationBuilder.AddColumn<long>("peak_memory_bytes", "runs", type: "INTEGER", nullable: true);
        migrationBuilder.CreateIndex(RunIndexes.Usage, "runs", RunIndexes.UsageColumns, filter: "finished_at IS NOT NULL");
        migrationBuilder.CreateIndex(RunIndexes.OwnerUsage, "runs", RunIndexes.OwnerUsageColumns, filter: "finished_at IS NOT NULL");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropIndex(RunIndexes.OwnerUsage, "runs");
        migrationBuilder.DropIndex(RunIndexes.Usage, "runs");
        foreach (var column in (string[])["wall_seconds", "cpu_seconds", "peak_memory_bytes"])
        {
            migrationBuilder.DropColumn(column, "runs");
        }
    }
}
