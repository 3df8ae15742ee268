using Runway.Runs;

namespace Runway.Execution.Local;

/// <summary>
/// This node's GPUs (<c>Runway:Gpus</c>, device ids as CUDA numbers them) and which run holds each. A local
/// run's GPUs are reserved when it is claimed, never before: the claim takes a run asking for N only while N
/// are free (the store's claim, one GPU run per statement under the node's claim lock), so no GPU is ever
/// reserved twice. The run gets exactly its ids as CUDA_VISIBLE_DEVICES; they are free again once it ended.
/// </summary>
public sealed class GpuPool
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, string> holders = new(StringComparer.Ordinal);

    public GpuPool(IReadOnlyList<string> ids)
    {
        if (ids.Any(id => id.Length == 0 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or ':' or '.')) || ids.Distinct(StringComparer.Ordinal).Count() != ids.Count)
        {
            throw new ArgumentException($"GPU ids must be distinct, non-empty letters, digits and - : . (got {string.Join(",", ids)})", nameof(ids));
        }
        Ids = ids;
    }

    /// <summary>Ids from <c>Runway:Gpus</c>: "0,1" (commas, spaces allowed), or empty for none.</summary>
    public static GpuPool Parse(string? configured) =>
        new([.. (configured ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)]);

    public IReadOnlyList<string> Ids { get; }

    public int Free
    {
        get
        {
            lock (gate)
            {
                return Ids.Count - holders.Count;
            }
        }
    }

    /// <summary>Each GPU id and the run that holds it, or null when it is free.</summary>
    public IReadOnlyDictionary<string, string?> Use
    {
        get
        {
            lock (gate)
            {
                return Ids.ToDictionary(id => id, id => holders.GetValueOrDefault(id), StringComparer.Ordinal);
            }
        }
    }

    /// <summary>How many GPUs a claimed run of this node's pool asks for: local runs only (Slurm has its own).</summary>
    public static int Asked(Run run) =>
        run.Executor == LocalExecutor.ExecutorName ? RunSpecJson.Deserialize(run.SpecJson).Resources.Gpus : 0;

    /// <summary>Reserves <paramref name="count"/> free GPUs for the run (the lowest ids first); false when fewer are free.</summary>
    public bool TryReserve(string runId, int count)
    {
        lock (gate)
        {
            var free = Ids.Where(id => !holders.ContainsKey(id)).Take(count).ToList();
            if (free.Count < count)
            {
                return false;
            }
            foreach (var id in free)
            {
                holders[id] = runId;
            }
            return true;
        }
    }

    /// <summary>After a restart: the run still holds the GPUs it was started with, those that are this node's and free.</summary>
    public void Hold(string runId, IEnumerable<string> ids)
    {
        lock (gate)
        {
            foreach (var id in ids.Where(i => Ids.Contains(i) && !holders.ContainsKey(i)))
            {
                holders[id] = runId;
            }
        }
    }

    /// <summary>The run's GPUs, in id order.</summary>
    public IReadOnlyList<string> Of(string runId)
    {
        lock (gate)
        {
            return [.. Ids.Where(id => holders.GetValueOrDefault(id) == runId)];
        }
    }

    public void Release(string runId)
    {
        lock (gate)
        {
            foreach (var id in holders.Where(h => h.Value == runId).Select(h => h.Key).ToList())
            {
                holders.Remove(id);
            }
        }
    }

    /// <summary>The run's GPUs as CUDA_VISIBLE_DEVICES lists them.</summary>
    public static string Visible(IEnumerable<string> ids) => string.Join(',', ids);
}
