using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Runway.Runs;

namespace Runway.Data;

/// <summary>
/// The claim statement (<see cref="SqliteClaim"/>, <see cref="PostgresClaim"/>) run as a plain command in
/// the caller's transaction, its RETURNING rows read into runs here: the burst's profile showed most of a
/// claim's time in EF Core's FromSql pipeline (the query's cache key, parameter extraction, the shaper),
/// not in the database. The columns and conversions are those of <see cref="RunConfiguration"/>; the
/// store contract suites read claimed runs back through EF Core on both providers.
/// </summary>
internal static class RunRows
{
    public static async Task<List<Run>> ClaimAsync(RunwayDb db, ClaimScope scope, CancellationToken ct)
    {
        var sqlite = db.Database.IsSqlite();
        var limited = scope.Limits is { Any: true };
        if (limited && !sqlite)
        {
            await db.Database.ExecuteSqlRawAsync(PostgresClaim.LimitLock, ct);
        }
        await using var command = Command(db, sqlite
            ? (limited ? SqliteClaim.LimitedSql : SqliteClaim.Sql)
            : (limited ? PostgresClaim.LimitedSql : PostgresClaim.Sql), scope);
        Add(command, "@min_gpus", scope.Gpus?.Min ?? 0);
        Add(command, "@max_gpus", scope.Gpus is { } range ? range.Max : DBNull.Value);
        if (limited)
        {
            var limits = scope.Limits!;
            Add(command, "@user_cap", limits.MaxRunningPerUser > 0 ? limits.MaxRunningPerUser : DBNull.Value);
            var caps = limits.GroupCaps.ToList();
            if (sqlite)
            {
                Add(command, "@caps", System.Text.Json.JsonSerializer.Serialize(caps.ToDictionary(c => c.Key, c => c.Value)));
            }
            else
            {
                Add(command, "@group_names", caps.Select(c => c.Key).ToArray());
                Add(command, "@group_caps", caps.Select(c => c.Value).ToArray());
            }
        }
        return [.. (await ReadAsync(command, sqlite, previousNode: false, ct)).Select(r => r.Run)];
    }

