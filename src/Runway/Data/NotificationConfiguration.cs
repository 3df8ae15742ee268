using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Runway.Runs;

namespace Runway.Data;

/// <summary>
/// The outbox: one row per target of a run's <c>notify</c>, written in the transaction that stores the run, so it
/// is as durable as the run. It becomes due when the run ends (its <c>finished_at</c>): the end of a run writes
/// nothing more, and every way a run can end (its process, a cancel, a rescue) makes its notifications due.
/// </summary>
public sealed class Notification
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string Skipped = "skipped";

    /// <summary>Also the webhook's <c>webhook-id</c>: the same on every attempt.</summary>
    public required string Id { get; init; }
    public required string RunId { get; init; }
    public required string Owner { get; init; }

    /// <summary><see cref="NotifyTarget.Webhook"/> or <see cref="NotifyTarget.Email"/>.</summary>
    public required string Kind { get; init; }
    public required string Target { get; init; }

    /// <summary><see cref="Pending"/> until delivered, given up on (<see cref="Failed"/>) or <see cref="Skipped"/>.</summary>
    public string State { get; set; } = Pending;
    public int Attempts { get; set; }

    /// <summary>Not before this (the back-off after a failed attempt); null: as soon as the run has ended.</summary>
    public DateTimeOffset? NextAttemptAt { get; set; }

    /// <summary>The delivery worker that holds it, until when (compare-and-set, as <see cref="JobLeases"/>).</summary>
    public string? LockedBy { get; set; }
    public DateTimeOffset? LockedUntil { get; set; }

    public int? LastStatus { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A user's notification defaults and webhook signing secret (<c>/api/v1/me/notify</c>).</summary>
public sealed class NotifySettings
{
    public required string Username { get; init; }

    /// <summary><c>whsec_</c> and base64 of 32 random bytes (Standard Webhooks). Kept as is: signing needs it.</summary>
    public required string WebhookSecret { get; set; }

    /// <summary>Default email addresses, as a JSON array.</summary>
    public string EmailJson { get; set; } = "[]";
    public string? Webhook { get; set; }
}

// Keep in step with both Migrations/*/ sets (…_Notifications.cs).
internal sealed class NotificationConfiguration : IEntityTypeConfiguration<Notification>
{
    public void Configure(EntityTypeBuilder<Notification> b)
    {
        b.ToTable("notifications");
        b.HasKey(n => n.Id).HasName("pk_notifications");
        b.Property(n => n.Id).HasColumnName("id").ValueGeneratedNever();
        b.Property(n => n.RunId).HasColumnName("run_id");
        b.Property(n => n.Owner).HasColumnName("owner");
        b.Property(n => n.Kind).HasColumnName("kind");
        b.Property(n => n.Target).HasColumnName("target");
        b.Property(n => n.State).HasColumnName("state");
        b.Property(n => n.Attempts).HasColumnName("attempts");
        b.Property(n => n.NextAttemptAt).HasColumnName("next_attempt_at");
        b.Property(n => n.LockedBy).HasColumnName("locked_by");
        b.Property(n => n.LockedUntil).HasColumnName("locked_until");
        b.Property(n => n.LastStatus).HasColumnName("last_status");
        b.Property(n => n.LastError).HasColumnName("last_error");
        b.Property(n => n.DeliveredAt).HasColumnName("delivered_at");
        b.Property(n => n.CreatedAt).HasColumnName("created_at");
        b.HasOne<Run>().WithMany().HasForeignKey(n => n.RunId)
            .HasConstraintName("fk_notifications_runs_run_id")
            .OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(n => new { n.RunId, n.Id }, NotificationIndexes.RunId);
        // The delivery worker's scan: only what is still to send (delivered rows leave the index).
        b.HasIndex(n => new { n.NextAttemptAt, n.Id }, NotificationIndexes.Pending).HasFilter("state = 'pending'");
    }
}

internal sealed class NotifySettingsConfiguration : IEntityTypeConfiguration<NotifySettings>
{
    public void Configure(EntityTypeBuilder<NotifySettings> b)
    {
        b.ToTable("notify_settings");
        b.HasKey(s => s.Username).HasName("pk_notify_settings");
        b.Property(s => s.Username).HasColumnName("username").ValueGeneratedNever();
        b.Property(s => s.WebhookSecret).HasColumnName("webhook_secret");
        b.Property(s => s.EmailJson).HasColumnName("email_json");
        b.Property(s => s.Webhook).HasColumnName("webhook");
    }
}

internal static class NotificationIndexes
{
    public const string RunId = "ix_notifications_run_id_id";
    public const string Pending = "ix_notifications_pending";
}
