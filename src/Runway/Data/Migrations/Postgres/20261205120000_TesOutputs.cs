using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Postgres;

// Hand-written; mirrors Data/TesOutputConfiguration.cs. Issue 17: a TES task's outputs are collected once when its
// run ends (not at the first read), claimed by compare-and-set; a row per collected (or being collected) task.
[DbContext(typeof(RunwayDb))]
[Migration("20261205120000_TesOutputs")]
public sealed class TesOutputs : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateTable(
            name: "tes_outputs",
            columns: t => new
            {
                run_id = t.Column<string>(type: "text", nullable: false),
                locked_by = t.Column<string>(type: "text", nullable: true),
                locked_until = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                collected_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                outputs_json = t.Column<string>(type: "text", nullable: true),
            },
            constraints: t =>
            {
                t.PrimaryKey("pk_tes_outputs", x => x.run_id);
                t.ForeignKey("fk_tes_outputs_runs_run_id", x => x.run_id, "runs", "id", onDelete: ReferentialAction.Cascade);
            });
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable("tes_outputs");
    }
}
