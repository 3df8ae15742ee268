using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Sqlite;

// Hand-written; mirrors the fluent mapping in Data/*Configuration.cs. Timestamps are unix microseconds.
[DbContext(typeof(RunwayDb))]
[Migration("20261124000000_Initial")]
public sealed class Initial : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateTable(
            name: "runs",
            columns: t => new
            {
                id = t.Column<string>(type: "TEXT", nullable: false),
                pipeline = t.Column<string>(type: "TEXT", nullable: false),
                pipeline_version = t.Column<string>(type: "TEXT", nullable: false),
                name = t.Column<string>(type: "TEXT", nullable: true),
                params_json = t.Column<string>(type: "TEXT", nullable: false),
                tags_json = t.Column<string>(type: "TEXT", nullable: false),
                priority = t.Column<int>(type: "INTEGER", nullable: false),
                owner = t.Column<string>(type: "TEXT", nullable: false),
                state = t.Column<string>(type: "TEXT", nullable: false),
                message = t.Column<string>(type: "TEXT", nullable: true),
                exit_code = t.Column<int>(type: "INTEGER", nullable: true),
                executor = t.Column<string>(type: "TEXT", nullable: false),
                native_id = t.Column<string>(type: "TEXT", nullable: true),
                node = t.Column<string>(type: "TEXT", nullable: true),
                submitted_at = t.Column<long>(type: "INTEGER", nullable: false),
                started_at = t.Column<long>(type: "INTEGER", nullable: true),
                finished_at = t.Column<long>(type: "INTEGER", nullable: true),
                cancel_requested_at = t.Column<long>(type: "INTEGER", nullable: true),
                spec_json = t.Column<string>(type: "TEXT", nullable: false),
                idempotency_key = t.Column<string>(type: "TEXT", nullable: true),
            },
            constraints: t => t.PrimaryKey("pk_runs", x => x.id));

        // A plain INTEGER PRIMARY KEY is the rowid: ids grow with inserts (rows are never deleted but with
        // their run), without AUTOINCREMENT's extra sqlite_sequence write on every event.
        migrationBuilder.CreateTable(
            name: "run_events",
            columns: t => new
            {
                id = t.Column<long>(type: "INTEGER", nullable: false),
                run_id = t.Column<string>(type: "TEXT", nullable: false),
                from_state = t.Column<string>(type: "TEXT", nullable: true),
                to_state = t.Column<string>(type: "TEXT", nullable: false),
                reason = t.Column<string>(type: "TEXT", nullable: false),
                at = t.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("pk_run_events", x => x.id);
                t.ForeignKey("fk_run_events_runs_run_id", x => x.run_id, "runs", "id", onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "files",
            columns: t => new
            {
                id = t.Column<string>(type: "TEXT", nullable: false),
                name = t.Column<string>(type: "TEXT", nullable: false),
                size = t.Column<long>(type: "INTEGER", nullable: false),
                sha256 = t.Column<string>(type: "TEXT", nullable: false),
                owner = t.Column<string>(type: "TEXT", nullable: false),
                created_at = t.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: t => t.PrimaryKey("pk_files", x => x.id));

        InitialIndexes.Create(migrationBuilder);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable("run_events");
        migrationBuilder.DropTable("files");
        migrationBuilder.DropTable("runs");
    }
}
