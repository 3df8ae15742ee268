using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Runway.Data;

/// <summary>A live node: which process holds the name, from which data directory, and when it last said so.</summary>
public sealed class NodeRecord
{
    public required string Name { get; set; }
    public required string Instance { get; set; }
    public required string DataDirectory { get; set; }
    public DateTimeOffset HeartbeatAt { get; set; }
}

internal sealed class NodeConfiguration : IEntityTypeConfiguration<NodeRecord>
{
    public void Configure(EntityTypeBuilder<NodeRecord> b)
    {
        b.ToTable("nodes");
        b.HasKey(n => n.Name).HasName("pk_nodes");
        b.Property(n => n.Name).HasColumnName("name").ValueGeneratedNever();
        b.Property(n => n.Instance).HasColumnName("instance");
        b.Property(n => n.DataDirectory).HasColumnName("data_directory");
        b.Property(n => n.HeartbeatAt).HasColumnName("heartbeat_at");
    }
}

/// <summary>
/// One live process per node name, across every server sharing the database (the data directory's lock,
/// <see cref="NodeIdentity"/>, covers only one machine). A process holds its name by a heartbeat; another
/// may take the name over when the heartbeat is older than <see cref="StaleAfter"/>, or at once when it
/// comes from the same data directory, whose lock it holds, so the old holder is dead.
/// </summary>
public sealed class NodeRegistry(IDbContextFactory<RunwayDb> contexts, TimeProvider clock)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan StaleAfter = 3 * Interval;

    /// <summary>This process, as the nodes table knows it.</summary>
    public string Instance { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Takes the name for this process, or throws <see cref="NodeInUseException"/> when another live one holds it.</summary>
    public async Task ClaimAsync(string name, string dataDirectory, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var cutoff = now - StaleAfter;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var taken = await db.Nodes
            .Where(n => n.Name == name && (n.Instance == Instance || n.DataDirectory == dataDirectory || n.HeartbeatAt < cutoff))
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.Instance, Instance).SetProperty(n => n.DataDirectory, dataDirectory).SetProperty(n => n.HeartbeatAt, now), ct);
        if (taken == 1)
        {
            return;
        }
        db.Nodes.Add(new NodeRecord { Name = name, Instance = Instance, DataDirectory = dataDirectory, HeartbeatAt = now });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e)
        {
            var holder = await db.Nodes.AsNoTracking().FirstOrDefaultAsync(n => n.Name == name, ct);
            throw new NodeInUseException(
                $"another live Runway server is node '{name}' (data directory {holder?.DataDirectory}, last heartbeat {holder?.HeartbeatAt:O}); "
                + "two servers under one name would take each other's runs. Give this one another --node; "
                + $"if that server is gone, its name is free {StaleAfter.TotalSeconds:0} seconds after its last heartbeat.", e);
        }
    }

    /// <summary>Renews this process's heartbeat; false when another process has taken the name over.</summary>
    public async Task<bool> RenewAsync(string name, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await db.Nodes.Where(n => n.Name == name && n.Instance == Instance)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.HeartbeatAt, now), ct) == 1;
    }

    /// <summary>Frees the name at a clean stop, so that a server started under it elsewhere need not wait.</summary>
    public async Task ReleaseAsync(string name, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        await db.Nodes.Where(n => n.Name == name && n.Instance == Instance).ExecuteDeleteAsync(ct);
    }
}
