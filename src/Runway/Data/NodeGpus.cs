using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Runway.Runs;

namespace Runway.Data;

/// <summary>One of a node's GPUs (<c>Runway:Gpus</c>) and the run that holds it, or null when it is free.</summary>
public sealed record NodeGpu(string Id, string? Run);

/// <summary>
/// A node's GPUs as the nodes table keeps them (nodes.gpus, JSON, in configured order): written by the node at
/// registration and with each heartbeat, read by the node list, the queue view and a queued GPU run's reason.
/// A holder is only as fresh as the last heartbeat, so readers keep it only while its run is still running there.
/// </summary>
public static class NodeGpus
{
    public static string Serialize(IReadOnlyDictionary<string, string?> use) =>
        use.Count == 0 ? "" : JsonSerializer.Serialize(use.Select(u => new NodeGpu(u.Key, u.Value)).ToList());

    public static IReadOnlyList<NodeGpu> Parse(string stored)
    {
        if (string.IsNullOrEmpty(stored))
        {
            return [];
        }
        try
        {
            return JsonSerializer.Deserialize<List<NodeGpu>>(stored) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>Every run some node says holds a GPU.</summary>
    public static IReadOnlyList<string> Holders(IEnumerable<NodeRecord> nodes) =>
        [.. nodes.SelectMany(n => Parse(n.Gpus)).Select(g => g.Run).OfType<string>().Distinct(StringComparer.Ordinal)];

    /// <summary>The node's GPUs with each holder kept only while that run still runs (<paramref name="running"/>, run id → node) on it.</summary>
    public static IReadOnlyList<NodeGpu> Current(NodeRecord node, IReadOnlyDictionary<string, string?> running) =>
        [.. Parse(node.Gpus).Select(g => g.Run is { } run && running.TryGetValue(run, out var on) && on == node.Name ? g : g with { Run = null })];

    /// <summary>The nodes' GPUs, each holder kept only while its run still runs on that node: one query over the holders.</summary>
    public static async Task<IReadOnlyDictionary<string, IReadOnlyList<NodeGpu>>> CurrentAsync(RunwayDb db, IReadOnlyList<NodeRecord> nodes, CancellationToken ct)
    {
        var holders = Holders(nodes);
        var running = holders.Count == 0 ? new Dictionary<string, string?>()
            : await db.Runs.AsNoTracking().Where(r => holders.Contains(r.Id) && r.State == RunState.Running)
                .ToDictionaryAsync(r => r.Id, r => r.Node, ct);
        return nodes.ToDictionary(n => n.Name, n => Current(n, running), StringComparer.Ordinal);
    }
}
