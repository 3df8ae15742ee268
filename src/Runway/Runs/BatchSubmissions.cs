using System.Text.Json;
using System.Text.Json.Nodes;
using Runway.Data;
using Runway.Files;
using Runway.Pipelines;
using Runway.Storage;

namespace Runway.Runs;

/// <summary>
/// Turns a batch into queued runs: every row goes through the single submission's own checks
/// (<see cref="Submissions"/>: parameters, files, limits), all rows are checked before anything is stored, and the
/// batch is stored with all its runs in one transaction (<see cref="BatchStore"/>). One bad row: nothing is queued.
/// </summary>
public sealed class BatchSubmissions(
    Submissions submissions,
    BatchStore store,
    RunCache cache,
    RunScheduler scheduler,
    StorageQuota quota,
    BatchOptions options,
    TimeProvider clock,
    Logging.AuditSyslog syslog,
    ILogger<BatchSubmissions> logger)
{
    /// <summary>Problems listed in one answer at most; the detail still says how many there were.</summary>
    public const int MaxProblemsListed = 1000;

    public async Task<BatchResult> SubmitAsync(BatchSubmission submission, Submitter submitter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(submission);
        ArgumentNullException.ThrowIfNull(submitter);
        var problems = new List<BatchProblem>(submission.RowProblems);
        if (Shape(submission, problems) is not { } jobs)
        {
            return Invalid(problems);
        }
        // Nothing may hash parameters that are not text, so the text is checked before the fingerprint.
        foreach (var job in jobs)
        {
            if (JsonText.FindInvalid(job.Params, "params") is { } broken)
            {
                problems.Add(new BatchProblem(job.Row, job.RowPipeline, broken, "is not valid text: invalid UTF-8 or a lone UTF-16 surrogate"));
            }
        }
        if (problems.Count > submission.RowProblems.Count)
        {
            return Invalid(problems);
        }
        // As for a run: a retry is answered with the first batch before anything else is checked.
        var key = string.IsNullOrEmpty(submission.IdempotencyKey) ? null : submission.IdempotencyKey;
        var fingerprint = key is null ? null : submission.Fingerprint();
        if (key is not null && await store.FindByKeyAsync(submitter.Name, key, cancellationToken) is { } earlier)
        {
            return Replay(earlier, fingerprint);
        }

        // A pipeline the caller may not run refuses the whole batch, as a single submission would be (404).
        var pipelines = new Dictionary<string, Pipeline>(StringComparer.Ordinal);
        foreach (var name in jobs.Select(j => j.Pipeline!).Distinct(StringComparer.Ordinal))
        {
            if (submissions.Usable(name, submitter) is not { } pipeline)
            {
                return BatchResult.Failed(SubmissionFailure.UnknownPipeline, $"no pipeline named '{name}': nothing was queued");
            }
            pipelines[name] = pipeline;
        }
        var fields = new Dictionary<string, string[]>();
        SubmissionRules.Check(new RunSubmission(null, null, submission.Name, submission.Tags, null, key), fields);
        problems.AddRange(fields.SelectMany(f => f.Value.Select(m => new BatchProblem(null, null, f.Key, m))));

        // Every row checked, then every file they name looked up in one go, then each row's files resolved.
        var checkedRows = jobs.Select(job =>
        {
            var errors = new Dictionary<string, string[]>();
            var pipeline = pipelines[job.Pipeline!];
            return (Job: job, Pipeline: pipeline, Validated: Submissions.CheckParams(pipeline, job.Params, errors), Errors: errors);
        }).ToList();
        var known = await submissions.LoadFilesAsync(submitter.Name,
            checkedRows.SelectMany(c => Submissions.FileIdsOf(c.Pipeline, c.Validated, c.Errors)), cancellationToken);
        var row = new RunSubmission(null, null, submission.Name, submission.Tags, null, null);
        var batchId = Batch.NewId(clock);
        var built = new List<(Run Run, PipelineCache Mode)>(checkedRows.Count);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var sheetProblems = submission.RowProblems.Select(p => (p.Row, p.Field)).ToHashSet();
        foreach (var (job, pipeline, validated, errors) in checkedRows)
        {
            var files = Submissions.ResolveFiles(pipeline, validated, known, errors);
            if (errors.Count == 0)
            {
                var (run, over) = submissions.Build(pipeline, validated, files, row, submitter.Name, batchId);
                if (run is null)
                {
                    errors["resources"] = [over!];
                }
                else
                {
                    built.Add((run, pipeline.Cache));
                    used.UnionWith(files.Values.Select(f => f.Id));
                }
            }
            // A cell the sheet reader already refused is not reported again as missing.
            problems.AddRange(errors.Where(e => !sheetProblems.Contains((job.Row, e.Key)))
                .SelectMany(e => e.Value.Select(m => new BatchProblem(job.Row, job.RowPipeline, e.Key, m, ColumnOf(submission, e.Key)))));
        }
        if (problems.Count > 0)
        {
            return Invalid(problems);
        }

        if (await quota.OfAsync(submitter.Name, submitter.Groups, cancellationToken) is { Exceeded: true } use)
        {
            return BatchResult.Failed(SubmissionFailure.OverQuota, $"{use.Detail}: delete uploads or purge finished runs' files (DELETE /api/v1/runs/{{id}}/files)", use);
        }
        // Marked used before the runs are stored, as for a single submission (RetentionSweep).
        if (used.Count > 0 && await submissions.TouchAsync([.. used], cancellationToken) is { } gone)
        {
            return Invalid([new BatchProblem(null, null, "params", $"no uploaded file with id '{gone}' (it was deleted meanwhile)")]);
        }
        // Each row that an earlier run answers ends at once, exactly as a single submission would (RunCache).
        var runs = await cache.ReuseAsync(built, submission.Cache, submitter, cancellationToken);

        var batch = new Batch
        {
            Id = batchId,
            Name = submission.Name,
            TagsJson = JsonSerializer.Serialize(submission.Tags ?? new Dictionary<string, string>()),
            Owner = submitter.Name,
            CreatedAt = Submissions.WholeMicroseconds(clock.GetUtcNow()),
            Cache = submission.Cache,
            PipelinesJson = JsonSerializer.Serialize(pipelines.Keys.Order(StringComparer.Ordinal)),
            IdempotencyKey = key,
            IdempotencyFingerprint = fingerprint,
        };
        var audit = new AuditRecord(clock.GetUtcNow(), submitter.Name, "batch.submit", batchId, submitter.Address);
        if (!await store.AddAsync(batch, runs, audit, cancellationToken))
        {
            return Replay((await store.FindByKeyAsync(submitter.Name, key!, cancellationToken))!, fingerprint);
        }
        scheduler.Wake();
        syslog.Send(audit);
        foreach (var run in runs)
        {
            RunwayMetrics.Submitted(run);
        }
        logger.LogInformation("Batch {BatchId} of {Count} runs submitted by {Owner} ({Reused} reused earlier outputs)",
            batchId, runs.Count, submitter.Name, runs.Count(r => r.CachedFrom is not null));
        return BatchResult.Accepted(batch, runs, replayed: false);
    }

    private static BatchResult Invalid(List<BatchProblem> problems) => BatchResult.Invalid(problems);

    private static string? ColumnOf(BatchSubmission submission, string field) =>
        field.StartsWith("params.", StringComparison.Ordinal) && submission.Columns?.GetValueOrDefault(field["params.".Length..]) is { } column ? column : null;

    private static BatchResult Replay(Batch earlier, string? fingerprint) =>
        earlier.IdempotencyFingerprint == fingerprint
            ? BatchResult.Accepted(earlier, [], replayed: true)
            : BatchResult.Failed(SubmissionFailure.KeyReused,
                $"the Idempotency-Key '{earlier.IdempotencyKey}' was used for batch {earlier.Id} with a different request body; use a new key for a new batch");

    /// <summary>
    /// The runs the batch asks for, one per row or per fan-out pipeline; null with <paramref name="problems"/> filled
    /// when the body is neither shape or is over the row cap.
    /// </summary>
    private List<Job>? Shape(BatchSubmission submission, List<BatchProblem> problems)
    {
        var before = problems.Count;
        var rows = submission.Rows is not null || submission.Pipeline is not null;
        var fanOut = submission.Pipelines is not null || submission.Params is not null;
        if (rows == fanOut)
        {
            problems.Add(new BatchProblem(null, null, "pipeline", "give either \"pipeline\" and \"rows\" (one run per row) or \"pipelines\" and \"params\" (one run per pipeline)"));
            return null;
        }
        var count = rows ? submission.Rows?.Count ?? 0 : submission.Pipelines?.Count ?? 0;
        var field = rows ? "rows" : "pipelines";
        if (count == 0)
        {
            problems.Add(new BatchProblem(null, null, field, "must hold at least one entry"));
        }
        else if (count > options.MaxRows)
        {
            problems.Add(new BatchProblem(null, null, field, $"holds {count} entries; a batch holds at most {options.MaxRows} runs (Runway:Batches:MaxRows)"));
        }
        if (rows && string.IsNullOrWhiteSpace(submission.Pipeline))
        {
            problems.Add(new BatchProblem(null, null, "pipeline", "is required"));
        }
        if (!rows && submission.Pipelines!.Any(string.IsNullOrWhiteSpace))
        {
            problems.Add(new BatchProblem(null, null, "pipelines", "every entry must name a pipeline"));
        }
        if (!rows && submission.Pipelines!.Distinct(StringComparer.Ordinal).Count() != submission.Pipelines!.Count)
        {
            problems.Add(new BatchProblem(null, null, "pipelines", "names a pipeline twice"));
        }
        if (problems.Count > before)
        {
            return null;
        }
        return rows
            ? [.. submission.Rows!.Select((parameters, i) => new Job(submission.RowNumbers?[i] ?? i + 1, submission.Pipeline, null, parameters))]
            : [.. submission.Pipelines!.Select(name => new Job(null, name, name, submission.Params?.DeepClone().AsObject()))];
    }

    /// <param name="RowPipeline">The pipeline named in a problem: fan-out's, so the caller sees which of them.</param>
    private sealed record Job(int? Row, string? Pipeline, string? RowPipeline, JsonObject? Params);
}
