using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runway.Runs;

/// <summary>A run as a user asks for it, from the API, a web form or a later protocol view.</summary>
public sealed record RunSubmission(
    string? Pipeline,
    JsonObject? Params,
    string? Name,
    IReadOnlyDictionary<string, string>? Tags,
    int? Priority,
    string? IdempotencyKey,
    Notifications.NotifyRequest? Notify = null,
    string? ResubmittedFrom = null,
    string? ScheduleId = null,
    DateTimeOffset? ScheduledFor = null)
{
    /// <summary><c>"cache": false</c> refuses reuse of an earlier identical run's outputs (RunCache); null or true allows it where the pipeline does.</summary>
    public bool? Cache { get; init; }

    /// <summary>An earlier version of the pipeline to run (PipelineCatalog keeps them); null is the newest.</summary>
    public string? PipelineVersion { get; init; }

    /// <summary>A run of no pipeline (a GA4GH TES task), or null for a pipeline's run: what it runs, as the view that checked it built it.</summary>
    public RunKind? Kind { get; init; }

    /// <summary>
    /// The hash a retry under the same idempotency key must match: everything but the key, as parsed, so
    /// whitespace does not count but any value, name or tag does.
    /// </summary>
    public string Fingerprint()
    {
        var canonical = new JsonObject
        {
            ["pipeline"] = Pipeline,
            ["params"] = Params?.DeepClone(),
            ["name"] = Name,
            ["tags"] = Tags is null ? null : new JsonObject(Tags.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)t.Value))),
            ["priority"] = Priority,
        };
        // Only when given: fingerprints stored before these fields existed must still match a retry.
        if (Cache is { } cache)
        {
            canonical["cache"] = cache;
        }
        if (PipelineVersion is { } version)
        {
            canonical["pipeline_version"] = version;
        }
        if (Notify is not null)
        {
            // Only when given: fingerprints of submissions without one stay what they were.
            canonical["notify"] = new JsonObject { ["email"] = new JsonArray([.. (Notify.Email ?? []).Select(e => (JsonNode?)e)]), ["webhook"] = Notify.Webhook };
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToJsonString())));
    }
}

/// <summary>
/// What a run of no pipeline runs: its name in the pipeline column (<see cref="Pipeline"/>), the uploads it stages
/// (the submitter's own, by id), and its spec, made once the run's id and directory are known. It passes the same
/// rules, limits, quota and store as any run.
/// </summary>
public sealed record RunKind(
    string Pipeline, string Version, string Executor, IReadOnlyList<string> FileIds,
    Func<string, string, IReadOnlyDictionary<string, Files.StoredFile>, RunSpec> Spec);

/// <summary>Who submits, as the caller's credential says; built by the API (Api/Caller) or a page.</summary>
public sealed record Submitter(string Name, bool IsAdmin, IReadOnlyCollection<string> Groups, string? Address);

public enum SubmissionFailure
{
    /// <summary>Fields are wrong; <see cref="SubmissionResult.Errors"/> says which (422).</summary>
    Invalid,

    /// <summary>No such pipeline, or not one the submitter may use (404: its existence is not revealed).</summary>
    UnknownPipeline,

    /// <summary>A priority above the default from someone who may not jump the queue (403).</summary>
    PriorityNotAllowed,

    /// <summary>The idempotency key already names a run submitted with a different body (422).</summary>
    KeyReused,

    /// <summary>The pipeline asks more of its executor than the operator allows one run (422; the detail names the limit).</summary>
    OverLimit,

    /// <summary>The submitter's storage quota is used up (507; <see cref="SubmissionResult.Quota"/> says how far).</summary>
    OverQuota,

    /// <summary>A resubmit of a run that does not exist or is not the submitter's (404: its existence is not revealed).</summary>
    UnknownRun,
}

public sealed record SubmissionResult
{
    public Run? Run { get; private init; }

    /// <summary>The run is an earlier submission's under the same idempotency key, not a new one.</summary>
    public bool Replayed { get; private init; }

    public SubmissionFailure? Failure { get; private init; }
    public string? Detail { get; private init; }
    public IReadOnlyDictionary<string, string[]>? Errors { get; private init; }
    public Storage.QuotaUse? Quota { get; init; }

    public static SubmissionResult Accepted(Run run, bool replayed) => new() { Run = run, Replayed = replayed };

    public static SubmissionResult Failed(SubmissionFailure failure, string detail) => new() { Failure = failure, Detail = detail };

    public static SubmissionResult Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        new() { Failure = SubmissionFailure.Invalid, Detail = "the request is not valid", Errors = errors };
}
