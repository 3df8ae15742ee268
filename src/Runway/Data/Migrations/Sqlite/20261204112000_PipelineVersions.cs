using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Sqlite;

// Hand-written; mirrors Data/PipelineVersions.cs. Issue 14, pipeline versions side by side: every version Runway has
// loaded keeps its YAML text, so it stays submittable by pipeline_version after its file changed.
[DbContext(typeof(RunwayDb))]
[Migration("20261204112000_PipelineVersions")]
public sealed class PipelineVersions : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateTable(
            name: "pipeline_versions",
            columns: t => new
            {
                name = t.Column<string>(type: "TEXT", nullable: false),
                version = t.Column<string>(type: "TEXT", nullable: false),
                yaml = t.Column<string>(type: "TEXT", nullable: false),
                source_path = t.Column<string>(type: "TEXT", nullable: false),
                first_seen_at = t.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: t => t.PrimaryKey("pk_pipeline_versions", x => new { x.name, x.version }));
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable("pipeline_versions");
    }
}
