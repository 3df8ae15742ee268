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
        if (catalog.Find(submission.Pipeline) is not { } pipeline || !MayUse(submitter, pipeline))
        {
            return SubmissionResult.Failed(SubmissionFailure.UnknownPipeline, $"no pipeline named '{submission.Pipeline}'");
        }
        var validation = ParameterValidator.Validate(pipeline, submission.Params);
        var errors = validation.Errors.ToDictionary(e => $"params.{e.Key}", e => e.Value);
        SubmissionRules.Check(submission, errors);
        var files = await ResolveFilesAsync(pipeline, validation.Params, submitter.Name, errors, cancellationToken);
        if (errors.Count > 0)
        {
            return SubmissionResult.Invalid(errors);
        }
        if (!SubmissionRules.MayUsePriority(submission.Priority, submitter, options.PriorityGroup))
        {
            return SubmissionResult.Failed(SubmissionFailure.PriorityNotAllowed,
                $"only admins{(string.IsNullOrWhiteSpace(options.PriorityGroup) ? "" : $" and members of the group '{options.PriorityGroup}'")} may set a priority above 0");
        }

        var id = Ids.NewRunId(clock);
        var spec = RunSpecFactory.Create(pipeline, validation.Params, id, paths.RunDirectory(id), files);
        var executor = pipeline.Executor ?? options.DefaultExecutor;
        if (options.LimitsOf(executor) is var (limits, settings) && limits.Check(spec, executor, settings) is { Count: > 0 } over)
        {
            return SubmissionResult.Failed(SubmissionFailure.OverLimit, string.Join("; ", over));
        }
        var run = new Run
        {
            Id = id,
            Pipeline = pipeline.Name,
            PipelineVersion = pipeline.Version,
            Name = submission.Name,
            ParamsJson = validation.Params.ToJsonString(),
            TagsJson = JsonSerializer.Serialize(submission.Tags ?? new Dictionary<string, string>()),
            Priority = submission.Priority ?? 0,
            Owner = submitter.Name,
            State = RunState.Queued,
            Executor = executor,
            SubmittedAt = WholeMicroseconds(clock.GetUtcNow()),
            SpecJson = RunSpecJson.Serialize(spec),
            IdempotencyKey = key,
            IdempotencyFingerprint = fingerprint,
            ResubmittedFrom = submission.ResubmittedFrom,
            ScheduleId = submission.ScheduleId,
            ScheduledFor = submission.ScheduledFor,
        };
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
        // Pipelines have one version each (the catalog's current one): another is named so the caller knows what they get.
        if (pipelineVersion is not null && catalog.Find(earlier.Pipeline) is { } current && current.Version != pipelineVersion)
        {
            return SubmissionResult.Invalid(new Dictionary<string, string[]>
            {
                ["pipeline_version"] = [$"'{pipelineVersion}' is not available; the current version of '{current.Name}' is '{current.Version}'"],
            });
        }
        var submission = new RunSubmission(earlier.Pipeline, JsonNode.Parse(earlier.ParamsJson)?.AsObject(), earlier.Name,
            JsonSerializer.Deserialize<Dictionary<string, string>>(earlier.TagsJson), earlier.Priority, IdempotencyKey: null, ResubmittedFrom: earlier.Id);
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
    private static DateTimeOffset WholeMicroseconds(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % 10), TimeSpan.Zero);

    /// <summary>Marks the uploads used now; the id of one that is gone (deleted since it was looked up), else null.</summary>
    private async Task<string?> TouchAsync(List<string> ids, CancellationToken cancellationToken)
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

    /// <summary>Each file parameter names an upload of the submitter's: look them up, or say which is missing.</summary>
    private async Task<Dictionary<string, StoredFile>> ResolveFilesAsync(
        Pipeline pipeline, JsonObject validated, string owner, Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, StoredFile>();
        var wanted = pipeline.Parameters.Where(p => p.Type == ParameterType.File && !errors.ContainsKey($"params.{p.Name}")).ToList();
        if (wanted.Count == 0)
        {
            return files;
        }
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        foreach (var parameter in wanted)
        {
            if (validated[parameter.Name]?.GetValue<string>() is not { } fileId)
            {
                continue;
            }
            var file = await db.Files.AsNoTracking().FirstOrDefaultAsync(f => f.Id == fileId && f.Owner == owner, cancellationToken);
            if (file is null)
            {
                errors[$"params.{parameter.Name}"] = [$"no uploaded file with id '{fileId}'"];
                continue;
            }
            files[parameter.Name] = file;
        }
        return files;
    }
}
