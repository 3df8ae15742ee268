using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

namespace Runway.Data.Migrations.Postgres;

// Hand-written; mirrors the fluent mapping in Data/*Configuration.cs. Timestamps are timestamptz (UTC).
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
                id = t.Column<string>(type: "text", nullable: false),
                pipeline = t.Column<string>(type: "text", nullable: false),
                pipeline_version = t.Column<string>(type: "text", nullable: false),
                name = t.Column<string>(type: "text", nullable: true),
                params_json = t.Column<string>(type: "text", nullable: false),
                tags_json = t.Column<string>(type: "text", nullable: false),
                priority = t.Column<int>(type: "integer", nullable: false),
                owner = t.Column<string>(type: "text", nullable: false),
                state = t.Column<string>(type: "text", nullable: false),
                message = t.Column<string>(type: "text", nullable: true),
                exit_code = t.Column<int>(type: "integer", nullable: true),
                executor = t.Column<string>(type: "text", nullable: false),
                native_id = t.Column<string>(type: "text", nullable: true),
                node = t.Column<string>(type: "text", nullable: true),
                submitted_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                started_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                finished_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                cancel_requested_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                spec_json = t.Column<string>(type: "text", nullable: false),
                idempotency_key = t.Column<string>(type: "text", nullable: true),
            },
            constraints: t => t.PrimaryKey("pk_runs", x => x.id));

        migrationBuilder.CreateTable(
            name: "run_events",
            columns: t => new
            {
                id = t.Column<long>(type: "bigint", nullable: false)
                    .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                run_id = t.Column<string>(type: "text", nullable: false),
                from_state = t.Column<string>(type: "text", nullable: true),
                to_state = t.Column<string>(type: "text", nullable: false),
                reason = t.Column<string>(type: "text", nullable: false),
                at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
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
                id = t.Column<string>(type: "text", nullable: false),
                name = t.Column<string>(type: "text", nullable: false),
                size = t.Column<long>(type: "bigint", nullable: false),
                sha256 = t.Column<string>(type: "text", nullable: false),
                owner = t.Column<string>(type: "text", nullable: false),
                created_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
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
