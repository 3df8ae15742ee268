using Microsoft.EntityFrameworkCore;

namespace Runway.Data;

/// <summary>
/// One live process per node name, across every server sharing the database (the data directory's lock,
/// <see cref="NodeIdentity"/>, covers only one machine), and what <c>GET /api/v1/admin/nodes</c> lists. A process
/// holds its name by a heartbeat; another may take the name over when the heartbeat is older than the lease
/// timeout, or at once when it comes from the same data directory, whose lock it holds, so the old holder is dead.
/// </summary>
public sealed class NodeRegistry(IDbContextFactory<RunwayDb> contexts, TimeProvider clock, NodeSettings? settings = null, NodeLease? lease = null)
{
    public NodeSettings Settings { get; } = settings ?? new NodeSettings();

    /// <summary>This process, as the nodes table knows it: also the lease its runs carry (<see cref="NodeLease"/>).</summary>
    public string Instance { get; } = lease?.Id ?? NodeLease.New().Id;

    /// <summary>
    /// Takes the name for this process, or throws <see cref="NodeInUseException"/> when another live one holds it.
    /// A drained node stays drained (<see cref="NodeRecord.Draining"/>): an admin's drain outlives the node's restarts.
    /// </summary>
    public async Task ClaimAsync(string name, string dataDirectory, CancellationToken ct, NodeDescription? description = null)
    {
        var about = description ?? new NodeDescription(NodeRoles.Serve, [], 0, "");
        var gpus = about.Gpus ?? "";
        var now = clock.GetUtcNow();
        var cutoff = now - Settings.LeaseTimeout;
        var executors = string.Join(' ', about.Executors);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var taken = await db.Nodes
            .Where(n => n.Name == name && (n.Instance == Instance || n.Instance == "" || n.DataDirectory == dataDirectory || n.HeartbeatAt < cutoff || n.State == NodeStates.Lost))
            .ExecuteUpdateAsync(s => s
                .SetProperty(n => n.Instance, Instance).SetProperty(n => n.DataDirectory, dataDirectory).SetProperty(n => n.HeartbeatAt, now)
                .SetProperty(n => n.StartedAt, now).SetProperty(n => n.State, NodeStates.Active).SetProperty(n => n.Role, about.Role)
                .SetProperty(n => n.Executors, executors).SetProperty(n => n.Capacity, about.Capacity).SetProperty(n => n.Version, about.Version)
                .SetProperty(n => n.Gpus, gpus), ct);
        if (taken == 1)
        {
            return;
        }
        db.Nodes.Add(new NodeRecord
        {
            Name = name,
            Instance = Instance,
            DataDirectory = dataDirectory,
            HeartbeatAt = now,
            StartedAt = now,
            State = NodeStates.Active,
            Role = about.Role,
            Executors = executors,
            Capacity = about.Capacity,
            Version = about.Version,
            Gpus = gpus,
        });
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
                + $"if that server is gone, its name is free {Settings.LeaseTimeout.TotalSeconds:0} seconds after its last heartbeat.", e);
        }
    }

    /// <summary>
    /// Renews this process's heartbeat (and what it says of its GPUs, <see cref="NodeGpus"/>) and returns the node's
    /// state (<see cref="NodeStates"/>): draining when an admin asked so. A node declared lost while it was frozen
    /// becomes active again (its runs were taken over; their leases fence it off). Null when another process has
    /// taken the name over.
    /// </summary>
    public async Task<string?> RenewAsync(string name, CancellationToken ct, string? gpus = null)
    {
        var now = clock.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(ct);
        var mine = db.Nodes.Where(n => n.Name == name && n.Instance == Instance);
        var renewed = gpus is null
            ? await mine.ExecuteUpdateAsync(s => s.SetProperty(n => n.HeartbeatAt, now).SetProperty(n => n.State, NodeStates.Active), ct)
            : await mine.ExecuteUpdateAsync(s => s.SetProperty(n => n.HeartbeatAt, now).SetProperty(n => n.State, NodeStates.Active)
                .SetProperty(n => n.Gpus, gpus), ct);
        if (renewed == 0)
        {
            return null;
        }
        return await db.Nodes.Where(n => n.Name == name).Select(n => n.Draining).FirstOrDefaultAsync(ct) ? NodeStates.Draining : NodeStates.Active;
    }

    /// <summary>Marks lost every node whose heartbeat is older than the lease timeout; returns their names.</summary>
    public async Task<IReadOnlyList<string>> MarkLostAsync(CancellationToken ct)
    {
        var cutoff = clock.GetUtcNow() - Settings.LeaseTimeout;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var stale = await db.Nodes.Where(n => n.State != NodeStates.Lost && n.HeartbeatAt < cutoff).Select(n => n.Name).ToListAsync(ct);
        if (stale.Count > 0)
        {
            await db.Nodes.Where(n => stale.Contains(n.Name) && n.HeartbeatAt < cutoff)
                .ExecuteUpdateAsync(s => s.SetProperty(n => n.State, NodeStates.Lost), ct);
        }
        return stale;
    }

    /// <summary>
    /// Every node this database knows, by name, with the state a reader should see: lost when its heartbeat is stale
    /// (before a rescuer marks it), else draining when drained, else active.
    /// </summary>
    public async Task<IReadOnlyList<NodeRecord>> ListAsync(CancellationToken ct)
    {
        var cutoff = clock.GetUtcNow() - Settings.LeaseTimeout;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var nodes = await db.Nodes.AsNoTracking().OrderBy(n => n.Name).ToListAsync(ct);
        foreach (var node in nodes)
        {
            node.State = node.HeartbeatAt < cutoff || node.State == NodeStates.Lost ? NodeStates.Lost : node.Draining ? NodeStates.Draining : NodeStates.Active;
        }
        return nodes;
    }

    /// <summary>Drains a node (it finishes its runs and claims no more) or makes it active again; false when no such node is live.</summary>
    public async Task<bool> SetDrainingAsync(string name, bool draining, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var changed = await db.Nodes.Where(n => n.Name == name && n.State != NodeStates.Lost)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.Draining, draining), ct);
        return changed == 1;
    }

    /// <summary>
    /// Frees the name at a clean stop, so that a server started under it elsewhere need not wait. A drained node's row
    /// stays, held by no process, so that the node is still drained when it comes back.
    /// </summary>
    public async Task ReleaseAsync(string name, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var mine = db.Nodes.Where(n => n.Name == name && n.Instance == Instance);
        await mine.Where(n => n.Draining).ExecuteUpdateAsync(s => s.SetProperty(n => n.Instance, "").SetProperty(n => n.Gpus, ""), ct);
        await mine.Where(n => !n.Draining).ExecuteDeleteAsync(ct);
    }
}

