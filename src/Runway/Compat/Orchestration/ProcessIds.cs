using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Runway.Data;
using Runway.Runs;

namespace Runway.Compat.Orchestration;

/// <summary>A run's integer id in Orchestration's view: LIneA's clients build <c>/api/processes/{id}/</c> from an integer.</summary>
public sealed class ProcessId
{
    public long Id { get; init; }
    public required string RunId { get; init; }
}

/// <summary>
/// Gives each run shown in the Orchestration view a stable integer, from one sequence (an identity column), the first
/// time the view shows it. The integers are not secret (they count up), so they decide nothing: a process is found by
/// its integer and then checked as any run is, so another user's answers 404, as a missing one does.
/// </summary>
public sealed class ProcessIds(IDbContextFactory<RunwayDb> databases)
{
    /// <summary>The integers of these runs, giving the ones without one theirs in the order given.</summary>
    public async Task<Dictionary<string, long>> IdsOfAsync(IReadOnlyList<string> runIds, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var ids = await db.Set<ProcessId>().AsNoTracking().Where(p => runIds.Contains(p.RunId)).ToDictionaryAsync(p => p.RunId, p => p.Id, ct);
        foreach (var runId in runIds.Where(r => !ids.ContainsKey(r)))
        {
            ids[runId] = await AssignAsync(runId, ct);
        }
        return ids;
    }

    public async Task<long> IdOfAsync(string runId, CancellationToken ct) => (await IdsOfAsync([runId], ct))[runId];

    /// <summary>The run an integer names, or null.</summary>
    public async Task<string?> RunIdOfAsync(long id, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        return await db.Set<ProcessId>().AsNoTracking().Where(p => p.Id == id).Select(p => p.RunId).FirstOrDefaultAsync(ct);
    }

    private async Task<long> AssignAsync(string runId, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var row = new ProcessId { RunId = runId };
        db.Add(row);
        try
        {
            await db.SaveChangesAsync(ct);
            return row.Id;
        }
        catch (DbUpdateException)
        {
            // Another request gave it one first (run_id is unique): that one.
            await using var again = await databases.CreateDbContextAsync(ct);
            return await again.Set<ProcessId>().AsNoTracking().Where(p => p.RunId == runId).Select(p => p.Id).FirstAsync(ct);
        }
    }
}

// Keep in step with both Migrations/*/ sets (…_OrchestrationIds.cs).
internal sealed class ProcessIdConfiguration : IEntityTypeConfiguration<ProcessId>
{
    public void Configure(EntityTypeBuilder<ProcessId> b)
    {
        b.ToTable("orchestration_ids");
        b.HasKey(p => p.Id).HasName("pk_orchestration_ids");
        b.Property(p => p.Id).HasColumnName("id").ValueGeneratedOnAdd();
        b.Property(p => p.RunId).HasColumnName("run_id");
        b.HasIndex(p => p.RunId, "ux_orchestration_ids_run_id").IsUnique();
        b.HasOne<Run>().WithMany().HasForeignKey(p => p.RunId)
            .HasConstraintName("fk_orchestration_ids_runs_run_id")
            .OnDelete(DeleteBehavior.Cascade);
    }
}
