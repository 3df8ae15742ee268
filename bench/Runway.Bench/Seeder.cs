using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Runway.Bench;

/// <summary>
/// Writes runs straight into the database of a stopped server, in one transaction: copies of a template
/// run the server itself stored (so every column, the spec included, is what Runway writes), with new
/// ids, states and times, each with its "submitted" event.
/// </summary>
internal sealed class Seeder(string dataDir, string? postgres)
{
    public DbConnection Open()
    {
        DbConnection connection = postgres is null
            ? new SqliteConnection($"Data Source={Path.Combine(dataDir, "runway.db")};Pooling=False")
            : new NpgsqlConnection(postgres);
        connection.Open();
        return connection;
    }

    /// <summary>Empties the tables (PostgreSQL keeps its database between runs of the benchmark).</summary>
    public async Task EmptyAsync(CancellationToken ct)
    {
        if (postgres is not null)
        {
            await using var connection = Open();
            try
            {
                // CASCADE: tables added later that refer to these (notifications to runs, …) are emptied with them.
                await ExecuteAsync(connection, "TRUNCATE run_events, runs, files, api_tokens, oauth_clients, audit_entries, users, nodes, shared_directory, "
                    + "batches, schedules, notifications, notify_settings, pipeline_versions CASCADE", ct);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                // Not migrated yet: the server about to start creates the tables empty.
            }
        }
    }

