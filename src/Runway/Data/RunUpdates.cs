using Microsoft.EntityFrameworkCore;
using Runway.Runs;

namespace Runway.Data;

/// <summary>The compare-and-set behind <see cref="RunStore.TryTransitionAsync"/>, with the columns each move sets.</summary>
internal static class RunUpdates
{
    /// <summary>Returns the state the run left, or null when it was in none of <paramref name="allowed"/>.</summary>
    public static async Task<RunState?> CompareAndSetAsync(
        RunwayDb db, RunTransition transition, RunState[] allowed, DateTimeOffset now, CancellationToken ct)
    {
        // The common case names one from-state: one UPDATE decides, and its row count says who won.
        if (allowed.Length == 1)
        {
            return await TrySetAsync(db, transition, allowed[0], now, ct) ? allowed[0] : null;
        }
        // Several from-states: the event must record the actual one, so read it and CAS on exactly that.
        // If it moved in between (only possible on PostgreSQL) to another allowed state, try again.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var current = await db.Runs.Where(r => r.Id == transition.RunId)
                .Select(r => (RunState?)r.State).FirstOrDefaultAsync(ct);
            if (current is not { } state || !allowed.Contains(state))
            {
                return null;
            }
            if (await TrySetAsync(db, transition, state, now, ct))
            {
                return state;
            }
        }
        return null;
    }

    private static async Task<bool> TrySetAsync(RunwayDb db, RunTransition t, RunState from, DateTimeOffset now, CancellationToken ct)
    {
        var run = db.Runs.Where(r => r.Id == t.RunId && r.State == from);
        if (t.To == RunState.Queued)
        {
            // A run with a cancel request is never queued again (RunHandBack ends it canceled instead).
            run = run.Where(r => r.CancelRequestedAt == null);
        }
        var affected = await run.ExecuteUpdateAsync(s =>
        {
            s.SetProperty(r => r.State, t.To);
            if (t.To == RunState.Running)
            {
                s.SetProperty(r => r.StartedAt, now);
            }
            if (t.To == RunState.Queued)
            {
                // Handed back before it started: the next claim starts from a clean slate.
                s.SetProperty(r => r.Node, (string?)null);
                s.SetProperty(r => r.NativeId, (string?)null);
                s.SetProperty(r => r.StartedAt, (DateTimeOffset?)null);
            }
            if (t.To.IsFinal())
            {
                s.SetProperty(r => r.FinishedAt, now);
            }
            if (t.ExitCode is { } exitCode)
            {
                s.SetProperty(r => r.ExitCode, exitCode);
            }
            if (t.Message is { } message)
            {
                s.SetProperty(r => r.Message, message);
            }
        }, ct);
        return affected == 1;
    }
}
