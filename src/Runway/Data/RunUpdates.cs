using Microsoft.EntityFrameworkCore;
using Runway.Runs;

namespace Runway.Data;

/// <summary>The compare-and-set behind <see cref="RunStore.TryTransitionAsync"/>, with the columns each move sets.</summary>
internal static class RunUpdates
{
    /// <summary>Returns the state the run left, or null when it was in none of <paramref name="allowed"/>.</summary>
    public static async Task<RunState?> CompareAndSetAsync(
        RunwayDb db, RunTransition transition, RunState[] allowed, DateTimeOffset now, string? lease, CancellationToken ct)
    {
        // The common case names one from-state: one UPDATE decides, and its row count says who won.
        if (allowed.Length == 1)
        {
            return await TrySetAsync(db, transition, allowed[0], now, lease, ct) ? allowed[0] : null;
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
            if (await TrySetAsync(db, transition, state, now, lease, ct))
            {
                return state;
            }
        }
        return null;
    }

    /// <summary>
    /// One UPDATE … WHERE id AND state, written out rather than built with ExecuteUpdate: the profile of the
    /// burst showed EF Core translating the setter lambda and looking up its cached query on every move.
    /// </summary>
    private static async Task<bool> TrySetAsync(RunwayDb db, RunTransition t, RunState from, DateTimeOffset now, string? lease, CancellationToken ct)
    {
        var sqlite = db.Database.IsSqlite();
        var values = new List<object>();
        string Value(object value)
        {
            values.Add(value);
            return $"{{{values.Count - 1}}}";
        }
        var set = new List<string> { $"state = {Value(t.To.ToWire())}" };
        if (t.To == RunState.Running)
        {
            set.Add($"started_at = {Value(SqlTime.Of(now, sqlite))}");
        }
        if (t.To == RunState.Queued)
        {
            // Handed back before it started: the next claim starts from a clean slate.
            set.Add("node = NULL, native_id = NULL, started_at = NULL, lease = NULL, lease_expires_at = NULL");
            if (t.Retry)
            {
                set.Add("attempt = attempt + 1");
            }
        }
        if (t.To.IsFinal())
        {
            set.Add($"finished_at = {Value(SqlTime.Of(now, sqlite))}, lease_expires_at = NULL");
        }
        if (t.ExitCode is { } exitCode)
        {
            set.Add($"exit_code = {Value(exitCode)}");
        }
        if (t.To.IsFinal() && t.Usage is { } usage)
        {
            // Only the figures that were measured: a null stays NULL, untyped parameters need no cast.
            if (usage.WallSeconds is { } wall)
            {
                set.Add($"wall_seconds = {Value(wall)}");
            }
            if (usage.CpuSeconds is { } cpu)
            {
                set.Add($"cpu_seconds = {Value(cpu)}");
            }
            if (usage.PeakMemoryBytes is { } peak)
            {
                set.Add($"peak_memory_bytes = {Value(peak)}");
            }
        }
        if (t.To.IsFinal() && t.NativeId is { } nativeId)
        {
            set.Add($"native_id = COALESCE(native_id, {Value(nativeId)})");
        }
        if (t.To.IsFinal() && t.FilesBytes is { } filesBytes)
        {
            set.Add($"files_bytes = {Value(filesBytes)}");
        }
        if (t.Message is { } message)
        {
            set.Add($"message = {Value(message)}");
        }
        else if (t.To.IsFinal())
        {
            // What the executor said while it ran (IRunStore.SetNoteAsync: "waiting in Slurm") is not how it ended.
            set.Add("message = NULL");
        }
        var where = $"id = {Value(t.RunId)} AND state = {Value(from.ToWire())}";
        if (from == RunState.Running && lease is not null)
        {
            // Fencing: only the node process that holds the run's lease moves it on (RunStore's remarks).
            where += $" AND lease = {Value(lease)}";
        }
        if (t.To == RunState.Queued)
        {
            // A run with a cancel request is never queued again (RunHandBack ends it canceled instead).
            where += " AND cancel_requested_at IS NULL";
        }
        // Every piece of this text is a constant of this method; each value is a parameter ({n}).
        var sql = "UPDATE runs SET " + string.Join(", ", set) + " WHERE " + where;
        var affected = await db.Database.ExecuteSqlRawAsync(sql, values, ct);
        return affected == 1;
    }

    /// <summary>A run_events row, inserted at once in the caller's transaction (nothing is left for a SaveChanges).</summary>
    public static Task InsertEventAsync(RunwayDb db, string runId, RunState? from, RunState to, string reason, DateTimeOffset at, CancellationToken ct) =>
        db.Database.ExecuteSqlRawAsync(
            "INSERT INTO run_events (run_id, from_state, to_state, reason, at) VALUES ({0}, {1}, {2}, {3}, {4})",
            [runId, (object?)from?.ToWire() ?? DBNull.Value, to.ToWire(), reason, SqlTime.Of(at, db.Database.IsSqlite())], ct);
}