    /// <summary>SIGKILL to the process group of every run the database says is running (its server is stopped).</summary>
    public async Task KillRunningAsync(CancellationToken ct)
    {
        if (postgres is null && !File.Exists(Path.Combine(dataDir, "runway.db")))
        {
            return;
        }
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT native_id FROM runs WHERE state = 'running' AND native_id IS NOT NULL";
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (int.TryParse(reader.GetString(0), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var group))
            {
                ProcFs.KillGroup(group);
            }
        }
    }

    /// <summary>Seeds <paramref name="count"/> runs, ids ascending with submission time; returns the id of every <paramref name="sampleEvery"/>th.</summary>
    public async Task<IReadOnlyList<string>> SeedAsync(string templateId, int count, bool queued, int sampleEvery, CancellationToken ct)
    {
        await using var connection = Open();
        var (template, types) = await ReadRowAsync(connection, templateId, ct);
        var columns = template.Keys.ToArray();
        var sample = new List<string>();
        var rows = Rows(template, templateId, count, queued, sampleEvery, sample);
        if (connection is NpgsqlConnection npgsql)
        {
            await CopyAsync(npgsql, columns, types, rows, ct);
            return sample;
        }
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using var insertRun = Command(connection, tx,
            $"INSERT INTO runs ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => $"@p{i}"))})", columns.Length);
        await using var insertEvent = Command(connection, tx,
            "INSERT INTO run_events (run_id, from_state, to_state, reason, at) VALUES (@p0, NULL, 'queued', 'submitted', @p1)", 2);
        foreach (var row in rows)
        {
            for (var c = 0; c < columns.Length; c++)
            {
                insertRun.Parameters[c].Value = row[columns[c]] ?? DBNull.Value;
            }
            await insertRun.ExecuteNonQueryAsync(ct);
            insertEvent.Parameters[0].Value = row["id"];
            insertEvent.Parameters[1].Value = row["submitted_at"];
            await insertEvent.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return sample;
    }

    /// <summary>PostgreSQL: binary COPY, one transaction for both tables (a million single-row INSERTs take many minutes).</summary>
    private static async Task CopyAsync(NpgsqlConnection connection, string[] columns, string[] types, IEnumerable<Dictionary<string, object?>> rows, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        var events = new List<(object Id, object At)>();
        await using (var runs = await connection.BeginBinaryImportAsync($"COPY runs ({string.Join(", ", columns)}) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var row in rows)
            {
                await runs.StartRowAsync(ct);
                for (var c = 0; c < columns.Length; c++)
                {
                    if (row[columns[c]] is { } value)
                    {
                        await runs.WriteAsync(value, types[c], ct);
                    }
                    else
                    {
                        await runs.WriteNullAsync(ct);
                    }
                }
                events.Add((row["id"]!, row["submitted_at"]!));
            }
            await runs.CompleteAsync(ct);
        }
        await using (var log = await connection.BeginBinaryImportAsync(
            "COPY run_events (run_id, from_state, to_state, reason, at) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var (id, at) in events)
            {
                await log.StartRowAsync(ct);
                await log.WriteAsync(id, "text", ct);
                await log.WriteNullAsync(ct);
                await log.WriteAsync("queued", "text", ct);
                await log.WriteAsync("submitted", "text", ct);
                await log.WriteAsync(at, "timestamp with time zone", ct);
            }
            await log.CompleteAsync(ct);
        }
        await tx.CommitAsync(ct);
        // What autovacuum would have done by the time a real database held this many rows: statistics, and the
        // visibility map that lets index-only scans skip the table. With ANALYZE alone, autovacuum's own pass came
        // about a minute later, in the middle of the measurements: the admin's usage read 1,000,000 table rows
        // besides its index until then (1,074–1,303 ms p99 by user, against 420–650 ms once vacuumed).
        await ExecuteAsync(connection, "VACUUM (ANALYZE) runs, run_events", ct);
    }

    /// <summary>Copies of the template with new ids, states and times (lazily: a million rows are never all in memory).</summary>
    private IEnumerable<Dictionary<string, object?>> Rows(
        Dictionary<string, object?> template, string templateId, int count, bool queued, int sampleEvery, List<string> sample)
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var spec = (string)template["spec_json"]!;
        for (var i = 0; i < count; i++)
        {
            var submitted = start.AddMilliseconds(i);
            var id = Runway.Runs.Ids.NewUlid(submitted);
            if (i % sampleEvery == 0)
            {
                sample.Add(id);
            }
            var (state, exitCode) = queued ? ("queued", (int?)null) : (i % 20) switch
            {
                0 => ("failed", (int?)1),
                1 => ("canceled", 143),
                2 => ("system_error", null),
                _ => ("succeeded", 0),
            };
            yield return new Dictionary<string, object?>(template)
            {
                ["id"] = id,
                ["state"] = state,
                ["exit_code"] = exitCode,
                ["submitted_at"] = Time(submitted),
                ["started_at"] = queued ? null : Time(submitted.AddMilliseconds(2)),
                ["finished_at"] = queued ? null : Time(submitted.AddMilliseconds(30)),
                ["node"] = queued ? null : template["node"],
                ["native_id"] = queued ? null : "4242",
                ["message"] = null,
                ["cancel_requested_at"] = null,
                ["idempotency_key"] = null,
                ["spec_json"] = spec.Replace(templateId, id, StringComparison.Ordinal),
            };
        }
    }

    // SQLite stores unix microseconds, PostgreSQL timestamptz.
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1859", Justification = "a long or a DateTimeOffset, by provider")]
    private object Time(DateTimeOffset at) => postgres is null ? at.ToUnixTimeMilliseconds() * 1000 : at.ToUniversalTime();

    private static DbCommand Command(DbConnection connection, DbTransaction tx, string sql, int parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        for (var i = 0; i < parameters; i++)
        {
            var p = command.CreateParameter();
            p.ParameterName = $"@p{i}";
            command.Parameters.Add(p);
        }
        return command;
    }

    private static async Task<(Dictionary<string, object?> Row, string[] Types)> ReadRowAsync(DbConnection connection, string id, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM runs WHERE id = @id";
        var p = command.CreateParameter();
        p.ParameterName = "@id";
        p.Value = id;
        command.Parameters.Add(p);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            throw new InvalidOperationException($"template run {id} is not in the database");
        }
        var row = new Dictionary<string, object?>(StringComparer.Ordinal);
        var types = new string[reader.FieldCount];
        for (var i = 0; i < reader.FieldCount; i++)
        {
            row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            types[i] = reader.GetDataTypeName(i);
        }
        return (row, types);
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 600; // a vacuum of a million rows on a busy machine may pass the default 30 s
        await command.ExecuteNonQueryAsync(ct);
    }
}
