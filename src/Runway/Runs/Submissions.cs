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
    RunCache cache,
    PipelineVersions versions,
    TimeProvider clock,
    Logging.AuditSyslog syslog,
    Notifications.NotifyTargets notifyTargets)
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

        var prepared = submission.Kind is { } kind
            ? await PrepareKindAsync(submission, kind, submitter.Name, cancellationToken)
            : await PreparePipelineAsync(submission, submitter, cancellationToken);
        if (prepared.Failure is { } failure)
        {
            return failure;
        }
        if (!SubmissionRules.MayUsePriority(submission.Priority, submitter, options.PriorityGroup))
        {
            return SubmissionResult.Failed(SubmissionFailure.PriorityNotAllowed,
                $"only admins{(string.IsNullOrWhiteSpace(options.PriorityGroup) ? "" : $" and members of the group '{options.PriorityGroup}'")} may set a priority above 0");
        }

        var (run, over) = Build(prepared, submission, submitter.Name, batchId: null, fingerprint);
        if (run is null)
        {
            return SubmissionResult.Failed(SubmissionFailure.OverLimit, over!);
        }
        var id = run.Id;
        var files = prepared.Files;
        // A user over their storage quota may not add run directories to it (507): the check reads a cached sum.
        if (await quota.OfAsync(submitter.Name, submitter.Groups, cancellationToken) is { Exceeded: true } use)
        {
            return SubmissionResult.Failed(SubmissionFailure.OverQuota, $"{use.Detail}: delete uploads or purge finished runs' files (DELETE /api/v1/runs/{{id}}/files)") with { Quota = use };
        }
        // Marked used before the run is stored: the retention sweep deletes an upload only while it is unused since
        // its cut-off, so once this succeeds the sweep leaves these files to the run (RetentionSweep).
        if (files.Count > 0 && await TouchAsync(files.Values.Select(f => f.Id).Distinct().ToList(), cancellationToken) is { } gone)
        {
            return SubmissionResult.Invalid(new Dictionary<string, string[]> { [prepared.FileField(files.First(f => f.Value.Id == gone).Key)] = [$"no uploaded file with id '{gone}'"] });
        }
        var audit = new AuditRecord(clock.GetUtcNow(), submitter.Name, "run.submit", id, submitter.Address);
        if ((await cache.ReuseAsync([(run, prepared.Cache)], submission.Cache, submitter, cancellationToken))[0] is { CachedFrom: not null } reused)
        {
            return await AddCachedAsync(reused, audit, fingerprint, cancellationToken);
        }
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

    /// <summary>The run ends at once with an earlier run's outputs (RunCache); a lost race for its idempotency key replays the winner.</summary>
    private async Task<SubmissionResult> AddCachedAsync(Run run, AuditRecord audit, string? fingerprint, CancellationToken cancellationToken)
    {
        if (!await cache.AddAsync(run, audit, cancellationToken))
        {
            return Replay((await FindByKeyAsync(run.Owner, run.IdempotencyKey!, cancellationToken))!, fingerprint);
        }
        syslog.Send(audit);
        RunwayMetrics.Submitted(run);
        return SubmissionResult.Accepted(run, replayed: false);
    }

    /// <summary>What a submission runs once checked, or why it may not run.</summary>
    private sealed record Prepared(
        string Pipeline, string Version, JsonObject Params, string Executor, IReadOnlyDictionary<string, StoredFile> Files,
        Func<string, string, IReadOnlyDictionary<string, StoredFile>, RunSpec> Spec, Func<string, string> FileField)
    {
        public SubmissionResult? Failure { get; init; }

        /// <summary>Who to tell when the run ends (an outbox row each).</summary>
        public IReadOnlyList<NotifyTarget> Notify { get; init; } = [];

        /// <summary>The pipeline's reuse rule and, when it allows reuse, the run's key (RunCache); a run of no pipeline has none.</summary>
        public PipelineCache Cache { get; init; } = PipelineCache.Off;

        public string? CacheKey { get; init; }

        public static Prepared Failed(SubmissionResult failure) => new("", "", [], "", new Dictionary<string, StoredFile>(), (_, _, _) => throw new InvalidOperationException(), f => f) { Failure = failure };
    }

    private async Task<Prepared> PreparePipelineAsync(RunSubmission submission, Submitter submitter, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(submission.Pipeline))
        {
            return Prepared.Failed(SubmissionResult.Invalid(new Dictionary<string, string[]> { ["pipeline"] = ["is required"] }));
        }
        var found = await versions.FindAsync(submission.Pipeline, submission.PipelineVersion, cancellationToken);
        if (found.Pipeline is not { } pipeline || !MayUse(submitter, pipeline))
        {
            // A version is only listed to whom may use the pipeline: its default decides, as for any other answer here.
            if (found.Known.Count > 0 && catalog.Find(submission.Pipeline) is { } latest && MayUse(submitter, latest))
            {
                return Prepared.Failed(SubmissionResult.Invalid(new Dictionary<string, string[]>
                {
                    ["pipeline_version"] = [$"'{submission.PipelineVersion}' is not a version of '{latest.Name}'; known versions (newest first): {string.Join(", ", found.Known.Select(v => v.Version))}"],
                }));
            }
            return Prepared.Failed(SubmissionResult.Failed(SubmissionFailure.UnknownPipeline, $"no pipeline named '{submission.Pipeline}'"));
        }
        var errors = new Dictionary<string, string[]>();
        var validated = CheckParams(pipeline, submission.Params, errors);
        SubmissionRules.Check(submission, errors);
        var known = await LoadFilesAsync(submitter.Name, FileIdsOf(pipeline, validated, errors), cancellationToken);
        var files = ResolveFiles(pipeline, validated, known, errors);
        var notify = await notifyTargets.ResolveAsync(submission.Notify, submitter.Name, errors, cancellationToken);
        if (errors.Count > 0)
        {
            return Prepared.Failed(SubmissionResult.Invalid(errors));
        }
        return ForPipeline(pipeline, validated, files) with { Notify = notify };
    }

    /// <summary>A run of no pipeline: its own fields are checked as any run's, its uploads must be the submitter's.</summary>
    private async Task<Prepared> PrepareKindAsync(RunSubmission submission, RunKind kind, string owner, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        SubmissionRules.Check(submission, errors);
        var files = new Dictionary<string, StoredFile>(StringComparer.Ordinal);
        if (kind.FileIds.Count > 0)
        {
            var wanted = kind.FileIds.Distinct(StringComparer.Ordinal).ToList();
            await using var db = await databases.CreateDbContextAsync(cancellationToken);
            var found = await db.Files.AsNoTracking().Where(f => wanted.Contains(f.Id) && f.Owner == owner).ToDictionaryAsync(f => f.Id, cancellationToken);
            foreach (var id in wanted)
            {
                if (found.TryGetValue(id, out var file))
                {
                    files[id] = file;
                }
                else
                {
                    errors["inputs"] = [.. errors.GetValueOrDefault("inputs") ?? [], $"no uploaded file with id '{id}'"];
                }
            }
        }
        var notify = await notifyTargets.ResolveAsync(submission.Notify, owner, errors, cancellationToken);
        if (errors.Count > 0)
        {
            return Prepared.Failed(SubmissionResult.Invalid(errors));
        }
        return new Prepared(kind.Pipeline, kind.Version, submission.Params ?? [], kind.Executor, files, kind.Spec, _ => "inputs") { Notify = notify };
    }

    /// <summary>
    /// A new run with the parameters (defaults as filled in then), input files, name, tags and priority of one of the
    /// submitter's runs, on the pipeline's current version, through <see cref="SubmitAsync"/>: checked as anew, so an
    /// input deleted since, or a parameter the pipeline no longer takes, is a 422 naming it. Another user's run is
    /// unknown (404); an admin may resubmit anyone's, as their own run, whose files must then be the admin's (else 422).
    /// </summary>
    public async Task<SubmissionResult> ResubmitAsync(string runId, string? pipelineVersion, Submitter submitter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(submitter);
        if (await store.GetAsync(runId, cancellationToken) is not { } earlier || (earlier.Owner != submitter.Name && !submitter.IsAdmin))
        {
            return SubmissionResult.Failed(SubmissionFailure.UnknownRun, $"no run with id '{runId}'");
        }
        var submission = new RunSubmission(earlier.Pipeline, JsonNode.Parse(earlier.ParamsJson)?.AsObject(), earlier.Name,
            JsonSerializer.Deserialize<Dictionary<string, string>>(earlier.TagsJson), earlier.Priority, IdempotencyKey: null, ResubmittedFrom: earlier.Id)
        {
            // The pipeline's current version unless one is named; an unknown one is the submission's 422 listing the known.
            PipelineVersion = pipelineVersion,
        };
        return await SubmitAsync(submission, submitter, cancellationToken);
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
    internal static bool MayUse(Submitter submitter, Pipeline pipeline) =>
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
        string? fingerprint = null) =>
        Build(ForPipeline(pipeline, validated, files), submission, owner, batchId, fingerprint);

    /// <summary>The one construction of a queued run, for a single submission and a batch's rows alike.</summary>
    private (Run? Run, string? OverLimit) Build(Prepared prepared, RunSubmission submission, string owner, string? batchId, string? fingerprint)
    {
        var id = Ids.NewRunId(clock);
        var spec = prepared.Spec(id, paths.RunDirectory(id), prepared.Files);
        var executor = prepared.Executor;
        if (options.LimitsOf(executor) is var (limits, settings) && limits.Check(spec, executor, settings) is { Count: > 0 } over)
        {
            return (null, string.Join("; ", over));
        }
        return (new Run
        {
            Id = id,
            Pipeline = prepared.Pipeline,
            PipelineVersion = prepared.Version,
            Name = submission.Name,
            ParamsJson = prepared.Params.ToJsonString(),
            // Most submissions carry no tags: their "{}" is what the serializer writes for an empty map, without it.
            TagsJson = submission.Tags is { Count: > 0 } tags ? JsonSerializer.Serialize(tags) : "{}",
            Priority = submission.Priority ?? 0,
            Owner = owner,
            State = RunState.Queued,
            Executor = executor,
            SubmittedAt = WholeMicroseconds(clock.GetUtcNow()),
            SpecJson = RunSpecJson.Serialize(spec),
            IdempotencyKey = string.IsNullOrEmpty(submission.IdempotencyKey) ? null : submission.IdempotencyKey,
            IdempotencyFingerprint = fingerprint,
            // Every run of a pipeline with cache: carries its key, so a later identical run may reuse it (RunCache).
            CacheKey = prepared.CacheKey,
            Notify = prepared.Notify,
            ResubmittedFrom = submission.ResubmittedFrom,
            ScheduleId = submission.ScheduleId,
            ScheduledFor = submission.ScheduledFor,
            BatchId = batchId,
        }, null);
    }

    /// <summary>A pipeline's checked run: its spec, its executor and, where the pipeline allows reuse, its cache key.</summary>
    private Prepared ForPipeline(Pipeline pipeline, JsonObject validated, IReadOnlyDictionary<string, StoredFile> files) =>
        new(pipeline.Name, pipeline.Version, validated, pipeline.Executor ?? options.DefaultExecutor, files,
            (id, directory, staged) => RunSpecFactory.Create(pipeline, validated, id, directory, staged), name => $"params.{name}")
        {
            Cache = pipeline.Cache,
            CacheKey = pipeline.Cache == PipelineCache.Off ? null : RunCache.Key(pipeline, validated, files),
        };

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
