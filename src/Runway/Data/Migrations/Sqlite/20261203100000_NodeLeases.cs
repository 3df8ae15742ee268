using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Sqlite;

// Hand-written; mirrors Data/NodeRecord.cs, Data/SharedDirectory.cs and Data/RunConfiguration.cs. Timestamps are unix microseconds.
// Issue 13: nodes say what they are and whether they drain; a running run carries the lease of the node process
// that holds it (renewed by its heartbeat) and the attempt it is on; the database keeps the shared directory's mark.
[DbContext(typeof(RunwayDb))]
[Migration("20261203100000_NodeLeases")]
public sealed class NodeLeases : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.AddColumn<long>("started_at", "nodes", type: "INTEGER", nullable: false, defaultValue: 0L);
        migrationBuilder.AddColumn<string>("state", "nodes", type: "TEXT", nullable: false, defaultValue: "active");
        migrationBuilder.AddColumn<string>("role", "nodes", type: "TEXT", nullable: false, defaultValue: "serve");
        migrationBuilder.AddColumn<string>("executors", "nodes", type: "TEXT", nullable: false, defaultValue: "");
        migrationBuilder.AddColumn<int>("capacity", "nodes", type: "INTEGER", nullable: false, defaultValue: 0);
        migrationBuilder.AddColumn<string>("version", "nodes", type: "TEXT", nullable: false, defaultValue: "");

        migrationBuilder.AddColumn<int>("attempt", "runs", type: "INTEGER", nullable: false, defaultValue: 1);
        migrationBuilder.AddColumn<string>("lease", "runs", type: "TEXT", nullable: true);
        migrationBuilder.AddColumn<long>("lease_expires_at", "runs", type: "INTEGER", nullable: true);
        migrationBuilder.CreateIndex(RunIndexes.StateLeaseExpiresAt, "runs", ["state", "lease_expires_at"]);

        migrationBuilder.CreateTable(
            name: "shared_directory",
            columns: t => new
            {
                id = t.Column<int>(type: "INTEGER", nullable: false),
                mark = t.Column<string>(type: "TEXT", nullable: false),
                created_at = t.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: t => t.PrimaryKey("pk_shared_directory", x => x.id));
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable("shared_directory");
        migrationBuilder.DropIndex(RunIndexes.StateLeaseExpiresAt, "runs");
        foreach (var column in (string[])["attempt", "lease", "lease_expires_at"])
        {
            migrationBuilder.DropColumn(column, "runs");
        }
        foreach (var column in (string[])["started_at", "state", "role", "executors", "capacity", "version"])
        {
            migrationBuilder.DropColumn(column, "nodes");
        }
    }
}
