using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Runway.Auth;
using Runway.Data;
using Runway.Files;
using Runway.Pipelines;

namespace Runway.Runs;

/// <summary>
/// Result reuse (issue 14): a run of a pipeline with <c>cache: true|shared</c> whose pipeline version, parameters and input
/// files' bytes equal those of an earlier succeeded run ends at once as succeeded, <see cref="Run.CachedFrom"/> naming
/// that run, and serves its outputs from that run's directory (nothing is copied or executed).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>The key is computed at submission and stored (indexed) on every run of such a pipeline, reused or not, so a run
/// submitted with <c>"cache": false</c> is still a source for later ones.</item>
/// <item>Sources are runs that executed (never a cached run: its source is the one to name), succeeded, and whose files
/// were not purged. If the source is purged later, the cached run's files answer 410 as its own would (RunFilesApi).</item>
/// <item>Owners: the submitter's own runs; with <c>cache: shared</c> also those of a user who shares a group with them.</item>
/// <item>Single submissions and a batch's rows take the same path (<see cref="ReuseAsync"/>): a batch row ends at once as
/// a single submission would.</item>
/// </list>
/// Pipelines without <c>cache:</c> pay nothing: no key, no lookup.
/// </remarks>
public sealed class RunCache(IDbContextFactory<RunwayDb> databases, Accounts accounts, RunwayPaths paths)
{
    /// <summary>Cache keys looked up per query: an IN list of a few hundred (a batch may hold thousands of rows).</summary>
    private const int KeysPerQuery = 500;

