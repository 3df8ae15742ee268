using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Runway.Data;

/// <summary>A node: which process holds the name, from which data directory, what it runs, and when it last said so.</summary>
public sealed class NodeRecord
{
    public required string Name { get; set; }
    public required string Instance { get; set; }
    public required string DataDirectory { get; set; }
    public DateTimeOffset HeartbeatAt { get; set; }
    public DateTimeOffset StartedAt { get; set; }

    /// <summary><see cref="NodeStates"/>: active or lost as stored (whether it heartbeats); lists show draining for a live <see cref="Draining"/> node.</summary>
    public string State { get; set; } = NodeStates.Active;

    /// <summary>An admin drained it: it claims no runs. Kept across restarts of the node (as Slurm keeps DRAIN) until undrained.</summary>
    public bool Draining { get; set; }

    /// <summary>Its GPUs and the run holding each, as of its last heartbeat (<see cref="NodeGpus"/>); empty when it has none.</summary>
    public string Gpus { get; set; } = "";

    /// <summary><see cref="NodeRoles"/>: serve or worker.</summary>
    public string Role { get; set; } = NodeRoles.Serve;

    /// <summary>The executors it claims runs of, space-separated.</summary>
    public string Executors { get; set; } = "";

    /// <summary>How many runs it executes at once.</summary>
    public int Capacity { get; set; }

    /// <summary>The Runway version it runs.</summary>
    public string Version { get; set; } = "";
}

// Keep in step with both Migrations/*/ sets (…_Nodes.cs, …_NodeLeases.cs, …_NodeGpusAndDrain.cs).
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
        b.Property(n => n.StartedAt).HasColumnName("started_at");
        b.Property(n => n.State).HasColumnName("state");
        b.Property(n => n.Role).HasColumnName("role");
        b.Property(n => n.Executors).HasColumnName("executors");
        b.Property(n => n.Capacity).HasColumnName("capacity");
        b.Property(n => n.Version).HasColumnName("version");
        b.Property(n => n.Draining).HasColumnName("draining");
        b.Property(n => n.Gpus).HasColumnName("gpus");
    }
}
