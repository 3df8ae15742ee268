using System.Text.Json.Nodes;

namespace Runway.Cli;

// The client's own view of the HTTP contract (DESIGN.md, "Public interface"). Deliberately not shared with
// Api/: the CLI must keep working against a server of another version, so it reads only what it shows and
// leaves every other field to --json, which prints the server's JSON untouched.

/// <summary>A typed response together with the JSON it was read from, for <c>--json</c>.</summary>
internal sealed record Reply<T>(T Value, JsonNode Json);

internal sealed record PipelineList(IReadOnlyList<PipelineSummary> Pipelines);

internal sealed record PipelineSummary(string Name, string Version, string? Title = null, string? Description = null);

internal sealed record PipelineInfo(
    string Name,
    string Version,
    string? Title = null,
    string? Description = null,
    JsonObject? Parameters = null,
    JsonObject? Resources = null,
    JsonNode? Outputs = null,
    string? Executor = null);

internal sealed record RunInfo(
    string Id,
    string Pipeline,
    string State,
    string? PipelineVersion = null,
    string? Name = null,
    JsonObject? Params = null,
    JsonObject? Tags = null,
    int? Priority = null,
    string? Owner = null,
    string? Message = null,
    int? ExitCode = null,
    string? Executor = null,
    string? NativeId = null,
    string? Node = null,
    DateTimeOffset? SubmittedAt = null,
    DateTimeOffset? StartedAt = null,
    DateTimeOffset? FinishedAt = null,
    double? ElapsedSeconds = null,
    IReadOnlyList<RunEventInfo>? Events = null,
    long? FilesBytes = null,
    DateTimeOffset? FilesPurgedAt = null,
    ResourcesUsedInfo? ResourcesUsed = null);

internal sealed record ResourcesUsedInfo(double? WallSeconds = null, double? CpuSeconds = null, long? PeakMemoryBytes = null);

internal sealed record RunEventInfo(string To, string? From = null, string? Reason = null, DateTimeOffset? At = null);

internal sealed record RunPage(IReadOnlyList<RunInfo> Runs, string? NextCursor = null);

internal sealed record OutputList(IReadOnlyList<OutputInfo> Outputs, bool Truncated = false);

internal sealed record OutputInfo(string Path, long Size = 0, DateTimeOffset? ModifiedAt = null);

internal sealed record UploadedFile(string Id, string? Name = null, long Size = 0, string? Sha256 = null, string? Owner = null, DateTimeOffset? CreatedAt = null);

internal sealed record SubmitRequest(
    string Pipeline, JsonObject Params, string? Name, IReadOnlyDictionary<string, string>? Tags, int? Priority, bool? Cache = null, string? PipelineVersion = null);

internal sealed record FileList(IReadOnlyList<UploadedFile> Files);

internal sealed record RunQuery(string? State = null, string? Pipeline = null, string? Owner = null, IReadOnlyList<string>? Tags = null, int? Limit = null);

/// <summary>An RFC 9457 problem: what the server says went wrong, with per-field messages on validation failures.</summary>
internal sealed record ProblemInfo(
    string? Type = null,
    string? Title = null,
    int? Status = null,
    string? Detail = null,
    IReadOnlyDictionary<string, string[]>? Errors = null);

internal sealed record CreatedToken(string Id, string Name, string Token, IReadOnlyList<string>? Scopes = null, DateTimeOffset? ExpiresAt = null);

internal sealed record MeInfo(string Username, string Role, IReadOnlyList<string>? Scopes = null);

internal sealed record UsageReport(DateTimeOffset From, DateTimeOffset To, string GroupBy, IReadOnlyList<UsageLine> Rows, IReadOnlyList<StorageLine>? Storage = null);

/// <summary>What a user stores now (not in the range): uploads and run directories.</summary>
internal sealed record StorageLine(string User, long UploadsBytes, long RunFilesBytes, long TotalBytes);

internal sealed record UsageLine(
    string? Key, long Runs, IReadOnlyDictionary<string, long> RunsByState, double WallHours, double CpuHours,
    long? PeakMemoryP50Bytes = null, long? PeakMemoryP95Bytes = null, long? PeakMemoryMaxBytes = null);

internal sealed record NodeList(IReadOnlyList<NodeInfo> Nodes);

internal sealed record NodeInfo(
    string Name, string Role, string State, IReadOnlyList<string> Executors, int Capacity, int? Running, string Version,
    DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt, IReadOnlyList<NodeGpuInfo>? Gpus = null);

internal sealed record NodeGpuInfo(string Id, string? Run);

internal sealed record RetentionInfo(
    bool DryRun, IReadOnlyList<RetentionItemInfo> RunFiles, IReadOnlyList<RetentionItemInfo> Uploads, IReadOnlyList<RetentionItemInfo> RunRecords, long? FreedBytes = null);

internal sealed record RetentionItemInfo(string Id, string Owner, long? Bytes, DateTimeOffset Since);

/// <summary>A batch as GET /api/v1/batches/{id} answers it (issue 14).</summary>
internal sealed record BatchInfo(
    string Id, string? Name, string Owner, string State, int Total, IReadOnlyDictionary<string, int> Counts,
    IReadOnlyList<string>? FailedRunIds = null, DateTimeOffset? CreatedAt = null);

internal sealed record BatchPage(IReadOnlyList<BatchInfo> Batches, string? NextCursor = null);
/// <summary>POST /api/v1/runs/cancel's filter, as <c>runway cancel --all</c> sends it (null fields are left out).</summary>
internal sealed record CancelFilter(string? Pipeline, IReadOnlyDictionary<string, string>? Tags);

internal sealed record CancelResult(int Canceled, int CanceledQueued, int StopRequested, IReadOnlyList<string> RunIds);

internal sealed record ScheduleList(IReadOnlyList<ScheduleInfo> Schedules);

internal sealed record ScheduleInfo(
    string Id, string Name, string Pipeline, string Cron, string Timezone, bool Enabled, string CatchUp, string Overlap,
    IReadOnlyList<DateTimeOffset>? NextFireTimes = null, ScheduleFireInfo? LastFire = null);

internal sealed record ScheduleFireInfo(DateTimeOffset? For, string Outcome, string? Detail, string? RunId);
