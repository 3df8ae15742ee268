using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Sqlite;

// Hand-written; mirrors Data/NotificationConfiguration.cs. Issue 15, notifications: the outbox of webhooks and
// emails to send when a run ends (one row per target, written with the run), and each user's defaults and secret.
[DbContext(typeof(RunwayDb))]
[Migration("20261204130000_Notifications")]
public sealed class Notifications : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateTable(
            name: "notifications",
            columns: t => new
            {
                id = t.Column<string>(type: "TEXT", nullable: false),
                run_id = t.Column<string>(type: "TEXT", nullable: false),
                owner = t.Column<string>(type: "TEXT", nullable: false),
                kind = t.Column<string>(type: "TEXT", nullable: false),
                target = t.Column<string>(type: "TEXT", nullable: false),
                state = t.Column<string>(type: "TEXT", nullable: false),
                attempts = t.Column<int>(type: "INTEGER", nullable: false),
                next_attempt_at = t.Column<long>(type: "INTEGER", nullable: true),
                locked_by = t.Column<string>(type: "TEXT", nullable: true),
                locked_until = t.Column<long>(type: "INTEGER", nullable: true),
                last_status = t.Column<int>(type: "INTEGER", nullable: true),
                last_error = t.Column<string>(type: "TEXT", nullable: true),
                delivered_at = t.Column<long>(type: "INTEGER", nullable: true),
                created_at = t.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("pk_notifications", x => x.id);
                t.ForeignKey("fk_notifications_runs_run_id", x => x.run_id, "runs", "id", onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateIndex(NotificationIndexes.RunId, "notifications", ["run_id", "id"]);
        migrationBuilder.CreateIndex(NotificationIndexes.Pending, "notifications", ["next_attempt_at", "id"], filter: "state = 'pending'");

        migrationBuilder.CreateTable(
            name: "notify_settings",
            columns: t => new
            {
                username = t.Column<string>(type: "TEXT", nullable: false),
                webhook_secret = t.Column<string>(type: "TEXT", nullable: false),
                email_json = t.Column<string>(type: "TEXT", nullable: false),
                webhook = t.Column<string>(type: "TEXT", nullable: true),
            },
            constraints: t => t.PrimaryKey("pk_notify_settings", x => x.username));
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable("notify_settings");
        migrationBuilder.DropTable("notifications");
    }
}
