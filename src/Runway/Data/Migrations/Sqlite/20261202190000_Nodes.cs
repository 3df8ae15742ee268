using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Sqlite;

// Hand-written; mirrors NodeConfiguration in Data/NodeRegistry.cs. Timestamps are unix microseconds.
[DbContext(typeof(RunwayDb))]
[Migration("20261202190000_Nodes")]
public sealed class Nodes : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateTable(
            name: "nodes",
            columns: t => new
            {
                name = t.Column<string>(type: "TEXT", nullable: false),
                instance = t.Column<string>(type: "TEXT", nullable: false),
                data_directory = t.Column<string>(type: "TEXT", nullable: false),
                heartbeat_at = t.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: t => t.PrimaryKey("pk_nodes", x => x.name));
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable("nodes");
    }
}
