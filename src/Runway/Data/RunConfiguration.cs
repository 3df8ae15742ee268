using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Runway.Runs;

namespace Runway.Data;

// Keep in step with both Migrations/*/ sets (…_Initial.cs, …_IdempotencyFingerprint.cs, …_QueueAndAuditIndexes.cs, …_NodeLeases.cs, …_Retention.cs, …_ResourceUse.cs, …_Batches.cs, …_Resubmit.cs, …_Schedules.cs): the migrations are hand-written, not generated from this.
internal sealed class RunConfiguration : IEntityTypeConfiguration<Run>
{
    public void Configure(EntityTypeBuilder<Run> b)
    {
        b.ToTable("runs");
        b.HasKey(r => r.Id).HasName("pk_runs");
        b.Property(r => r.Id).HasColumnName("id").ValueGeneratedNever();
        b.Property(r => r.Pipeline).HasColumnName("pipeline");
        b.Property(r => r.PipelineVersion).HasColumnName("pipeline_version");
        b.Property(r => r.Name).HasColumnName("name");
        b.Property(r => r.ParamsJson).HasColumnName("params_json");
        b.Property(r => r.TagsJson).HasColumnName("tags_json");
        b.Property(r => r.Priority).HasColumnName("priority");
        b.Property(r => r.Owner).HasColumnName("owner");
        b.Property(r => r.State).HasColumnName("state");
        b.Property(r => r.Message).HasColumnName("message");
        b.Property(r => r.ExitCode).HasColumnName("exit_code");
        b.Property(r => r.Executor).HasColumnName("executor");
        b.Property(r => r.NativeId).HasColumnName("native_id");
        b.Property(r => r.Node).HasColumnName("node");
        b.Property(r => r.SubmittedAt).HasColumnName("submitted_at");
        b.Property(r => r.StartedAt).HasColumnName("started_at");
        b.Property(r => r.FinishedAt).HasColumnName("finished_at");
        b.Property(r => r.CancelRequestedAt).HasColumnName("cancel_requested_at");
        b.Property(r => r.SpecJson).HasColumnName("spec_json");
        b.Property(r => r.IdempotencyKey).HasColumnName("idempotency_key");
        b.Property(r => r.IdempotencyFingerprint).HasColumnName("idempotency_fingerprint");
        b.Property(r => r.Attempt).HasColumnName("attempt");
        b.Property(r => r.Lease).HasColumnName("lease");
        b.Property(r => r.LeaseExpiresAt).HasColumnName("lease_expires_at");
        b.Property(r => r.FilesBytes).HasColumnName("files_bytes");
        b.Property(r => r.FilesPurgedAt).HasColumnName("files_purged_at");
        b.Property(r => r.WallSeconds).HasColumnName("wall_seconds");
        b.Property(r => r.CpuSeconds).HasColumnName("cpu_seconds");
        b.Property(r => r.PeakMemoryBytes).HasColumnName("peak_memory_bytes");
        b.Property(r => r.CacheKey).HasColumnName("cache_key");
        b.Property(r => r.CachedFrom).HasColumnName("cached_from");
        b.Ignore(r => r.Notify); // rows of notifications (NotificationConfiguration)
        b.Property(r => r.BatchId).HasColumnName("batch_id");
        b.Property(r => r.ResubmittedFrom).HasColumnName("resubmitted_from");
        b.Property(r => r.ScheduleId).HasColumnName("schedule_id");
        b.Property(r => r.ScheduledFor).HasColumnName("scheduled_for");

        // The claim scans only queued runs, in claim order; the filter must stay a literal so SQLite's
        // planner matches it against the claim statement's own `state = 'queued'`.
        b.HasIndex(r => new { r.Priority, r.SubmittedAt, r.Id }, RunIndexes.Claim)
            .IsDescending(true, false, false)
            .HasFilter("state = 'queued'");
        // Lists are newest first by id (ULIDs sort by time), filtered by one of these.
        b.HasIndex(r => new { r.Owner, r.Id }, RunIndexes.OwnerId);
        b.HasIndex(r => new { r.State, r.Id }, RunIndexes.StateId);
        b.HasIndex(r => new { r.Pipeline, r.Id }, RunIndexes.PipelineId);
        // What finished in a time range, per state (the admin queue view).
        b.HasIndex(r => new { r.State, r.FinishedAt }, RunIndexes.StateFinishedAt);
        // The rescuer's scan: running runs by lease expiry (Postgres and SQLite alike).
        b.HasIndex(r => new { r.State, r.LeaseExpiresAt }, RunIndexes.StateLeaseExpiresAt);
        // Storage per user (StorageUse): a covering range of the owner's run sizes.
        b.HasIndex(r => new { r.Owner, r.FilesBytes }, RunIndexes.OwnerFilesBytes);
        // The retention sweep: finished runs whose files are still there, oldest end first. Purged runs leave the
        // index, so the scan stays as short as what is left to purge, however many runs were purged before.
        b.HasIndex(r => new { r.FinishedAt, r.Id }, RunIndexes.FilesKept)
            .HasFilter("files_purged_at IS NULL AND finished_at IS NOT NULL");
        // Accounting (Api/UsageQuery.cs): finished runs by time, and one owner's, covering every column it reads.
        b.HasIndex(r => new { r.FinishedAt, r.Owner, r.Pipeline, r.Node, r.State, r.WallSeconds, r.CpuSeconds, r.PeakMemoryBytes }, RunIndexes.Usage)
            .HasFilter("finished_at IS NOT NULL");
        b.HasIndex(r => new { r.Owner, r.FinishedAt, r.Pipeline, r.Node, r.State, r.WallSeconds, r.CpuSeconds, r.PeakMemoryBytes }, RunIndexes.OwnerUsage)
            .HasFilter("finished_at IS NOT NULL");
        // A submission looks up earlier runs with its cache key (RunCache); most runs have none.
        b.HasIndex(r => new { r.CacheKey, r.Id }, RunIndexes.CacheKey).HasFilter("cache_key IS NOT NULL");
        b.HasIndex(r => new { r.Owner, r.IdempotencyKey }, RunIndexes.IdempotencyKey)
            .IsUnique()
            .HasFilter("idempotency_key IS NOT NULL");
        // A batch's runs, newest first, and its counts per state (Api/BatchQuery.cs); runs submitted alone stay out.
        b.HasIndex(r => new { r.BatchId, r.Id }, RunIndexes.BatchId).HasFilter("batch_id IS NOT NULL");
        // Exactly one run per schedule and fire time, however many nodes fire it (Schedules/ScheduleFirer.cs).
        b.HasIndex(r => new { r.ScheduleId, r.ScheduledFor }, RunIndexes.ScheduleFire)
            .IsUnique()
            .HasFilter("schedule_id IS NOT NULL");
    }
}

internal static class RunIndexes
{
    public const string Claim = "ix_runs_claim";
    public const string OwnerId = "ix_runs_owner_id";
    public const string StateId = "ix_runs_state_id";
    public const string PipelineId = "ix_runs_pipeline_id";
    public const string IdempotencyKey = "ux_runs_owner_idempotency_key";
    public const string StateFinishedAt = "ix_runs_state_finished_at";
    public const string StateLeaseExpiresAt = "ix_runs_state_lease_expires_at";
    public const string OwnerFilesBytes = "ix_runs_owner_files_bytes";
    public const string FilesKept = "ix_runs_files_kept";
    public const string Usage = "ix_runs_usage";
    public const string OwnerUsage = "ix_runs_owner_usage";
    public const string CacheKey = "ix_runs_cache_key";
    public const string BatchId = "ix_runs_batch_id";
    public const string ScheduleFire = "ux_runs_schedule_fire";

    public static readonly string[] UsageColumns = ["finished_at", "owner", "pipeline", "node", "state", "wall_seconds", "cpu_seconds", "peak_memory_bytes"];
    public static readonly string[] OwnerUsageColumns = ["owner", "finished_at", "pipeline", "node", "state", "wall_seconds", "cpu_seconds", "peak_memory_bytes"];
}
