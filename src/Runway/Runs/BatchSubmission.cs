using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Runway.Runs;

/// <summary>
/// A batch as a user asks for it: one <see cref="Pipeline"/> over <see cref="Rows"/> (one parameter set per run), or
/// fan-out, one <see cref="Params"/> over several <see cref="Pipelines"/>. Name, tags and cache are the batch's and
/// every run's. <see cref="RowProblems"/> are what reading a spreadsheet into rows already found (per cell).
/// </summary>
public sealed record BatchSubmission(
    string? Pipeline,
    IReadOnlyList<JsonObject?>? Rows,
    IReadOnlyList<string?>? Pipelines,
    JsonObject? Params,
    string? Name,
    IReadOnlyDictionary<string, string>? Tags,
    bool? Cache,
    string? IdempotencyKey)
{
    public IReadOnlyList<BatchProblem> RowProblems { get; init; } = [];

    /// <summary>Each row's number as its sheet shows it (the header is row 1); null for JSON rows, numbered from 1.</summary>
    public IReadOnlyList<int>? RowNumbers { get; init; }

    /// <summary>A sheet's column per parameter name (A, B, …), so a problem of a parameter names its column too.</summary>
    public IReadOnlyDictionary<string, string>? Columns { get; init; }

    /// <summary>As <see cref="RunSubmission.Fingerprint"/>: everything but the key, as parsed.</summary>
    public string Fingerprint()
    {
        var canonical = new JsonObject
        {
            ["pipeline"] = Pipeline,
            ["rows"] = Rows is null ? null : new JsonArray([.. Rows.Select(r => r?.DeepClone())]),
            ["pipelines"] = Pipelines is null ? null : new JsonArray([.. Pipelines.Select(p => (JsonNode?)p)]),
            ["params"] = Params?.DeepClone(),
            ["name"] = Name,
            ["tags"] = Tags is null ? null : new JsonObject(Tags.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)t.Value))),
            ["cache"] = Cache,
        };
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToJsonString())));
    }
}

/// <summary>
/// One problem of a batch: the row (1-based, as a person counts rows; null for fan-out or the batch's own fields),
/// the pipeline for fan-out, the field (<c>params.NAME</c>, <c>name</c>, …) and, from a spreadsheet, the column.
/// </summary>
public sealed record BatchProblem(int? Row, string? Pipeline, string Field, string Message, string? Column = null)
{
    /// <summary>The problem's key in the 422's <c>errors</c>: <c>rows[3].params.x</c>, <c>pipelines[wordstats].params.x</c> or the field.</summary>
    public string Key => Row is { } row ? $"rows[{row}].{Field}" : Pipeline is { } pipeline ? $"pipelines[{pipeline}].{Field}" : Field;
}

public sealed record BatchResult
{
    public Batch? Batch { get; private init; }
    public IReadOnlyList<Run> Runs { get; private init; } = [];

    /// <summary>The batch is an earlier submission's under the same idempotency key, not a new one.</summary>
    public bool Replayed { get; private init; }

    public SubmissionFailure? Failure { get; private init; }
    public string? Detail { get; private init; }
    public IReadOnlyList<BatchProblem> Problems { get; private init; } = [];
    public Storage.QuotaUse? Quota { get; private init; }

    public static BatchResult Accepted(Batch batch, IReadOnlyList<Run> runs, bool replayed) => new() { Batch = batch, Runs = runs, Replayed = replayed };

    public static BatchResult Failed(SubmissionFailure failure, string detail, Storage.QuotaUse? quota = null) =>
        new() { Failure = failure, Detail = detail, Quota = quota };

    public static BatchResult Invalid(IReadOnlyList<BatchProblem> problems) => new()
    {
        Failure = SubmissionFailure.Invalid,
        Detail = problems.Count == 1 ? "1 problem; nothing was queued" : $"{problems.Count} problems; nothing was queued",
        Problems = problems,
    };
}
