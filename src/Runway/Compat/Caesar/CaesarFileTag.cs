using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Runway.Files;

namespace Runway.Compat.Caesar;

/// <summary>
/// The <c>tag</c> a caesar-rest upload carried, which its <c>/fileids</c> shows. Runway's files have no tag of their
/// own, so the view keeps it beside the file (gone with it).
/// </summary>
public sealed class CaesarFileTag
{
    public const int MaxLength = 256;

    public required string FileId { get; init; }
    public required string Tag { get; init; }
}

// Keep in step with both Migrations/*/ sets (…_CaesarFileTags.cs).
internal sealed class CaesarFileTagConfiguration : IEntityTypeConfiguration<CaesarFileTag>
{
    public void Configure(EntityTypeBuilder<CaesarFileTag> b)
    {
        b.ToTable("caesar_file_tags");
        b.HasKey(t => t.FileId).HasName("pk_caesar_file_tags");
        b.Property(t => t.FileId).HasColumnName("file_id").ValueGeneratedNever();
        b.Property(t => t.Tag).HasColumnName("tag");
        b.HasOne<StoredFile>().WithOne().HasForeignKey<CaesarFileTag>(t => t.FileId)
            .HasConstraintName("fk_caesar_file_tags_files_file_id")
            .OnDelete(DeleteBehavior.Cascade);
    }
}
