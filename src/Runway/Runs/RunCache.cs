using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
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
/// </list>
/// Pipelines without <c>cache:</c> pay nothing: no key, no lookup.
/// </remarks>
public sealed class RunCache(IDbContextFactory<RunwayDb> databases, Accounts accounts, RunwayPaths paths)
{
    /// <summary>How many earlier runs with the key are looked at (other users' first, when not shared, are skipped).</summary>
    private const int Candidates = 20;

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

    /// <summary>The earlier run whose outputs a new run with this key may serve, or null.</summary>
    public async Task<Run?> FindSourceAsync(string key, Submitter submitter, PipelineCache mode, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var candidates = await db.Runs.AsNoTracking()
            .Where(r => r.CacheKey == key && r.State == RunState.Succeeded && r.CachedFrom == null && r.FilesPurgedAt == null)
            .OrderByDescending(r => r.Id).Take(Candidates).ToListAsync(ct);
        foreach (var run in candidates.OrderByDescending(r => r.Owner == submitter.Name))
        {
            if (run.Owner != submitter.Name && !(mode == PipelineCache.Shared && await SharesGroupAsync(submitter, run.Owner, ct)))
            {
                continue;
            }
            if (Directory.Exists(paths.RunDirectory(run.Id)))
            {
                return run;
            }
        }
        return null;
    }

    /// <summary>
    /// Stores <paramref name="run"/> as succeeded from <paramref name="source"/>, with both events and its audit entry in one
    /// transaction. Not through <see cref="IRunStore.TryTransitionAsync"/>: it never moves, it is born final, so no
    /// scheduler ever sees it queued. False when its idempotency key was taken meanwhile (the caller replays that run).
    /// </summary>
    public async Task<bool> AddAsync(Run run, Run source, AuditRecord audit, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var at = run.SubmittedAt;
        db.Runs.Add(run);
        db.RunEvents.Add(new RunEvent { RunId = run.Id, From = null, To = RunState.Queued, Reason = "submitted", At = at });
        db.RunEvents.Add(new RunEvent
        {
            RunId = run.Id,
            From = RunState.Queued,
            To = RunState.Succeeded,
            At = at,
            Reason = $"reused the outputs of run {source.Id} (cache: same pipeline version, parameters and input files); nothing executed",
        });
        db.AuditEntries.Add(AuditEntry.From(audit));
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException) when (run.IdempotencyKey is not null)
        {
            return false;
        }
    }

    private async Task<bool> SharesGroupAsync(Submitter submitter, string owner, CancellationToken ct) =>
        submitter.Groups.Count > 0 && await accounts.FindAsync(owner, ct) is { } account && account.GroupList.Any(submitter.Groups.Contains);

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Canonical)]),
        _ => node?.DeepClone(),
    };
}