    /// <summary>Running runs whose lease expired, moved to <paramref name="scope"/>'s node and lease, with the node each was on.</summary>
    public static async Task<List<(Run Run, string? PreviousNode)>> RescueAsync(RunwayDb db, ClaimScope scope, CancellationToken ct)
    {
        if (!db.Database.IsSqlite())
        {
            await using var rescue = Command(db, PostgresClaim.RescueSql, scope);
            return await ReadAsync(rescue, sqlite: false, previousNode: true, ct);
        }
        // SQLite: inside BEGIN IMMEDIATE nothing moves between this select and the update below.
        var previous = new Dictionary<string, string?>(StringComparer.Ordinal);
        await using (var select = Command(db, SqliteClaim.RescueSql, scope))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                previous[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
            }
        }
        if (previous.Count == 0)
        {
            return [];
        }
        await using var update = Command(db, """
            UPDATE runs SET node = @node, lease = @lease, lease_expires_at = @expires
            WHERE id IN (SELECT value FROM json_each(@ids)) RETURNING *
            """, scope);
        Add(update, "@ids", System.Text.Json.JsonSerializer.Serialize(previous.Keys));
        return [.. (await ReadAsync(update, sqlite: true, previousNode: false, ct)).Select(r => (r.Run, previous[r.Run.Id]))];
    }

    private static DbCommand Command(RunwayDb db, string sql, ClaimScope scope)
    {
        var sqlite = db.Database.IsSqlite();
        var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        command.CommandText = sql;
        Add(command, "@node", scope.Node);
        Add(command, "@now", SqlTime.Of(scope.Now, sqlite));
        Add(command, "@max", scope.Max);
        Add(command, "@executors", scope.Executors is null ? DBNull.Value
            : sqlite ? System.Text.Json.JsonSerializer.Serialize(scope.Executors.Names) : scope.Executors.Names.ToArray());
        Add(command, "@lease", (object?)scope.Lease?.Id ?? DBNull.Value);
        Add(command, "@expires", scope.Lease is { } lease ? SqlTime.Of(scope.Now + lease.Timeout, sqlite) : DBNull.Value);
        return command;
    }

    private static async Task<List<(Run Run, string? PreviousNode)>> ReadAsync(DbCommand command, bool sqlite, bool previousNode, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        var runs = new List<(Run, string?)>();
        int[]? at = null;
        var previousAt = -1;
        while (await reader.ReadAsync(ct))
        {
            at ??= Columns.Select(reader.GetOrdinal).ToArray();
            if (previousNode && previousAt < 0)
            {
                previousAt = reader.GetOrdinal("previous_node");
            }
            runs.Add((Read(reader, at, sqlite), previousAt >= 0 && !reader.IsDBNull(previousAt) ? reader.GetString(previousAt) : null));
        }
        return runs;
    }

    private static readonly string[] Columns =
    [
        "id", "pipeline", "pipeline_version", "name", "params_json", "tags_json", "priority", "owner", "state", "message",
        "exit_code", "executor", "native_id", "node", "submitted_at", "started_at", "finished_at", "cancel_requested_at",
        "spec_json", "idempotency_key", "idempotency_fingerprint", "attempt", "lease", "lease_expires_at",
        "wall_seconds", "cpu_seconds", "peak_memory_bytes", "batch_id", "resubmitted_from",
        "schedule_id", "scheduled_for",
    ];

    private static Run Read(DbDataReader r, int[] at, bool sqlite)
    {
        string? Text(int i) => r.IsDBNull(at[i]) ? null : r.GetString(at[i]);
        DateTimeOffset? Time(int i) => r.IsDBNull(at[i]) ? null
            : sqlite ? UnixMicrosecondsConverter.FromUnixMicroseconds(r.GetInt64(at[i])) : r.GetFieldValue<DateTimeOffset>(at[i]);
        return new Run
        {
            Id = Text(0)!,
            Pipeline = Text(1)!,
            PipelineVersion = Text(2)!,
            Name = Text(3),
            ParamsJson = Text(4)!,
            TagsJson = Text(5)!,
            Priority = r.GetInt32(at[6]),
            Owner = Text(7)!,
            State = RunStateConverter.Parse(Text(8)!),
            Message = Text(9),
            ExitCode = r.IsDBNull(at[10]) ? null : r.GetInt32(at[10]),
            Executor = Text(11)!,
            NativeId = Text(12),
            Node = Text(13),
            SubmittedAt = Time(14)!.Value,
            StartedAt = Time(15),
            FinishedAt = Time(16),
            CancelRequestedAt = Time(17),
            SpecJson = Text(18)!,
            IdempotencyKey = Text(19),
            IdempotencyFingerprint = Text(20),
            Attempt = r.GetInt32(at[21]),
            Lease = Text(22),
            LeaseExpiresAt = Time(23),
            WallSeconds = r.IsDBNull(at[24]) ? null : r.GetDouble(at[24]),
            CpuSeconds = r.IsDBNull(at[25]) ? null : r.GetDouble(at[25]),
            PeakMemoryBytes = r.IsDBNull(at[26]) ? null : r.GetInt64(at[26]),
            BatchId = Text(27),
            ResubmittedFrom = Text(28),
            ScheduleId = Text(29),
            ScheduledFor = Time(30),
        };
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}

/// <summary>Who claims (or rescues), how many, when, of which executors, under which lease and per-user limits.</summary>
/// <param name="Gpus">The GPUs a local run may ask for to be claimed (Slurm runs count as asking none); null for any.</param>
internal sealed record ClaimScope(
    string Node, int Max, DateTimeOffset Now, ClaimableExecutors? Executors, NodeLease? Lease, UserRunLimits? Limits = null, (int Min, int Max)? Gpus = null);
