using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Postgres;

// Hand-written; mirrors NodeConfiguration in Data/NodeRegistry.cs. Timestamps are timestamptz (UTC).
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
                name = t.Column<string>(type: "text", nullable: false),
                instance = t.Column<string>(type: "text", nullable: false),
                data_directory = t.Column<string>(type: "text", nullable: false),
                heartbeat_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
            },
            constraints: t => t.PrimaryKey("pk_nodes", x => x.name));
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable("nodes");
    }
}
