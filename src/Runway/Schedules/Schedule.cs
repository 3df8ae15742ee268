using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Runway.Schedules;

/// <summary>
/// A cron schedule owned by a user: at each fire time of <see cref="Cron"/> in <see cref="TimeZone"/> it submits a run of
/// <see cref="Pipeline"/> with <see cref="ParamsJson"/> (checked again at each fire). <see cref="NextFireAt"/> is the one
/// fire still to make (null while disabled); the Last… fields say what the latest fire did.
/// </summary>
public sealed class Schedule
{
    public required string Id { get; init; }
    public required string Owner { get; init; }
    public required string Name { get; set; }
    public required string Pipeline { get; set; }

    /// <summary>The parameters as the user gave them (defaults are filled in at each fire, by the pipeline of then).</summary>
    public string ParamsJson { get; set; } = "{}";

    public required string Cron { get; set; }

    /// <summary>An IANA time zone id; fire times follow its daylight-saving changes (Cronos).</summary>
    public string TimeZone { get; set; } = "UTC";

    public bool Enabled { get; set; } = true;

    /// <summary><c>none</c>: fire times missed while no node ran are skipped; <c>one</c>: they make one run, at the next pass.</summary>
    public string CatchUp { get; set; } = ScheduleRules.CatchUpOne;

    /// <summary><c>allow</c>: fire whatever its earlier runs do; <c>skip</c>: no run while one of its earlier runs is still active.</summary>
    public string Overlap { get; set; } = ScheduleRules.OverlapAllow;

    public DateTimeOffset? NextFireAt { get; set; }

    /// <summary>The fire time the latest fire was for, what it did (<c>submitted</c>, <c>skipped</c>, <c>failed</c>) and why.</summary>
    public DateTimeOffset? LastFireFor { get; set; }
    public string? LastOutcome { get; set; }
    public string? LastDetail { get; set; }
    public string? LastRunId { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
}

// Keep in step with both Migrations/*/ sets (…_Schedules.cs).
internal sealed class ScheduleConfiguration : IEntityTypeConfiguration<Schedule>
{
    public void Configure(EntityTypeBuilder<Schedule> b)
    {
        b.ToTable("schedules");
        b.HasKey(s => s.Id).HasName("pk_schedules");
        b.Property(s => s.Id).HasColumnName("id").ValueGeneratedNever();
        b.Property(s => s.Owner).HasColumnName("owner");
        b.Property(s => s.Name).HasColumnName("name");
        b.Property(s => s.Pipeline).HasColumnName("pipeline");
        b.Property(s => s.ParamsJson).HasColumnName("params_json");
        b.Property(s => s.Cron).HasColumnName("cron");
        b.Property(s => s.TimeZone).HasColumnName("time_zone");
        b.Property(s => s.Enabled).HasColumnName("enabled");
        b.Property(s => s.CatchUp).HasColumnName("catch_up");
        b.Property(s => s.Overlap).HasColumnName("overlap");
        b.Property(s => s.NextFireAt).HasColumnName("next_fire_at");
        b.Property(s => s.LastFireFor).HasColumnName("last_fire_for");
        b.Property(s => s.LastOutcome).HasColumnName("last_outcome");
        b.Property(s => s.LastDetail).HasColumnName("last_detail");
        b.Property(s => s.LastRunId).HasColumnName("last_run_id");
        b.Property(s => s.CreatedAt).HasColumnName("created_at");
        b.Property(s => s.UpdatedAt).HasColumnName("updated_at");
        b.HasIndex(s => new { s.Owner, s.Id }, "ix_schedules_owner_id");
        // The loop's two questions: what is due, and when is the next one.
        b.HasIndex(s => s.NextFireAt, "ix_schedules_next_fire_at").HasFilter("next_fire_at IS NOT NULL");
    }
}
