namespace Runway.Runs;

/// <summary>
/// A set of runs submitted together and watched as one (issue 14): one pipeline over many parameter sets, or one
/// parameter set over several pipelines. The batch holds what was asked; its state is never stored but computed
/// from its runs' states (Api/BatchQuery.cs), so it cannot drift from them.
/// </summary>
public sealed class Batch
{
    public required string Id { get; init; }
    public string? Name { get; init; }

    /// <summary>Tags as a JSON object of strings; every run of the batch carries them too.</summary>
    public string TagsJson { get; init; } = "{}";

    public required string Owner { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The submission's <c>cache</c> (result reuse): null when not given.</summary>
    public bool? Cache { get; init; }

    /// <summary>The pipelines of its runs, as a JSON array of names.</summary>
    public required string PipelinesJson { get; init; }

    public string? IdempotencyKey { get; init; }
    public string? IdempotencyFingerprint { get; init; }

    /// <summary>Batch ids carry a <c>b_</c> prefix so one is never taken for a run or a file id.</summary>
    public static string NewId(TimeProvider clock) => "b_" + Ids.NewUlid(clock.GetUtcNow());

    public static bool IsId(string? id) => id is { Length: 28 } && id.StartsWith("b_", StringComparison.Ordinal) && Ids.IsRunId(id[2..]);
}
