using System.Data.Common;
using Microsoft.Data.Sqlite;
using Runway.Auth;
using Runway.Runs;
using SQLitePCL;

namespace Runway.Data;

/// <summary>
/// The group commit's insert of new runs, each with its queued event and its audit entry, as plain
/// parameterised commands on the context's connection instead of EF Core's change tracker: a profile of
/// the mixed burst showed the tracker's SaveChanges (snapshots, identity map, SQL generated and parsed
/// anew for every batch) as the largest single cost of a submission. It lives as long as the group
/// commit's one connection: on SQLite each table's statement is prepared once and each row costs a bind
/// and a step; PostgreSQL gets all rows of a batch in one DbBatch, one round trip. Columns and conversions are those of <see cref="RunConfiguration"/> and the
/// migrations; <c>RunInsertsTests</c> reads every inserted row back through EF Core on both providers.
/// On SQLite the statements are SQLite's own (SQLitePCL's raw API on the connection's handle), each parameter bound by
/// the index looked up once when it is prepared: Microsoft.Data.Sqlite's command looks every parameter up by name on
/// every execution (a linear search with strncmp per name, 28 names for a run) and makes a data reader per statement,
/// which a profile of 16 clients submitting showed at about 3 % of the server's CPU. The transaction is the
/// connection's (BEGIN IMMEDIATE), so these rows commit or roll back with it as before.
/// </summary>
internal sealed class RunInserts(DbConnection connection, bool sqlite) : IAsyncDisposable
{
    private const string RunSql = """
        INSERT INTO runs (id, pipeline, pipeline_version, name, params_json, tags_json, priority, owner, state, message,
            exit_code, executor, native_id, node, submitted_at, started_at, finished_at, cancel_requested_at, spec_json,
            idempotency_key, idempotency_fingerprint, cache_key, batch_id, resubmitted_from, schedule_id, scheduled_for,
            cached_from, files_bytes)
        VALUES (@id, @pipeline, @pipeline_version, @name, @params_json, @tags_json, @priority, @owner, @state, @message,
            @exit_code, @executor, @native_id, @node, @submitted_at, @started_at, @finished_at, @cancel_requested_at, @spec_json,
            @idempotency_key, @idempotency_fingerprint, @cache_key, @batch_id, @resubmitted_from, @schedule_id, @scheduled_for,
            @cached_from, @files_bytes)
        """;

    private const string EventSql = "INSERT INTO run_events (run_id, from_state, to_state, reason, at) VALUES (@run_id, @from_state, @to_state, @reason, @at)";

    private const string NotificationSql = """
        INSERT INTO notifications (id, run_id, owner, kind, target, state, attempts, created_at)
        VALUES (@id, @run_id, @owner, @kind, @target, @state, 0, @created_at)
        """;

    private const string AuditSql = "INSERT INTO audit_entries (at, actor, action, target, address) VALUES (@at, @actor, @action, @target, @address)";

    private readonly Dictionary<string, SqliteStatement> prepared = new(StringComparer.Ordinal);