/// <summary>What a node says of itself when it registers.</summary>
public sealed record NodeDescription(string Role, IReadOnlyList<string> Executors, int Capacity, string Version, string? Gpus = null);

/// <summary>
/// The lease this process's claims carry (runs.lease): a new id per process, so a node that comes back under the
/// same name after its runs were taken over holds none of their leases, and can write none of them.
/// </summary>
public sealed record NodeLease(string Id, TimeSpan Timeout)
{
    public static NodeLease New(TimeSpan? timeout = null) => new(Guid.NewGuid().ToString("N"), timeout ?? new NodeSettings().LeaseTimeout);
}

/// <summary><c>Runway:Nodes</c>: how often a node heartbeats, and how long its leases last without one.</summary>
public sealed record NodeSettings
{
    public const string Section = "Runway:Nodes";

    /// <summary>How often a node renews its heartbeat and its runs' leases, and looks for expired leases to take over.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a node's leases last without a heartbeat: then it is lost and other nodes take its runs over.</summary>
    public TimeSpan LeaseTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The safety net behind LISTEN/NOTIFY (PostgreSQL): how often a node looks for work it was not told of.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);
}

public static class NodeStates
{
    public const string Active = "active";
    public const string Draining = "draining";
    public const string Lost = "lost";
}

public static class NodeRoles
{
    /// <summary><c>runway serve</c>: the API, the web UI, and runs.</summary>
    public const string Serve = "serve";

    /// <summary><c>runway worker</c>: runs only (and a health endpoint).</summary>
    public const string Worker = "worker";
}
