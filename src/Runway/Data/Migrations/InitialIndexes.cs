using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations;

/// <summary>
/// The initial indexes, shared by both providers' Initial migrations: both dialects take partial and
/// descending indexes in the same words. A later migration writes its own statements per provider.
/// </summary>
internal static class InitialIndexes
{
    public static void Create(MigrationBuilder b)
    {
        b.CreateIndex(RunIndexes.Claim, "runs", ["priority", "submitted_at", "id"],
            descending: [true, false, false], filter: "state = 'queued'");
        b.CreateIndex(RunIndexes.OwnerId, "runs", ["owner", "id"]);
        b.CreateIndex(RunIndexes.StateId, "runs", ["state", "id"]);
        b.CreateIndex(RunIndexes.PipelineId, "runs", ["pipeline", "id"]);
        b.CreateIndex(RunIndexes.IdempotencyKey, "runs", ["owner", "idempotency_key"],
            unique: true, filter: "idempotency_key IS NOT NULL");
        b.CreateIndex("ix_run_events_run_id_id", "run_events", ["run_id", "id"]);
        b.CreateIndex("ix_files_owner_id", "files", ["owner", "id"]);
    }
}
