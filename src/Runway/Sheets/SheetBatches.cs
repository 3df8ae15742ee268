using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Sheets;

/// <summary>
/// A batch from a spreadsheet (issue 14): one row per run, a header naming the parameters. Each cell becomes its
/// parameter's JSON type here, with a problem per cell (row, column, why) when it cannot; file parameters take a file
/// id or the name of one of the caller's uploads. The rows then go through <see cref="BatchSubmissions"/>, the same
/// checks as JSON rows, so a sheet is refused whole or queued whole.
/// </summary>
public sealed class SheetBatches(BatchSubmissions batches, Submissions submissions, IDbContextFactory<RunwayDb> databases, BatchOptions options)
{
    public async Task<BatchResult> SubmitAsync(SheetUpload upload, Submitter submitter, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentNullException.ThrowIfNull(submitter);
        if (string.IsNullOrWhiteSpace(upload.Pipeline))
        {
            return BatchResult.Invalid([new BatchProblem(null, null, "pipeline", "is required: the form field 'pipeline' names the pipeline of every row")]);
        }
        if (submissions.Usable(upload.Pipeline, submitter) is not { } pipeline)
        {
            return BatchResult.Failed(SubmissionFailure.UnknownPipeline, $"no pipeline named '{upload.Pipeline}': nothing was queued");
        }
        if (upload.Rows is null)
        {
            return BatchResult.Invalid([new BatchProblem(null, null, "rows", "is required: the sheet goes in the file field 'rows' (CSV or XLSX)")]);
        }
        Sheet sheet;
        try
        {
            sheet = await SheetReader.ReadAsync(upload.Rows, new SheetLimits(options.MaxRows, options.MaxCells, ParameterValidator.MaxStringLength), ct);
        }
        catch (SheetException e)
        {
            return BatchResult.Invalid([new BatchProblem(null, null, "rows", e.Message)]);
        }
        var problems = new List<BatchProblem>();
        var columns = Columns(pipeline, sheet, problems);
        var names = await UploadsByNameAsync(pipeline, sheet, columns, submitter.Name, ct);
        var rows = new List<JsonObject?>(sheet.Rows.Count);
        foreach (var row in sheet.Rows)
        {
            var parameters = new JsonObject();
            foreach (var (index, parameter) in columns)
            {
                var cell = index < row.Cells.Count ? row.Cells[index] : new SheetCell(null);
                if (cell.IsEmpty)
                {
                    continue; // the default applies, or "is required" says it is missing
                }
                var (value, why) = cell.Error is { } error ? (null, error) : Convert(parameter, cell.Text!, names);
                if (why is not null)
                {
                    problems.Add(new BatchProblem(row.Number, null, $"params.{parameter.Name}", why, Sheet.ColumnName(index)));
                }
                else
                {
                    parameters[parameter.Name] = value;
                }
            }
            rows.Add(parameters);
        }
        if (rows.Count == 0 && problems.Count == 0)
        {
            problems.Add(new BatchProblem(null, null, "rows", "the sheet has a header but no rows"));
        }
        var submission = new BatchSubmission(pipeline.Name, rows, null, null, upload.Name, upload.Tags, upload.Cache, upload.IdempotencyKey)
        {
            RowProblems = problems,
            RowNumbers = [.. sheet.Rows.Select(r => r.Number)],
            Columns = columns.ToDictionary(c => c.Value.Name, c => Sheet.ColumnName(c.Key)),
        };
        return await batches.SubmitAsync(submission, submitter, ct);
    }

