using System.Security.Claims;
using Runway.Auth;
using Runway.Runs;

namespace Runway.Api;

/// <summary>Cancelling a run, for POST …/cancel and the run page's button: who may, the cancel itself, its audit entry.</summary>
public sealed class RunCancel(IRunStore store, RunScheduler scheduler, AuditTrail audit)
{
    /// <summary>
    /// The run after the cancel (unchanged when already final), or null when there is no such run the caller may see.
    /// 1. the store's cancel, as a bulk cancel's (<see cref="IRunStore.CancelManyAsync"/>): the run's history names who asked;
    /// 2. the scheduler's, which stops it when it runs on this node (asking again changes nothing) and settles a run
    ///    that moved meanwhile (claimed, handed back).
    /// </summary>
    public async Task<Run?> CancelAsync(string id, HttpContext http, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { } owned || !Caller.CanSee(http.User, owned.Owner))
        {
            return null;
        }
        if (owned.State is RunState.Queued or RunState.Running)
        {
            var (canceled, _) = await store.CancelManyAsync([id], CanceledBy(http.User), cancellationToken);
            if (canceled.Count == 1)
            {
                RunwayMetrics.CanceledQueued(owned.Pipeline, owned.Executor);
            }
        }
        if (await scheduler.CancelAsync(id, cancellationToken) is not { } run)
        {
            return null;
        }
        await audit.RecordAsync(http, "run.cancel", id, cancellationToken);
        return run;
    }

    /// <summary>The reason a run's history gives for a cancel: the user, and the OAuth client when a client's token asked.</summary>
    public static string CanceledBy(ClaimsPrincipal user, string? how = null)
    {
        var who = user.FindFirstValue("client_id") is { } client ? $"{Caller.NameOf(user)} (client {client})" : Caller.NameOf(user);
        return how is null ? $"canceled by {who}" : $"canceled by {who} ({how})";
    }
}
