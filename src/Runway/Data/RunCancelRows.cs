using System.Data.Common;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Runway.Execution;
using Runway.Runs;

namespace Runway.Data;

/// <summary>
/// The statements behind <see cref="RunStore.CancelManyAsync"/>: one UPDATE … RETURNING for the queued runs and one
/// for the running ones, each followed by one INSERT … SELECT of their events, however many runs, instead of a
/// compare-and-set per run. Each UPDATE is still a compare-and-set (<c>AND state = …</c>): a run claimed or ended
/// in between is simply not among the returned ids. The ids go in as one parameter (json_each / ANY).
/// </summary>
internal static class RunCancelRows
{
    /// <summary>Queued → canceled, as <see cref="RunStopper"/>'s cancel of one queued run sets it.</summary>
    public static Task<List<string>> CancelQueuedAsync(RunwayDb db, IReadOnlyCollection<string> ids, string reason, DateTimeOffset now, CancellationToken ct) =>
        MoveAsync(db, ids, "UPDATE runs SET state = 'canceled', finished_at = @now, lease_expires_at = NULL, message = @message WHERE state = 'queued' AND id IN ({ids}) RETURNING id",
            "queued", "canceled", reason, now, ct);

    /// <summary>
    /// Running runs not yet asked to stop get a cancel request and an event that says who asked; the node running each
    /// stops it and records its end. One already asked (its stop under way) is left as it is: a second bulk cancel
    /// neither counts it again nor records a second request.
    /// </summary>
    public static Task<List<string>> RequestRunningAsync(RunwayDb db, IReadOnlyCollection<string> ids, string reason, DateTimeOffset now, CancellationToken ct) =>
        MoveAsync(db, ids, "UPDATE runs SET cancel_requested_at = @now WHERE state = 'running' AND cancel_requested_at IS NULL AND id IN ({ids}) RETURNING id",
            "running", "running", reason, now, ct);

    private static async Task<List<string>> MoveAsync(
        RunwayDb db, IReadOnlyCollection<string> ids, string update, string from, string to, string reason, DateTimeOffset now, CancellationToken ct)
    {
        var sqlite = db.Database.IsSqlite();
        var set = sqlite ? "SELECT value FROM json_each(@ids)" : "SELECT unnest(@ids)";
        var moved = new List<string>();
        await using (var command = Command(db, update.Replace("{ids}", set, StringComparison.Ordinal), ids, sqlite, now))
        {
            Add(command, "@message", RunOutcome.CanceledByUser);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                moved.Add(reader.GetString(0));
            }
        }
        if (moved.Count == 0)
        {
            return moved;
        }
        await using var events = Command(db, $"INSERT INTO run_events (run_id, from_state, to_state, reason, at) SELECT id, @from, @to, @reason, @now FROM runs WHERE id IN ({set})", moved, sqlite, now);
        Add(events, "@from", from);
        Add(events, "@to", to);
        Add(events, "@reason", reason);
        await events.ExecuteNonQueryAsync(ct);
        return moved;
    }

    private static DbCommand Command(RunwayDb db, string sql, IReadOnlyCollection<string> ids, bool sqlite, DateTimeOffset now)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        command.CommandText = sql;
        Add(command, "@ids", sqlite ? JsonSerializer.Serialize(ids) : ids.ToArray());
        Add(command, "@now", SqlTime.Of(now, sqlite));
        return command;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
