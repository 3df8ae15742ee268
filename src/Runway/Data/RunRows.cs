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
    /// <param name="gpus">The GPUs a local run may ask for to be claimed (Slurm runs count as asking none); null for any.</param>
    public static async Task<List<Run>> ClaimAsync(
        RunwayDb db, string node, int max, DateTimeOffset now, ClaimableExecutors? executors, (int Min, int Max)? gpus, CancellationToken ct)
    {
        var sqlite = db.Database.IsSqlite();
        var connection = db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        command.CommandText = sqlite ? SqliteClaim.Sql : PostgresClaim.Sql;
        Add(command, "@node", node);
        Add(command, "@now", SqlTime.Of(now, sqlite));
        Add(command, "@max", max);
        Add(command, "@executors", executors is null ? DBNull.Value
            : sqlite ? System.Text.Json.JsonSerializer.Serialize(executors.Names) : executors.Names.ToArray());
        Add(command, "@min_gpus", gpus?.Min ?? 0);
        Add(command, "@max_gpus", gpus is { } range ? range.Max : DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var runs = new List<Run>();
        int[]? at = null;
        while (await reader.ReadAsync(ct))
        {
            at ??= Columns.Select(reader.GetOrdinal).ToArray();
            runs.Add(Read(reader, at, sqlite));
        }
        return runs;
    }

    private static readonly string[] Columns =
    [
        "id", "pipeline", "pipeline_version", "name", "params_json", "tags_json", "priority", "owner", "state", "message",
        "exit_code", "executor", "native_id", "node", "submitted_at", "started_at", "finished_at", "cancel_requested_at",
        "spec_json", "idempotency_key", "idempotency_fingerprint",
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
