using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Postgres;

// Hand-written; mirrors Data/BatchConfiguration.cs and Data/RunConfiguration.cs. Issue 14: batches, and each run's
// batch_id with a partial index (runs submitted alone stay out of it) for a batch's runs and its counts per state.
[DbContext(typeof(RunwayDb))]
[Migration("20261204100000_Batches")]
public sealed class Batches : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateTable(
            name: "batches",
            columns: t => new
            {
                id = t.Column<string>(type: "text", nullable: false),
                name = t.Column<string>(type: "text", nullable: true),
                tags_json = t.Column<string>(type: "text", nullable: false),
                owner = t.Column<string>(type: "text", nullable: false),
                created_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                cache = t.Column<bool>(type: "boolean", nullable: true),
                pipelines_json = t.Column<string>(type: "text", nullable: false),
                idempotency_key = t.Column<string>(type: "text", nullable: true),
                idempotency_fingerprint = t.Column<string>(type: "text", nullable: true),
            },
            constraints: t => t.PrimaryKey("pk_batches", x => x.id));
        migrationBuilder.CreateIndex(BatchIndexes.OwnerId, "batches", ["owner", "id"]);
        migrationBuilder.CreateIndex(BatchIndexes.IdempotencyKey, "batches", ["owner", "idempotency_key"], unique: true, filter: "idempotency_key IS NOT NULL");

        migrationBuilder.AddColumn<string>("batch_id", "runs", type: "text", nullable: true);
        migrationBuilder.CreateIndex(RunIndexes.BatchId, "runs", ["batch_id", "id"], filter: "batch_id IS NOT NULL");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropIndex(RunIndexes.BatchId, "runs");
        migrationBuilder.DropColumn("batch_id", "runs");
        migrationBuilder.DropTable("batches");
    }
}
