using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;
using Runway.Runs;

namespace Runway.Api;

/// <summary>
/// POST /api/v1/runs/cancel's filter. Every field narrows; <c>{}</c> (no field) means every active run of the caller's,
/// as JAWS's <c>cancel-all</c>: the body must be there (no body is a 400), so an empty filter is always asked for
/// explicitly. <see cref="Owner"/> is an admin's only; without it an admin cancels their own runs, never everyone's.
/// </summary>
public sealed record RunCancelFilter(
    string? Pipeline,
    Dictionary<string, string>? Tags,
    string? BatchId,
    string? State,
    string? Owner);

/// <summary>How many active runs a bulk cancel reached: canceled while queued, and running ones asked to stop.</summary>
public sealed record RunCancelResult(int Canceled, int CanceledQueued, int StopRequested, IReadOnlyList<string> RunIds);

/// <summary>
/// Bulk cancel: the matching active runs' ids in one query, then <see cref="IRunStore.CancelManyAsync"/> (set-based:
/// queued ones end at once; running ones get a cancel request), then this node's own running ones are stopped through
/// the one stop path (<see cref="RunScheduler.CancelAsync"/>); other nodes stop theirs when they see the request.
/// </summary>
public sealed class RunBulkCancel(IDbContextFactory<RunwayDb> databases, IRunStore store, RunScheduler scheduler, AuditTrail audit)
{
    private static readonly RunState[] Active = [RunState.Queued, RunState.Running];

    /// <summary>The result, or null with <paramref name="errors"/> filled when the filter is malformed.</summary>
    public async Task<RunCancelResult?> CancelAsync(RunCancelFilter filter, HttpContext http, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        var me = Caller.NameOf(http.User);
        var owner = string.IsNullOrEmpty(filter.Owner) ? me : filter.Owner;
        if (owner != me && !Caller.IsAdmin(http.User))
        {
            errors["owner"] = ["only admins may cancel another user's runs"];
        }
        if (!string.IsNullOrEmpty(filter.State) && !(RunStates.TryParse(filter.State, out var wanted) && Active.Contains(wanted)))
        {
            errors["state"] = ["must be 'queued' or 'running': only active runs can be canceled"];
        }
        await using var db = await databases.CreateDbContextAsync(ct);
        var state = string.IsNullOrEmpty(filter.State) ? "queued,running" : filter.State;
        var query = RunQuery.Filter(db.Runs.AsNoTracking(), new RunFilter(state, filter.Pipeline, owner, BatchId: filter.BatchId), null, errors);
        foreach (var (key, value) in filter.Tags ?? [])
        {
            query = query is null ? null : RunQuery.Filter(query, new RunFilter(Tag: $"{key}:{value}"), null, errors);
        }
        if (errors.Count > 0 || query is null)
        {
            return null;
        }
        var found = await query.Select(r => new { r.Id, r.Pipeline, r.Executor }).ToDictionaryAsync(r => r.Id, ct);
        var (canceled, requested) = await store.CancelManyAsync(found.Keys, RunCancel.CanceledBy(http.User, "bulk cancel"), ct);
        foreach (var id in canceled)
        {
            RunwayMetrics.CanceledQueued(found[id].Pipeline, found[id].Executor);
        }
        foreach (var id in requested)
        {
            await scheduler.CancelAsync(id, ct);
        }
        await audit.RecordAsync(http, "runs.cancel", $"{canceled.Count + requested.Count} runs of {owner}", ct);
        return new RunCancelResult(canceled.Count + requested.Count, canceled.Count, requested.Count, [.. canceled, .. requested]);
    }
}