    /// <summary>Inserts every run of the batch in the caller's transaction; a unique violation throws the provider's DbException.</summary>
    public async Task InsertAsync(IReadOnlyList<(Run Run, AuditEntry? Audit)> batch, DbTransaction transaction, CancellationToken ct)
    {
        if (connection.CanCreateBatch)
        {
            await using var commands = connection.CreateBatch();
            commands.Transaction = transaction;
            foreach (var (run, audit) in batch)
            {
                foreach (var (sql, values) in Rows(run, audit))
                {
                    var command = commands.CreateBatchCommand();
                    command.CommandText = sql;
                    Bind(command.Parameters, () => command.CreateParameter(), values);
                    commands.BatchCommands.Add(command);
                }
            }
            if (!sqlite)
            {
                // Wakes every node's listener when this transaction commits (RunNotifications).
                var notify = commands.CreateBatchCommand();
                notify.CommandText = RunNotifications.NotifySql;
                commands.BatchCommands.Add(notify);
            }
            await commands.ExecuteNonQueryAsync(ct);
            return;
        }
        // One statement per text, prepared on its first row and stepped for every row with new values, in the
        // transaction the caller began on this connection.
        if (transaction.Connection != connection || ((SqliteConnection)connection).Handle is not { } handle)
        {
            throw new InvalidOperationException("The inserts need the transaction of their own open connection.");
        }
        foreach (var (run, audit) in batch)
        {
            ct.ThrowIfCancellationRequested();
            foreach (var (sql, values) in Rows(run, audit))
            {
                if (!prepared.TryGetValue(sql, out var statement))
                {
                    prepared[sql] = statement = SqliteStatement.Prepare(handle, sql, values);
                }
                statement.Execute(handle, values);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        // Before the connection goes back to its pool: a statement left open there would keep its handle busy.
        foreach (var statement in prepared.Values)
        {
            statement.Dispose();
        }
        prepared.Clear();
        return ValueTask.CompletedTask;
    }

    /// <summary>One prepared SQLite statement and the index of each of its parameters, in the order the rows give their values.</summary>
    private sealed class SqliteStatement(sqlite3_stmt statement, int[] indexes) : IDisposable
    {
        public static SqliteStatement Prepare(sqlite3 handle, string sql, (string Name, object? Value)[] values)
        {
            SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(handle, sql, out var statement), handle);
            var indexes = new int[values.Length];
            for (var i = 0; i < values.Length; i++)
            {
                indexes[i] = raw.sqlite3_bind_parameter_index(statement, values[i].Name);
                if (indexes[i] == 0)
                {
                    statement.Dispose();
                    throw new InvalidOperationException($"{values[i].Name} is not a parameter of: {sql}");
                }
            }
            return new SqliteStatement(statement, indexes);
        }

        /// <summary>Binds the values and steps once; a failure (a unique violation) throws the SqliteException Microsoft.Data.Sqlite would.</summary>
        public void Execute(sqlite3 handle, (string Name, object? Value)[] values)
        {
            try
            {
                for (var i = 0; i < values.Length; i++)
                {
                    SqliteException.ThrowExceptionForRC(Bind(indexes[i], values[i].Value), handle);
                }
                var rc = raw.sqlite3_step(statement);
                if (rc != raw.SQLITE_DONE)
                {
                    SqliteException.ThrowExceptionForRC(rc, handle);
                }
            }
            finally
            {
                // Always: a statement not reset keeps its place in the transaction.
                raw.sqlite3_reset(statement);
            }
        }

        // The types the rows carry, stored as Microsoft.Data.Sqlite stores them (text, integer, null).
        private int Bind(int index, object? value) => value switch
        {
            null => raw.sqlite3_bind_null(statement, index),
            string text => raw.sqlite3_bind_text(statement, index, text),
            int number => raw.sqlite3_bind_int64(statement, index, number),
            long number => raw.sqlite3_bind_int64(statement, index, number),
            bool flag => raw.sqlite3_bind_int64(statement, index, flag ? 1 : 0),
            _ => throw new InvalidOperationException($"No SQLite binding for a {value.GetType().Name}."),
        };

        public void Dispose() => statement.Dispose();
    }

    private IEnumerable<(string Sql, (string Name, object? Value)[] Values)> Rows(Run run, AuditEntry? audit)
    {
        yield return (RunSql,
        [
            ("@id", run.Id), ("@pipeline", run.Pipeline), ("@pipeline_version", run.PipelineVersion), ("@name", run.Name),
            ("@params_json", run.ParamsJson), ("@tags_json", run.TagsJson), ("@priority", run.Priority), ("@owner", run.Owner),
            ("@state", run.State.ToWire()), ("@message", run.Message), ("@exit_code", run.ExitCode), ("@executor", run.Executor),
            ("@native_id", run.NativeId), ("@node", run.Node), ("@submitted_at", Time(run.SubmittedAt)), ("@started_at", Time(run.StartedAt)),
            ("@finished_at", Time(run.FinishedAt)), ("@cancel_requested_at", Time(run.CancelRequestedAt)), ("@spec_json", run.SpecJson),
            ("@idempotency_key", run.IdempotencyKey), ("@idempotency_fingerprint", run.IdempotencyFingerprint),
            ("@cache_key", run.CacheKey),
            ("@batch_id", run.BatchId),
            ("@resubmitted_from", run.ResubmittedFrom), ("@schedule_id", run.ScheduleId), ("@scheduled_for", Time(run.ScheduledFor)),
            ("@cached_from", run.CachedFrom), ("@files_bytes", run.FilesBytes),
        ]);
        yield return (EventSql,
        [
            ("@run_id", run.Id), ("@from_state", null), ("@to_state", RunState.Queued.ToWire()), ("@reason", SubmittedReason(run)), ("@at", Time(run.SubmittedAt)),
        ]);
        // A run that reused an earlier run's outputs (a single submission's or a batch row, RunCache) is born succeeded.
        if (run.CachedFrom is { } source)
        {
            yield return (EventSql,
            [
                ("@run_id", run.Id), ("@from_state", RunState.Queued.ToWire()), ("@to_state", RunState.Succeeded.ToWire()), ("@reason", RunCache.ReusedReason(source)),
                ("@at", Time(run.SubmittedAt)),
            ]);
        }
        // The outbox rows of its notify, committed with it: due once the run ends (NotificationConfiguration).
        foreach (var notify in run.Notify)
        {
            yield return (NotificationSql,
            [
                ("@id", notify.Id), ("@run_id", run.Id), ("@owner", run.Owner), ("@kind", notify.Kind), ("@target", notify.Target),
                ("@state", Notification.Pending), ("@created_at", Time(run.SubmittedAt)),
            ]);
        }
        if (audit is not null)
        {
            yield return (AuditSql,
            [
                ("@at", Time(audit.At)), ("@actor", audit.Actor), ("@action", audit.Action), ("@target", audit.Target), ("@address", audit.Address),
            ]);
        }
    }

    /// <summary>The first history event says where the run came from.</summary>
    private static string SubmittedReason(Run run) =>
        run.ResubmittedFrom is { } from ? $"resubmitted from run {from}"
        : run.ScheduleId is { } schedule ? $"submitted by schedule {schedule}"
        : "submitted";

    private static void Bind(DbParameterCollection parameters, Func<DbParameter> create, (string Name, object? Value)[] values)
    {
        foreach (var (name, value) in values)
        {
            var parameter = create();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            parameters.Add(parameter);
        }
    }

    private object? Time(DateTimeOffset? at) => at is { } value ? SqlTime.Of(value, sqlite) : null;
}
