using Runway.Auth;
using Runway.Runs;

namespace Runway.Api;

/// <summary>Cancelling a run, for POST …/cancel and the run page's button: who may, the cancel itself, its audit entry.</summary>
public sealed class RunCancel(IRunStore store, RunScheduler scheduler, AuditTrail audit)
{
    /// <summary>The run after the cancel (unchanged when already final), or null when there is no such run the caller may see.</summary>
    public async Task<Run?> CancelAsync(string id, HttpContext http, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { } owned || !Caller.CanSee(http.User, owned.Owner)
            || await scheduler.CancelAsync(id, cancellationToken) is not { } run)
        {
            return null;
        }
        await audit.RecordAsync(http, "run.cancel", id, cancellationToken);
        return run;
    }
}
