using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Runway.Data;

/// <summary>
/// A background job that must run on one node at a time, once per interval however many nodes share the database
/// (the retention sweep): who holds it, until when, and when it is next due. One row per job, made by its migration.
/// </summary>
public sealed class JobRecord
{
    public required string Name { get; set; }
    public string? LockedBy { get; set; }
    public DateTimeOffset LockedUntil { get; set; }
    public DateTimeOffset NextAt { get; set; }
}

/// <summary>
/// Claims a job's row by compare-and-set (river's leader election and Hangfire's distributed lock in one small
/// table): <c>UPDATE jobs … WHERE name = @job AND locked_until &lt;= now [AND next_at &lt;= now]</c>, decided by the
/// affected-row count, so of several nodes asking at once exactly one gets it. A holder that dies loses it when
/// <c>locked_until</c> passes. The same statement on SQLite (one node) and PostgreSQL (several).
/// </summary>
public sealed class JobLeases(IDbContextFactory<RunwayDb> contexts, TimeProvider clock)
{
    public const string Retention = "retention";

    /// <summary>Takes the job for <paramref name="holder"/> for at most <paramref name="hold"/> when it is free and due (or free, when <paramref name="evenIfNotDue"/>).</summary>
    public async Task<bool> TryClaimAsync(string job, string holder, TimeSpan hold, bool evenIfNotDue, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var until = now + hold;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var affected = await db.Jobs
            .Where(j => j.Name == job && j.LockedUntil <= now && (evenIfNotDue || j.NextAt <= now))
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.LockedBy, holder).SetProperty(j => j.LockedUntil, until), ct);
        return affected == 1;
    }

    /// <summary>Lets the job go and makes it due again after <paramref name="interval"/>; only its holder can.</summary>
    public async Task ReleaseAsync(string job, string holder, TimeSpan interval, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var next = now + interval;
        await using var db = await contexts.CreateDbContextAsync(ct);
        await db.Jobs.Where(j => j.Name == job && j.LockedBy == holder)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.LockedBy, (string?)null).SetProperty(j => j.LockedUntil, now).SetProperty(j => j.NextAt, next), ct);
    }
}

// Keep in step with both Migrations/*/ sets (…_Retention.cs).
internal sealed class JobConfiguration : IEntityTypeConfiguration<JobRecord>
{
    public void Configure(EntityTypeBuilder<JobRecord> b)
    {
        b.ToTable("jobs");
        b.HasKey(j => j.Name).HasName("pk_jobs");
        b.Property(j => j.Name).HasColumnName("name").ValueGeneratedNever();
        b.Property(j => j.LockedBy).HasColumnName("locked_by");
        b.Property(j => j.LockedUntil).HasColumnName("locked_until");
        b.Property(j => j.NextAt).HasColumnName("next_at");
    }
}