    /// <summary>Which column holds which parameter; a column that names none, or one named twice, is a problem of row 1.</summary>
    private static Dictionary<int, Parameter> Columns(Pipeline pipeline, Sheet sheet, List<BatchProblem> problems)
    {
        var columns = new Dictionary<int, Parameter>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < sheet.Header.Count; i++)
        {
            var name = sheet.Header[i];
            if (name.Length == 0)
            {
                continue;
            }
            if (pipeline.Parameters.FirstOrDefault(p => p.Name == name) is not { } parameter)
            {
                problems.Add(new BatchProblem(1, null, "columns", $"'{name}' is not a parameter of {pipeline.Name}; its parameters are: {string.Join(", ", pipeline.Parameters.Select(p => p.Name))}", Sheet.ColumnName(i)));
            }
            else if (!seen.Add(name))
            {
                problems.Add(new BatchProblem(1, null, "columns", $"'{name}' names a column twice", Sheet.ColumnName(i)));
            }
            else
            {
                columns[i] = parameter;
            }
        }
        return columns;
    }

    /// <summary>
    /// The caller's uploads named in file columns (cells that are not file ids), by name: one query per few hundred
    /// names. Only the caller's own files are looked at, so another user's file is never found by its name.
    /// </summary>
    private async Task<Dictionary<string, List<string>>> UploadsByNameAsync(
        Pipeline pipeline, Sheet sheet, Dictionary<int, Parameter> columns, string owner, CancellationToken ct)
    {
        var byName = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var fileColumns = columns.Where(c => c.Value.Type == ParameterType.File).Select(c => c.Key).ToList();
        var wanted = sheet.Rows.SelectMany(r => fileColumns.Where(i => i < r.Cells.Count).Select(i => r.Cells[i].Text?.Trim()))
            .Where(t => !string.IsNullOrEmpty(t) && !Ids.IsFileId(t)).Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0)
        {
            return byName;
        }
        await using var db = await databases.CreateDbContextAsync(ct);
        foreach (var chunk in wanted.Chunk(500))
        {
            var found = await db.Files.AsNoTracking().Where(f => f.Owner == owner && chunk.Contains(f.Name))
                .OrderByDescending(f => f.Id).Select(f => new { f.Name, f.Id }).ToListAsync(ct);
            foreach (var file in found)
            {
                (byName.TryGetValue(file.Name, out var ids) ? ids : byName[file.Name] = []).Add(file.Id);
            }
        }
        return byName;
    }

    /// <summary>The cell as the parameter's JSON type, or why it is not one. Ranges, patterns and enums are the validator's to check.</summary>
    private static (JsonNode? Value, string? Why) Convert(Parameter parameter, string text, Dictionary<string, List<string>> uploads)
    {
        var trimmed = text.Trim();
        switch (parameter.Type)
        {
            case ParameterType.Integer:
                if (long.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
                {
                    return (whole, null);
                }
                // A spreadsheet writes 3 as "3", but a computed one may be "3.0" or "3E+0".
                return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == Math.Floor(d) && Math.Abs(d) < 9e15
                    ? ((long)d, null)
                    : (null, $"'{Shorten(text)}' is not a whole number");
            case ParameterType.Number:
                return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                    ? (number, null)
                    : (null, $"'{Shorten(text)}' is not a number");
            case ParameterType.Boolean:
                return trimmed.ToUpperInvariant() switch
                {
                    "TRUE" or "YES" or "1" => (true, null),
                    "FALSE" or "NO" or "0" => (false, null),
                    _ => (null, $"'{Shorten(text)}' is not true or false"),
                };
            case ParameterType.File:
                if (Ids.IsFileId(trimmed))
                {
                    return (trimmed, null);
                }
                return uploads.TryGetValue(trimmed, out var ids) switch
                {
                    false => (null, $"'{Shorten(text)}' is neither a file id nor the name of one of your uploads"),
                    true when ids.Count > 1 => (null, $"{ids.Count} of your uploads are named '{Shorten(text)}'; give the file id ({string.Join(", ", ids.Take(3))}, …)"),
                    true => (ids[0], null),
                };
            default:
                return (text, null);
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

/// <summary>A multipart batch: the <c>pipeline</c> field, the sheet from the <c>rows</c> file field (seekable), and the batch's own fields.</summary>
public sealed record SheetUpload(string? Pipeline, Stream? Rows, string? Name, IReadOnlyDictionary<string, string>? Tags, bool? Cache, string? IdempotencyKey);
