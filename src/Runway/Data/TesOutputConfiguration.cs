using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Runway.Runs;

namespace Runway.Data;

/// <summary>
/// A finished TES task's outputs, collected once after its run ended (Compat/Ga4gh/Tes/TesOutputCollector): who is
/// collecting them and until when (compare-and-set, as <see cref="JobLeases"/>), and, once <see cref="CollectedAt"/>
/// is set, the output file logs the task shows. The row is made by the first collector that claims the run.
/// </summary>
public sealed class TesOutputRecord
{
    public required string RunId { get; init; }
    public string? LockedBy { get; set; }
    public DateTimeOffset? LockedUntil { get; set; }
    public DateTimeOffset? CollectedAt { get; set; }

    /// <summary>The TES output file logs (url, path, size_bytes) as JSON; null until collected.</summary>
    public string? OutputsJson { get; set; }
}

// Keep in step with both Migrations/*/ sets (…_TesOutputs.cs).
internal sealed class TesOutputConfiguration : IEntityTypeConfiguration<TesOutputRecord>
{
    public void Configure(EntityTypeBuilder<TesOutputRecord> b)
    {
        b.ToTable("tes_outputs");
        b.HasKey(o => o.RunId).HasName("pk_tes_outputs");
        b.Property(o => o.RunId).HasColumnName("run_id").ValueGeneratedNever();
        b.Property(o => o.LockedBy).HasColumnName("locked_by");
        b.Property(o => o.LockedUntil).HasColumnName("locked_until");
        b.Property(o => o.CollectedAt).HasColumnName("collected_at");
        b.Property(o => o.OutputsJson).HasColumnName("outputs_json");
        b.HasOne<Run>().WithOne().HasForeignKey<TesOutputRecord>(o => o.RunId)
            .HasConstraintName("fk_tes_outputs_runs_run_id")
            .OnDelete(DeleteBehavior.Cascade);
    }
}
