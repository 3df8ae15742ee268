using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Runway.Api;
using Runway.Auth;
using Runway.Files;
using Runway.Pipelines;
using Runway.Runs;
using Runway.Storage;

namespace Runway.Compat.Ga4gh.Wes;

/// <summary>
/// WES's RunWorkflow: a multipart body read section by section. Every part but <c>workflow_attachment</c> is a text
/// field, whether or not it carries a filename (Python requests, which wes-client and Toil use, gives every part
/// one). Attachments become the caller's uploads as they stream in, and a file parameter whose value is an
/// attachment's name gets that upload's id; the run itself goes through <see cref="Submissions"/>. A refused
/// submission deletes the attachments it stored.
/// </summary>
public static class WesSubmit
{
    private const int MaxFieldBytes = 1024 * 1024;
    private static readonly string[] Fields =
        ["workflow_params", "workflow_type", "workflow_type_version", "tags", "workflow_engine", "workflow_engine_version", "workflow_engine_parameters", "workflow_url"];

    public static async Task<Results<Ok<WesRunId>, JsonHttpResult<ErrorResponse>>> SubmitAsync(
        HttpContext http, Submissions submissions, Uploads uploads, OwnedFiles owned, PipelineCatalog catalog, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var media)
            || !media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(media.Boundary).Value is not { Length: > 0 } boundary)
        {
            return ErrorResponse.Of(400, $"send the run as multipart/form-data with the fields {string.Join(", ", Fields)} and workflow_attachment files");
        }
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var attachments = new Dictionary<string, StoredFile>(StringComparer.Ordinal);
        var refused = await ReadAsync(new MultipartReader(boundary, http.Request.Body), http, uploads, fields, attachments, cancellationToken);
        refused ??= await SubmitAsync(fields, attachments, http, submissions, catalog, cancellationToken);
        if (refused is { Value: null, RunId: { } runId })
        {
            return TypedResults.Ok(new WesRunId(runId));
        }
        foreach (var file in attachments.Values)
        {
            await owned.DeleteAsync(http.User, file.Id, Audit.AddressOf(http), CancellationToken.None);
        }
        return refused.Value!;
    }

    /// <summary>What a step decided: a refusal (<see cref="Value"/>), or the submitted run's id.</summary>
    private sealed record Outcome(JsonHttpResult<ErrorResponse>? Value, string? RunId = null)
    {
        public static Outcome Error(int status, string msg) => new(ErrorResponse.Of(status, msg));
    }

    private static async Task<Outcome?> ReadAsync(
        MultipartReader reader, HttpContext http, Uploads uploads, Dictionary<string, string> fields, Dictionary<string, StoredFile> attachments, CancellationToken cancellationToken)
    {
        try
        {
            while (await Uploads.NextSectionAsync(reader, cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || disposition.Name.Value?.Trim('"') is not { } name)
                {
                    return Outcome.Error(400, "every part needs a Content-Disposition with a name");
                }
                if (name != "workflow_attachment")
                {
                    if (await ReadTextAsync(section.Body, cancellationToken) is not { } text)
                    {
                        return Outcome.Error(400, $"the field '{name}' is longer than {MaxFieldBytes} bytes");
                    }
                    fields[name] = text;
                    continue;
                }
                var fileName = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                if (fileName is not { Length: > 0 } || fileName.Contains("..", StringComparison.Ordinal) || fileName.IndexOfAny(['/', '\\', '\0']) >= 0 || fileName.Any(char.IsControl))
                {
                    return Outcome.Error(400, $"the attachment name '{fileName}' is refused: give each workflow_attachment a plain file name, without '/' or '..'");
                }
                if (!http.User.HasClaim(Scopes.ClaimType, Scopes.FilesWrite))
                {
                    return Outcome.Error(403, $"attachments become uploads: this credential lacks the scope {Scopes.FilesWrite}");
                }
                if (attachments.ContainsKey(fileName))
                {
                    return Outcome.Error(400, $"two attachments are named '{fileName}'");
                }
                await using var content = new TruncationGuard(section.Body);
                attachments[fileName] = await uploads.SaveAsync(content, fileName, Caller.NameOf(http.User), Audit.AddressOf(http), cancellationToken);
            }
            return null;
        }
        catch (FileTooLargeException tooLarge)
        {
            return Outcome.Error(413, tooLarge.Message);
        }
        catch (StorageQuotaException over)
        {
            return Outcome.Error(over.Full ? 507 : 413, over.Message);
        }
        catch (InvalidDataException malformed)
        {
            return Outcome.Error(400, $"the multipart body is malformed: {malformed.Message}");
        }
    }

    private static async Task<Outcome> SubmitAsync(
        Dictionary<string, string> fields, Dictionary<string, StoredFile> attachments, HttpContext http, Submissions submissions, PipelineCatalog catalog, CancellationToken cancellationToken)
    {
        if (!string.Equals(fields.GetValueOrDefault("workflow_type"), WesApi.WorkflowType, StringComparison.OrdinalIgnoreCase))
        {
            return Outcome.Error(400, $"workflow_type must be {WesApi.WorkflowType} (a workflow here is one of the server's pipelines), not '{fields.GetValueOrDefault("workflow_type")}'");
        }
        if (fields.GetValueOrDefault("workflow_engine") is { Length: > 0 } engine && engine != "runway")
        {
            return Outcome.Error(400, $"workflow_engine must be runway or left out, not '{engine}'");
        }
        if (fields.GetValueOrDefault("workflow_url") is not { Length: > 0 } url)
        {
            return Outcome.Error(400, "workflow_url is required: the name of a pipeline, or name@version");
        }
        var at = url.LastIndexOf('@');
        var (name, version) = at < 0 ? (url, null) : (url[..at], url[(at + 1)..]);
        if (ParseObject(fields.GetValueOrDefault("workflow_params")) is not { } parameters)
        {
            return Outcome.Error(400, "workflow_params must be a JSON object of the pipeline's parameters");
        }
        if (ParseTags(fields.GetValueOrDefault("tags")) is not { } tags)
        {
            return Outcome.Error(400, "tags must be a JSON object of strings");
        }
        // The version checks run only on a pipeline the caller may use: for any other, Submissions says "no such pipeline".
        if (catalog.Find(name) is { } pipeline && Caller.MayUse(http.User, pipeline))
        {
            var typeVersion = fields.GetValueOrDefault("workflow_type_version");
            foreach (var asked in new[] { version == "latest" ? null : version, typeVersion is { Length: > 0 } && typeVersion != url ? typeVersion : null })
            {
                if (asked is not null && asked != pipeline.Version)
                {
                    return Outcome.Error(400, $"the pipeline '{name}' is at version {pipeline.Version}, not {asked}");
                }
            }
            foreach (var parameter in pipeline.Parameters.Where(p => p.Type == ParameterType.File))
            {
                if (parameters[parameter.Name] is JsonValue value && value.TryGetValue<string>(out var text) && attachments.TryGetValue(text, out var file))
                {
                    parameters[parameter.Name] = file.Id;
                }
            }
        }
        var result = await submissions.SubmitAsync(new RunSubmission(name, parameters, null, tags, null, null), Caller.SubmitterOf(http), cancellationToken);
        return result switch
        {
            { Run: { } run } => new Outcome(null, run.Id),
            { Failure: SubmissionFailure.Invalid, Errors: { } errors } => Outcome.Error(400,
                string.Join("; ", errors.Select(e => $"{e.Key.Replace("params.", "workflow_params.", StringComparison.Ordinal)}: {string.Join(", ", e.Value)}"))),
            { Failure: SubmissionFailure.UnknownPipeline } => Outcome.Error(400, $"workflow_url: {result.Detail}"),
            { Failure: SubmissionFailure.PriorityNotAllowed } => Outcome.Error(403, result.Detail!),
            { Failure: SubmissionFailure.OverQuota } => Outcome.Error(507, result.Detail!),
            _ => Outcome.Error(400, result.Detail!),
        };
    }

    private static JsonObject? ParseObject(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }
        try
        {
            return JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static Dictionary<string, string>? ParseTags(string? text)
    {
        if (ParseObject(text) is not { } tags)
        {
            return null;
        }
        var strings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            if (value is not JsonValue v || !v.TryGetValue<string>(out var s))
            {
                return null;
            }
            strings[key] = s;
        }
        return strings;
    }

    /// <summary>A text field's value, or null when it is longer than <see cref="MaxFieldBytes"/>.</summary>
    private static async Task<string?> ReadTextAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxFieldBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
