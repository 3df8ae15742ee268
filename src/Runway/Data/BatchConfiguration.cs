using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Runway.Runs;

namespace Runway.Data;

// Keep in step with both Migrations/*/…_Batches.cs (hand-written).
internal sealed class BatchConfiguration : IEntityTypeConfiguration<Batch>
{
    public void Configure(EntityTypeBuilder<Batch> b)
    {
        b.ToTable("batches");
        b.HasKey(x => x.Id).HasName("pk_batches");
        b.Property(x => x.Id).HasColumnName("id").ValueGeneratedNever();
        b.Property(x => x.Name).HasColumnName("name");
        b.Property(x => x.TagsJson).HasColumnName("tags_json");
        b.Property(x => x.Owner).HasColumnName("owner");
        b.Property(x => x.CreatedAt).HasColumnName("created_at");
        b.Property(x => x.Cache).HasColumnName("cache");
        b.Property(x => x.PipelinesJson).HasColumnName("pipelines_json");
        b.Property(x => x.IdempotencyKey).HasColumnName("idempotency_key");
        b.Property(x => x.IdempotencyFingerprint).HasColumnName("idempotency_fingerprint");
        // Lists are the owner's newest first (ids are ULIDs); a retry under one Idempotency-Key finds the first batch.
        b.HasIndex(x => new { x.Owner, x.Id }, BatchIndexes.OwnerId);
        b.HasIndex(x => new { x.Owner, x.IdempotencyKey }, BatchIndexes.IdempotencyKey).IsUnique().HasFilter("idempotency_key IS NOT NULL");
    }
}

internal static class BatchIndexes
{
    public const string OwnerId = "ix_batches_owner_id";
    public const string IdempotencyKey = "ux_batches_owner_idempotency_key";
}
