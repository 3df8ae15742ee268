using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Postgres;

// Hand-written; mirrors Data/RunConfiguration.cs. A run stored before this has no fingerprint: a retry of
// its key is answered with it, as it was before, whatever the body.
[DbContext(typeof(RunwayDb))]
[Migration("20261202120000_IdempotencyFingerprint")]
public sealed class IdempotencyFingerprint : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.AddColumn<string>(name: "idempotency_fingerprint", table: "runs", type: "text", nullable: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropColumn(name: "idempotency_fingerprint", table: "runs");
    }
}