    /// <summary>
    /// SHA-256 over name, version, the parameters with keys sorted and each file id replaced by its file's sha256
    /// (two uploads of the same bytes are the same input), as canonical JSON.
    /// </summary>
    public static string Key(Pipeline pipeline, JsonObject validated, IReadOnlyDictionary<string, StoredFile> files)
    {
        var parameters = new JsonObject();
        foreach (var (name, value) in validated.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            parameters[name] = files.TryGetValue(name, out var file) ? $"sha256:{file.Sha256}" : Canonical(value);
        }
        var key = new JsonObject { ["pipeline"] = pipeline.Name, ["version"] = pipeline.Version, ["params"] = parameters };
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToJsonString())));
    }

    /// <summary>
    /// The runs to store for a submission's new runs (one, or a batch's rows): each whose key has a source is replaced by
    /// <see cref="Reused"/>, the rest are returned as they are. <paramref name="cache"/> false (the submission refused
    /// reuse) returns them all as they are. Two identical rows of one batch both execute: neither has succeeded yet, so
    /// neither is the other's source (as Cromwell's call caching does within one workflow).
    /// </summary>
    public async Task<List<Run>> ReuseAsync(IReadOnlyList<(Run Run, PipelineCache Mode)> runs, bool? cache, Submitter submitter, CancellationToken ct)
    {
        var wanted = cache == false ? [] : runs.Where(r => r.Run.CacheKey is not null && r.Mode != PipelineCache.Off).ToList();
        if (wanted.Count == 0)
        {
            return [.. runs.Select(r => r.Run)];
        }
        var sources = await FindSourcesAsync(wanted, submitter, ct);
        return [.. runs.Select(r => r.Run.CacheKey is { } key && r.Mode != PipelineCache.Off && sources.TryGetValue(key, out var source) ? Reused(r.Run, source) : r.Run)];
    }

    /// <summary>
    /// Per key, the earlier run whose outputs a new run with it may serve: the submitter's own newest first, then (where
    /// the key's pipeline says <c>cache: shared</c>) a group member's; only one whose directory is still there.
    /// One projected query per <see cref="KeysPerQuery"/> keys, whatever the number of rows.
    /// </summary>
    private async Task<Dictionary<string, Source>> FindSourcesAsync(List<(Run Run, PipelineCache Mode)> wanted, Submitter submitter, CancellationToken ct)
    {
        // A key names the pipeline and its version, so one key has one mode.
        var modes = new Dictionary<string, PipelineCache>(StringComparer.Ordinal);
        foreach (var (run, mode) in wanted)
        {
            modes.TryAdd(run.CacheKey!, mode);
        }
        var candidates = new List<Source>();
        await using (var db = await databases.CreateDbContextAsync(ct))
        {
            foreach (var chunk in modes.Keys.Chunk(KeysPerQuery))
            {
                candidates.AddRange(await db.Runs.AsNoTracking()
                    .Where(r => r.CacheKey != null && chunk.Contains(r.CacheKey) && r.State == RunState.Succeeded && r.CachedFrom == null && r.FilesPurgedAt == null)
                    .Select(r => new Source(r.Id, r.Owner, r.CacheKey!, r.ExitCode)).ToListAsync(ct));
            }
        }
        var shares = new Dictionary<string, bool>(StringComparer.Ordinal) { [submitter.Name] = true };
        var found = new Dictionary<string, Source>(StringComparer.Ordinal);
        foreach (var group in candidates.GroupBy(c => c.Key))
        {
            foreach (var run in group.OrderByDescending(r => r.Owner == submitter.Name).ThenByDescending(r => r.Id, StringComparer.Ordinal))
            {
                if (run.Owner != submitter.Name && modes[group.Key] != PipelineCache.Shared)
                {
                    continue;
                }
                if (!shares.TryGetValue(run.Owner, out var shared))
                {
                    shares[run.Owner] = shared = await SharesGroupAsync(submitter, run.Owner, ct);
                }
                if (shared && Directory.Exists(paths.RunDirectory(run.Id)))
                {
                    found[group.Key] = run;
                    break;
                }
            }
        }
        return found;
    }

    /// <summary>The queued run as it is stored when it reuses <paramref name="source"/>: born succeeded, nothing to execute.</summary>
    private static Run Reused(Run queued, Source source) => new()
    {
        Id = queued.Id,
        Pipeline = queued.Pipeline,
        PipelineVersion = queued.PipelineVersion,
        Name = queued.Name,
        ParamsJson = queued.ParamsJson,
        TagsJson = queued.TagsJson,
        Priority = queued.Priority,
        Owner = queued.Owner,
        Executor = queued.Executor,
        SubmittedAt = queued.SubmittedAt,
        SpecJson = queued.SpecJson,
        IdempotencyKey = queued.IdempotencyKey,
        IdempotencyFingerprint = queued.IdempotencyFingerprint,
        CacheKey = queued.CacheKey,
        BatchId = queued.BatchId,
        ResubmittedFrom = queued.ResubmittedFrom,
        ScheduleId = queued.ScheduleId,
        ScheduledFor = queued.ScheduledFor,
        // Its notifications are due at once: it is born finished (NotificationOutbox.DueAsync).
        Notify = queued.Notify,
        State = RunState.Succeeded,
        StartedAt = queued.SubmittedAt,
        FinishedAt = queued.SubmittedAt,
        ExitCode = source.ExitCode,
        Message = $"reused the outputs of run {source.Id}",
        CachedFrom = source.Id,
        FilesBytes = 0,
    };

    /// <summary>The reason of a reused run's second event (queued to succeeded), wherever it is stored.</summary>
    public static string ReusedReason(string sourceId) =>
        $"reused the outputs of run {sourceId} (cache: same pipeline version, parameters and input files); nothing executed";

    /// <summary>
    /// Stores a single submission's reused run through <see cref="RunInserts"/>, the multi-row insert every other run
    /// takes: the run, both events (queued, then succeeded from its source), its notifications' outbox rows and its
    /// audit entry in one transaction. Not through the group commit or <see cref="IRunStore.TryTransitionAsync"/>: it is
    /// born final, so no scheduler ever sees it queued. False when its idempotency key was taken meanwhile (the caller
    /// replays that run).
    /// </summary>
    public async Task<bool> AddAsync(Run run, AuditRecord audit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(run);
        await using var db = await databases.CreateDbContextAsync(ct);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await using var inserts = new RunInserts(db.Database.GetDbConnection(), db.Database.IsSqlite());
            await inserts.InsertAsync([(run, AuditEntry.From(audit))], tx.GetDbTransaction(), ct);
            await tx.CommitAsync(ct);
            return true;
        }
        catch (DbException e) when (run.IdempotencyKey is not null && StoreErrors.IsIdempotencyConflict(e))
        {
            return false;
        }
    }

    /// <summary>An earlier run that may serve a key: only what choosing it and naming it needs (not its spec).</summary>
    private sealed record Source(string Id, string Owner, string Key, int? ExitCode);

    private async Task<bool> SharesGroupAsync(Submitter submitter, string owner, CancellationToken ct) =>
        submitter.Groups.Count > 0 && await accounts.FindAsync(owner, ct) is { } account && account.GroupList.Any(submitter.Groups.Contains);

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Canonical)]),
        _ => node?.DeepClone(),
    };
}
