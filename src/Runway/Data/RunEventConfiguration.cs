using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Runway.Runs;

namespace Runway.Data;

internal sealed class RunEventConfiguration : IEntityTypeConfiguration<RunEvent>
{
    public void Configure(EntityTypeBuilder<RunEvent> b)
    {
        b.ToTable("run_events");
        b.HasKey(e => e.Id).HasName("pk_run_events");
        b.Property(e => e.Id).HasColumnName("id").ValueGeneratedOnAdd();
        b.Property(e => e.RunId).HasColumnName("run_id");
        // "from"/"to" are SQL keywords; the suffix spares every query the quoting.
        b.Property(e => e.From).HasColumnName("from_state");
        b.Property(e => e.To).HasColumnName("to_state");
        b.Property(e => e.Reason).HasColumnName("reason");
        b.Property(e => e.At).HasColumnName("at");
        b.HasOne<Run>().WithMany().HasForeignKey(e => e.RunId)
            .HasConstraintName("fk_run_events_runs_run_id")
            .OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(e => new { e.RunId, e.Id }, "ix_run_events_run_id_id");
    }
}
