using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Postgres;

// Hand-written; mirrors Data/RunConfiguration.cs and AuditEntryConfiguration. The admin page's queue view counts
// and lists what finished in the last day per state, and its audit trail filters by time: both seek an index
// range instead of scanning a million rows.
[DbContext(typeof(RunwayDb))]
[Migration("20261203060000_QueueAndAuditIndexes")]
public sealed class QueueAndAuditIndexes : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateIndex(RunIndexes.StateFinishedAt, "runs", ["state", "finished_at"]);
        migrationBuilder.CreateIndex(AuditIndexes.AtId, "audit_entries", ["at", "id"]);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropIndex(RunIndexes.StateFinishedAt, "runs");
        migrationBuilder.DropIndex(AuditIndexes.AtId, "audit_entries");
    }
}
