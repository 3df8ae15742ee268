using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Execution;
using Runway.Files;
using Runway.Pipelines;
using Runway.Storage;

namespace Runway.Runs;

/// <summary>
/// Turns a submission into a queued run: the one path for the API, the web UI and later protocol views.
/// Checks it, answers a retry under the same idempotency key with the first run, and stores the run
/// with its audit entry in one transaction (<see cref="IRunStore.AddAsync(Run, AuditRecord?, CancellationToken)"/>).
/// </summary>
public sealed class Submissions(
    PipelineCatalog catalog,
    IDbContextFactory<RunwayDb> databases,
    IRunStore store,
    RunScheduler scheduler,
    RunwayPaths paths,
    RunwayOptions options,
    StorageQuota quota,
    TimeProvider clock,
    Logging.AuditSyslog syslog)
{
    public async Task<SubmissionResult> SubmitAsync(RunSubmission submission, Submitter submitter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(submission);
        ArgumentNullException.ThrowIfNull(submitter);
        // Nothing may read or hash parameters that are not text (they fail when read), so this comes first.
        if (JsonText.FindInvalid(submission.Params, "params") is { } broken)
        {
            return SubmissionResult.Invalid(new Dictionary<string, string[]> { [broken] = ["is not valid text: invalid UTF-8 or a lone UTF-16 surrogate"] });
        }

        // A retry is answered with the first run before anything else is checked: the pipeline may have
        // changed since, and the answer must not. The store settles a race of two first tries.
        var key = string.IsNullOrEmpty(submission.IdempotencyKey) ? null : submission.IdempotencyKey;
        var fingerprint = key is null ? null : submission.Fingerprint();
        if (key is not null && await FindByKeyAsync(submitter.Name, key, cancellationToken) is { } earlier)
        {
            return Replay(earlier, fingerprint);
        }

        if (string.IsNullOrWhiteSpace(submission.Pipeline))
        {
            return SubmissionResult.Invalid(new Dictionary<string, string[]> { ["pipeline"] = ["is required"] });
        }
        if (Usable(submission.Pipeline, submitter) is not { } pipeline)
        {
            return SubmissionResult.Failed(SubmissionFailure.UnknownPipeline, $"no pipeline named '{submission.Pipeline}'");
        }
        var errors = new Dictionary<string, string[]>();
        var validated = CheckParams(pipeline, submission.Params, errors);
        SubmissionRules.Check(submission, errors);
        var known = await LoadFilesAsync(submitter.Name, FileIdsOf(pipeline, validated, errors), cancellationToken);
        var files = ResolveFiles(pipeline, validated, known, errors);
        if (errors.Count > 0)
        {
            return SubmissionResult.Invalid(errors);
        }
        if (!SubmissionRules.MayUsePriority(submission.Priority, submitter, options.PriorityGroup))
        {
            return SubmissionResult.Failed(SubmissionFailure.PriorityNotAllowed,
                $"only admins{(string.IsNullOrWhiteSpace(options.PriorityGroup) ? "" : $" and members of the group '{options.PriorityGroup}'")} may set a priority above 0");
        }

        var (run, over) = Build(pipeline, validated, files, submission, submitter.Name, batchId: null, fingerprint);
        if (run is null)
        {
            return SubmissionResult.Failed(SubmissionFailure.OverLimit, over!);
        }
        var id = run.Id;
        // A user over their storage quota may not add run directories to it (507): the check reads a cached sum.
        if (await quota.OfAsync(submitter.Name, submitter.Groups, cancellationToken) is { Exceeded: true } use)
        {
            return SubmissionResult.Failed(SubmissionFailure.OverQuota, $"{use.Detail}: delete uploads or purge finished runs' files (DELETE /api/v1/runs/{{id}}/files)") with { Quota = use };
        }
        // Marked used before the run is stored: the retention sweep deletes an upload only while it is unused since
        // its cut-off, so once this succeeds the sweep leaves these files to the run (RetentionSweep).
        if (files.Count > 0 && await TouchAsync(files.Values.Select(f => f.Id).Distinct().ToList(), cancellationToken) is { } gone)
        {
            return SubmissionResult.Invalid(new Dictionary<string, string[]> { [$"params.{files.First(f => f.Value.Id == gone).Key}"] = [$"no uploaded file with id '{gone}'"] });
        }
        var audit = new AuditRecord(clock.GetUtcNow(), submitter.Name, "run.submit", id, submitter.Address);
        var (stored, created) = await store.AddAsync(run, audit, cancellationToken);
        if (!created)
        {
            return Replay(stored, fingerprint);
        }
        scheduler.Wake();
        syslog.Send(audit);
        RunwayMetrics.Submitted(stored);
        return SubmissionResult.Accepted(stored, replayed: false);
    }

    /// <summary>
    /// As draft-ietf-httpapi-idempotency-key-header says: the same key with the same body gets the first
    /// answer, with a different body a 422. A run stored before fingerprints were kept matches any body.
    /// </summary>
    private static SubmissionResult Replay(Run earlier, string? fingerprint) =>
        earlier.IdempotencyFingerprint is null || earlier.IdempotencyFingerprint == fingerprint
            ? SubmissionResult.Accepted(earlier, replayed: true)
            : SubmissionResult.Failed(SubmissionFailure.KeyReused,
                $"the Idempotency-Key '{earlier.IdempotencyKey}' was used for run {earlier.Id} with a different request body; use a new key for a new run");

    private async Task<Run?> FindByKeyAsync(string owner, string key, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Owner == owner && r.IdempotencyKey == key, cancellationToken);
    }

    /// <summary>A pipeline restricted to groups is for their members and admins only (as Api/Caller.MayUse).</summary>
    private static bool MayUse(Submitter submitter, Pipeline pipeline) =>
        pipeline.AllowedGroups.Count == 0 || submitter.IsAdmin || submitter.Groups.Any(pipeline.AllowedGroups.Contains);

    /// <summary>The database keeps microseconds: the 201 must show the same instant a later GET does.</summary>
    internal static DateTimeOffset WholeMicroseconds(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % 10), TimeSpan.Zero);

    /// <summary>Marks the uploads used now; the id of one that is gone (deleted since it was looked up), else null.</summary>
    internal async Task<string?> TouchAsync(List<string> ids, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        if (await db.Files.Where(f => ids.Contains(f.Id)).ExecuteUpdateAsync(s => s.SetProperty(f => f.LastUsedAt, now), cancellationToken) == ids.Count)
        {
            return null;
        }
        var present = await db.Files.Where(f => ids.Contains(f.Id)).Select(f => f.Id).ToListAsync(cancellationToken);
        return ids.Except(present, StringComparer.Ordinal).FirstOrDefault();
    }

    /// <summary>The pipeline by name when the submitter may use it; null for none (its existence is not revealed).</summary>
    internal Pipeline? Usable(string name, Submitter submitter) =>
        catalog.Find(name) is { } pipeline && MayUse(submitter, pipeline) ? pipeline : null;

    /// <summary>
    /// The parameters checked against the pipeline, defaults filled in; each problem lands in <paramref name="errors"/>
    /// under <c>params.NAME</c>. Text that cannot be read (invalid UTF-8, a lone surrogate) is refused first.
    /// </summary>
    internal static JsonObject CheckParams(Pipeline pipeline, JsonObject? parameters, Dictionary<string, string[]> errors)
    {
        if (JsonText.FindInvalid(parameters, "params") is { } broken)
        {
            errors[broken] = ["is not valid text: invalid UTF-8 or a lone UTF-16 surrogate"];
            return [];
        }
        var validation = ParameterValidator.Validate(pipeline, parameters);
        foreach (var (key, value) in validation.Errors)
        {
            errors[$"params.{key}"] = value;
        }
        return validation.Params;
    }

    /// <summary>
    /// The run as it will be stored, with its spec rendered; null with the reason when the pipeline asks more of its
    /// executor than the operator allows one run.
    /// </summary>
    internal (Run? Run, string? OverLimit) Build(
        Pipeline pipeline, JsonObject validated, IReadOnlyDictionary<string, StoredFile> files, RunSubmission submission, string owner, string? batchId,
        string? fingerprint = null)
    {
        var id = Ids.NewRunId(clock);
        var spec = RunSpecFactory.Create(pipeline, validated, id, paths.RunDirectory(id), files);
        var executor = pipeline.Executor ?? options.DefaultExecutor;
        if (options.LimitsOf(executor) is var (limits, settings) && limits.Check(spec, executor, settings) is { Count: > 0 } over)
        {
            return (null, string.Join("; ", over));
        }
        return (new Run
        {
            Id = id,
            Pipeline = pipeline.Name,
            PipelineVersion = pipeline.Version,
            Name = submission.Name,
            ParamsJson = validated.ToJsonString(),
            TagsJson = JsonSerializer.Serialize(submission.Tags ?? new Dictionary<string, string>()),
            Priority = submission.Priority ?? 0,
            Owner = owner,
            State = RunState.Queued,
            Executor = executor,
            SubmittedAt = WholeMicroseconds(clock.GetUtcNow()),
            SpecJson = RunSpecJson.Serialize(spec),
            IdempotencyKey = string.IsNullOrEmpty(submission.IdempotencyKey) ? null : submission.IdempotencyKey,
            IdempotencyFingerprint = fingerprint,
            BatchId = batchId,
        }, null);
    }

    /// <summary>The file ids the validated parameters name (those not already in error), to look up in one go.</summary>
    internal static IEnumerable<string> FileIdsOf(Pipeline pipeline, JsonObject validated, Dictionary<string, string[]> errors) =>
        pipeline.Parameters
            .Where(p => p.Type == ParameterType.File && !errors.ContainsKey($"params.{p.Name}"))
            .Select(p => validated[p.Name]?.GetValue<string>())
            .OfType<string>();

    /// <summary>The owner's uploads among <paramref name="ids"/>, by id; a chunked IN per few hundred ids (a batch may name thousands).</summary>
    internal async Task<Dictionary<string, StoredFile>> LoadFilesAsync(string owner, IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, StoredFile>(StringComparer.Ordinal);
        var wanted = ids.Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0)
        {
            return found;
        }
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        foreach (var chunk in wanted.Chunk(500))
        {
            foreach (var file in await db.Files.AsNoTracking().Where(f => chunk.Contains(f.Id) && f.Owner == owner).ToListAsync(cancellationToken))
            {
                found[file.Id] = file;
            }
        }
        return found;
    }

    /// <summary>Each file parameter names an upload of the submitter's (<paramref name="known"/>): take it, or say which is missing.</summary>
    internal static Dictionary<string, StoredFile> ResolveFiles(
        Pipeline pipeline, JsonObject validated, IReadOnlyDictionary<string, StoredFile> known, Dictionary<string, string[]> errors)
    {
        var files = new Dictionary<string, StoredFile>();
        foreach (var parameter in pipeline.Parameters.Where(p => p.Type == ParameterType.File && !errors.ContainsKey($"params.{p.Name}")))
        {
            if (validated[parameter.Name]?.GetValue<string>() is not { } fileId)
            {
                continue;
            }
            if (known.TryGetValue(fileId, out var file))
            {
                files[parameter.Name] = file;
            }
            else
            {
                errors[$"params.{parameter.Name}"] = [$"no uploaded file with id '{fileId}'"];
            }
        }
        return files;
    }
}
