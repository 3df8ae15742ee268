using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Runs;

namespace Runway.Api;

/// <summary>
/// What a batch is now, from its runs: counts per state by ONE grouped query over the runs' batch index (for a
/// whole page of batches at once), and the batch's state from those counts. Nothing about a batch's progress is
/// stored, so it can never disagree with its runs.
/// </summary>
public static class BatchQuery
{
    /// <summary>Failed runs listed at most in a <c>partly_failed</c> batch's answer.</summary>
    public const int MaxFailedListed = 1000;

    /// <summary>The caller's batches; an admin's: everyone's (as <see cref="RunQuery.VisibleTo"/>).</summary>
    public static IQueryable<Batch> VisibleTo(RunwayDb db, ClaimsPrincipal user)
    {
        var me = Caller.NameOf(user);
        return Caller.IsAdmin(user) ? db.Batches.AsNoTracking() : db.Batches.AsNoTracking().Where(b => b.Owner == me);
    }

    /// <summary>The batch when the caller may see it; another user's is as absent as a missing one (404).</summary>
    public static Task<Batch?> FindAsync(RunwayDb db, ClaimsPrincipal user, string id, CancellationToken ct) =>
        VisibleTo(db, user).FirstOrDefaultAsync(b => b.Id == id, ct);

    /// <summary>Each batch's runs per state, one grouped query for all of <paramref name="ids"/>.</summary>
    public static async Task<Dictionary<string, Dictionary<RunState, int>>> CountsAsync(RunwayDb db, IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        var rows = await db.Runs.AsNoTracking()
            .Where(r => r.BatchId != null && ids.Contains(r.BatchId))
            .GroupBy(r => new { r.BatchId, r.State })
            .Select(g => new { g.Key.BatchId, g.Key.State, Count = g.Count() })
            .ToListAsync(ct);
        var counts = ids.ToDictionary(id => id, _ => new Dictionary<RunState, int>(), StringComparer.Ordinal);
        foreach (var row in rows)
        {
            counts[row.BatchId!][row.State] = row.Count;
        }
        return counts;
    }

    /// <summary>
    /// <c>running</c> while any run is queued or running; then <c>succeeded</c> when all did, <c>canceled</c> when some
    /// were canceled and none failed, <c>failed</c> when none succeeded, else <c>partly_failed</c>.
    /// </summary>
    public static string StateOf(IReadOnlyDictionary<RunState, int> counts)
    {
        int Of(RunState s) => counts.GetValueOrDefault(s);
        var total = counts.Values.Sum();
        var failed = total - Of(RunState.Succeeded) - Of(RunState.Canceled) - Of(RunState.Queued) - Of(RunState.Running);
        return (Of(RunState.Queued) + Of(RunState.Running)) switch
        {
            > 0 => "running",
            _ when Of(RunState.Succeeded) == total => "succeeded",
            _ when failed == 0 => "canceled",
            _ when Of(RunState.Succeeded) == 0 => "failed",
            _ => "partly_failed",
        };
    }

    /// <summary>The runs of a partly failed batch that did not succeed and were not canceled, oldest first, at most <see cref="MaxFailedListed"/>.</summary>
    public static Task<List<string>> FailedRunIdsAsync(RunwayDb db, string id, CancellationToken ct) =>
        db.Runs.AsNoTracking()
            .Where(r => r.BatchId == id && r.State != RunState.Succeeded && r.State != RunState.Canceled && r.State != RunState.Queued && r.State != RunState.Running)
            .OrderBy(r => r.Id).Select(r => r.Id).Take(MaxFailedListed).ToListAsync(ct);

    public static async Task<BatchResponse> ResponseAsync(RunwayDb db, Batch batch, IReadOnlyDictionary<RunState, int> counts, CancellationToken ct)
    {
        var state = StateOf(counts);
        var failed = state == "partly_failed" ? await FailedRunIdsAsync(db, batch.Id, ct) : null;
        return BatchResponse.From(batch, counts, state, failed);
    }
}

/// <summary>A batch as the API returns it; <c>runs</c> and <c>next_cursor</c> only on GET /api/v1/batches/{id}.</summary>
public sealed record BatchResponse(
    string Id,
    string? Name,
    IReadOnlyDictionary<string, string> Tags,
    string Owner,
    DateTimeOffset CreatedAt,
    bool? Cache,
    IReadOnlyList<string> Pipelines,
    string State,
    int Total,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyList<string>? FailedRunIds,
    IReadOnlyList<RunResponse>? Runs = null,
    string? NextCursor = null)
{
    public static BatchResponse From(Batch batch, IReadOnlyDictionary<RunState, int> counts, string state, IReadOnlyList<string>? failed) => new(
        batch.Id,
        batch.Name,
        JsonSerializer.Deserialize<Dictionary<string, string>>(batch.TagsJson) ?? [],
        batch.Owner,
        batch.CreatedAt,
        batch.Cache,
        JsonSerializer.Deserialize<List<string>>(batch.PipelinesJson) ?? [],
        state,
        counts.Values.Sum(),
        RunStates.All.ToDictionary(s => s.ToWire(), s => counts.GetValueOrDefault(s)),
        failed);
}

public sealed record BatchListResponse(IReadOnlyList<BatchResponse> Batches, string? NextCursor);

public sealed record SubmitBatchRequest(
    string? Pipeline,
    List<System.Text.Json.Nodes.JsonObject?>? Rows,
    List<string?>? Pipelines,
    System.Text.Json.Nodes.JsonObject? Params,
    string? Name,
    Dictionary<string, string>? Tags,
    bool? Cache);
