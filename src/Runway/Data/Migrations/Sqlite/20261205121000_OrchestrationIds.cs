using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Sqlite;

// Hand-written; mirrors Compat/Orchestration/ProcessIds.cs. Issue 17: LIneA Orchestration's clients name a process by
// an integer; each run shown there gets one from this table's sequence.
[DbContext(typeof(RunwayDb))]
[Migration("20261205121000_OrchestrationIds")]
public sealed class OrchestrationIds : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateTable(
            name: "orchestration_ids",
            columns: t => new
            {
                // AUTOINCREMENT: without it SQLite gives the next row max(id) + 1, so the integer of the newest run, once its
                // record is deleted (retention), would name the next run shown; a client that kept it would reach another run.
                id = t.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                run_id = t.Column<string>(type: "TEXT", nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("pk_orchestration_ids", x => x.id);
                t.ForeignKey("fk_orchestration_ids_runs_run_id", x => x.run_id, "runs", "id", onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateIndex("ux_orchestration_ids_run_id", "orchestration_ids", "run_id", unique: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable("orchestration_ids");
    }
}
