using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Postgres;

// Hand-written; mirrors Data/NodeRecord.cs, Data/SharedDirectory.cs and Data/RunConfiguration.cs. Timestamps are timestamptz (UTC).
// Issue 13: nodes say what they are and whether they drain; a running run carries the lease of the node process
// that holds it (renewed by its heartbeat) and the attempt it is on; the database keeps the shared directory's mark.
[DbContext(typeof(RunwayDb))]
[Migration("20261203100000_NodeLeases")]
public sealed class NodeLeases : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.AddColumn<DateTimeOffset>("started_at", "nodes", type: "timestamp with time zone", nullable: false, defaultValue: new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero));
        migrationBuilder.AddColumn<string>("state", "nodes", type: "text", nullable: false, defaultValue: "active");
        migrationBuilder.AddColumn<string>("role", "nodes", type: "text", nullable: false, defaultValue: "serve");
        migrationBuilder.AddColumn<string>("executors", "nodes", type: "text", nullable: false, defaultValue: "");
        migrationBuilder.AddColumn<int>("capacity", "nodes", type: "integer", nullable: false, defaultValue: 0);
        migrationBuilder.AddColumn<string>("version", "nodes", type: "text", nullable: false, defaultValue: "");

        migrationBuilder.AddColumn<int>("attempt", "runs", type: "integer", nullable: false, defaultValue: 1);
        migrationBuilder.AddColumn<string>("lease", "runs", type: "text", nullable: true);
        migrationBuilder.AddColumn<DateTimeOffset>("lease_expires_at", "runs", type: "timestamp with time zone", nullable: true);
        migrationBuilder.CreateIndex(RunIndexes.StateLeaseExpiresAt, "runs", ["state", "lease_expires_at"]);

        migrationBuilder.CreateTable(
            name: "shared_directory",
            columns: t => new
            {
                id = t.Column<int>(type: "integer", nullable: false),
                mark = t.Column<string>(type: "text", nullable: false),
                created_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
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
