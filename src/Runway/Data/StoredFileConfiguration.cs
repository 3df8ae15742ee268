using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Runway.Files;

namespace Runway.Data;

internal sealed class StoredFileConfiguration : IEntityTypeConfiguration<StoredFile>
{
    public void Configure(EntityTypeBuilder<StoredFile> b)
    {
        b.ToTable("files");
        b.HasKey(f => f.Id).HasName("pk_files");
        b.Property(f => f.Id).HasColumnName("id").ValueGeneratedNever();
        b.Property(f => f.Name).HasColumnName("name");
        b.Property(f => f.Size).HasColumnName("size");
        b.Property(f => f.Sha256).HasColumnName("sha256");
        b.Property(f => f.Owner).HasColumnName("owner");
        b.Property(f => f.CreatedAt).HasColumnName("created_at");
        b.Property(f => f.LastUsedAt).HasColumnName("last_used_at");
        b.HasIndex(f => new { f.Owner, f.Id }, "ix_files_owner_id");
        // Storage per user (StorageUse) reads sizes from the index; the retention sweep seeks files unused since a time.
        b.HasIndex(f => new { f.Owner, f.Size }, FileIndexes.OwnerSize);
        b.HasIndex(f => new { f.LastUsedAt, f.Id }, FileIndexes.LastUsedAt);
        // ?sha256= and the storage per user (one charge per blob held) by owner; whether a blob is still needed by hash (Blobs).
        b.HasIndex(f => new { f.Owner, f.Sha256, f.Size }, FileIndexes.OwnerSha256);
        b.HasIndex(f => f.Sha256, FileIndexes.Sha256);
    }
}

internal static class FileIndexes
{
    public const string OwnerSize = "ix_files_owner_size";
    public const string LastUsedAt = "ix_files_last_used_at";
    public const string OwnerSha256 = "ix_files_owner_sha256";
    public const string Sha256 = "ix_files_sha256";
}
