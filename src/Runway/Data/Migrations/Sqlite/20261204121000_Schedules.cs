using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Sqlite;

// Hand-written; mirrors Schedules/Schedule.cs and Data/RunConfiguration.cs. Issue 15: cron schedules, and the runs they
// make carry (schedule_id, scheduled_for), unique, so each fire time makes one run however many nodes fire it.
[DbContext(typeof(RunwayDb))]
[Migration("20261204121000_Schedules")]
public sealed class ScheduleTables : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateTable(
            name: "schedules",
            columns: t => new
            {
                id = t.Column<string>(type: "TEXT", nullable: false),
                owner = t.Column<string>(type: "TEXT", nullable: false),
                name = t.Column<string>(type: "TEXT", nullable: false),
                pipeline = t.Column<string>(type: "TEXT", nullable: false),
                params_json = t.Column<string>(type: "TEXT", nullable: false),
                cron = t.Column<string>(type: "TEXT", nullable: false),
                time_zone = t.Column<string>(type: "TEXT", nullable: false),
                enabled = t.Column<bool>(type: "INTEGER", nullable: false),
                catch_up = t.Column<string>(type: "TEXT", nullable: false),
                overlap = t.Column<string>(type: "TEXT", nullable: false),
                next_fire_at = t.Column<long>(type: "INTEGER", nullable: true),
                last_fire_for = t.Column<long>(type: "INTEGER", nullable: true),
                last_outcome = t.Column<string>(type: "TEXT", nullable: true),
                last_detail = t.Column<string>(type: "TEXT", nullable: true),
                last_run_id = t.Column<string>(type: "TEXT", nullable: true),
                created_at = t.Column<long>(type: "INTEGER", nullable: false),
                updated_at = t.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: t => t.PrimaryKey("pk_schedules", x => x.id));
        migrationBuilder.CreateIndex("ix_schedules_owner_id", "schedules", ["owner", "id"]);
        migrationBuilder.CreateIndex("ix_schedules_next_fire_at", "schedules", "next_fire_at", filter: "next_fire_at IS NOT NULL");
        migrationBuilder.AddColumn<string>("schedule_id", "runs", type: "TEXT", nullable: true);
        migrationBuilder.AddColumn<long>("scheduled_for", "runs", type: "INTEGER", nullable: true);
        migrationBuilder.CreateIndex(RunIndexes.ScheduleFire, "runs", ["schedule_id", "scheduled_for"], unique: true, filter: "schedule_id IS NOT NULL");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropIndex(RunIndexes.ScheduleFire, "runs");
        migrationBuilder.DropColumn("scheduled_for", "runs");
        migrationBuilder.DropColumn("schedule_id", "runs");
        migrationBuilder.DropTable("schedules");
    }
}
