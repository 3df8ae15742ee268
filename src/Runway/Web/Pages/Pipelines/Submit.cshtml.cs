using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Runway.Api;
using Runway.Data;
using Runway.Files;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Web.Pages.Pipelines;

/// <summary>
/// A pipeline's page: the submit form generated from its parameters, and the same as JSON. Submits through
/// <see cref="Submissions"/>, as POST /api/v1/runs does. Nothing here is model-bound: binding would read
/// (and buffer) the whole form before <see cref="StreamedForm"/> could stream its files.
/// </summary>
[IgnoreAntiforgeryToken] // StreamedForm checks the token, first thing in the body
public sealed class SubmitModel(
    PipelineCatalog catalog, PipelineVersions versions, Submissions submissions, Uploads uploads, IAntiforgery antiforgery, IRunStore store, RunwayDb db) : PageModel
{
    public Pipeline Pipeline { get; private set; } = null!;

    /// <summary>Every version of the pipeline, newest first (the default marked); <c>?version=</c> shows and submits an earlier one.</summary>
    public IReadOnlyList<PipelineVersionInfo> Versions { get; private set; } = [];

    /// <summary>The version asked for by <c>?version=</c>, when it is not the default; the form posts to the same address, so keeps it.</summary>
    public string? Version { get; private set; }

    public bool JsonTab { get; private set; }

    /// <summary>What the fields show: the posted values, a run's to run again, or the defaults.</summary>
    public JsonObject? Values { get; private set; }

    public string? RunName { get; private set; }

    public string Tags { get; private set; } = "";

    public string JsonText { get; private set; } = "";

    public Dictionary<string, string[]> Errors { get; private set; } = [];

    /// <summary>The caller's files, newest first, for file parameters.</summary>
    public IReadOnlyList<StoredFile> Files { get; private set; } = [];

    public string? Problem { get; private set; }

    public string? AgainFrom { get; private set; }

    public string Server => $"{Request.Scheme}://{Request.Host}";

    public async Task<IActionResult> OnGetAsync()
    {
        if (await FindAsync() is not { } pipeline)
        {
            return NotFound();
        }
        Pipeline = pipeline;
        JsonTab = Request.Query["tab"] == "json";
        if (Request.Query["from"].ToString() is { Length: > 0 } from
            && await store.GetAsync(from, HttpContext.RequestAborted) is { } run && Caller.CanSee(User, run.Owner) && run.Pipeline == pipeline.Name)
        {
            AgainFrom = run.Id;
            Values = JsonNode.Parse(run.ParamsJson) as JsonObject;
            RunName = run.Name;
            Tags = RunForm.FormatTags(JsonSerializer.Deserialize<Dictionary<string, string>>(run.TagsJson) ?? []);
        }
        await PrepareAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var ct = HttpContext.RequestAborted;
        if (await FindAsync() is not { } pipeline)
        {
            return NotFound();
        }
        Pipeline = pipeline;
        var form = await StreamedForm.ReadAsync(HttpContext, antiforgery, uploads, Caller.NameOf(User), ct);
        if (form is null)
        {
            return await FailAsync(StatusCodes.Status400BadRequest, "The form was too old or not sent from this page. Reload the page and submit again.");
        }
        JsonTab = form.Value("tab") == "json";
        RunName = form.Value("name");
        Tags = form.Value("tags") ?? "";
        var tags = RunForm.ParseTags(Tags, Errors);
        if (JsonTab)
        {
            JsonText = form.Value("json") ?? "";
            Values = RunForm.ParseJson(JsonText, out var jsonError);
            if (jsonError is not null)
            {
                Errors["json"] = [jsonError];
            }
        }
        else
        {
            Values = RunForm.ToParams(pipeline, form.Value, field => form.Values(field).Contains("true"));
            foreach (var (field, file) in form.Files.Where(f => f.Key.StartsWith(RunForm.UploadPrefix, StringComparison.Ordinal)))
            {
                Values[field[RunForm.UploadPrefix.Length..]] = file.Id; // uploaded now: it wins over the list
            }
        }
        if (form.Error is not null)
        {
            return await FailAsync(StatusCodes.Status400BadRequest, form.Error);
        }
        if (Errors.Count > 0 || Values is null)
        {
            return await FailAsync(StatusCodes.Status422UnprocessableEntity, null);
        }

        var submission = new RunSubmission(pipeline.Name, Values, string.IsNullOrWhiteSpace(RunName) ? null : RunName, tags, null, form.Value("idempotency_key"))
        {
            PipelineVersion = Version,
        };
        var result = await submissions.SubmitAsync(submission, Caller.SubmitterOf(HttpContext), ct);
        if (result.Run is { } run)
        {
            return Redirect($"/runs/{run.Id}");
        }
        if (result.Errors is { } errors)
        {
            Errors = errors.ToDictionary();
        }
        return await FailAsync(result.Failure switch
        {
            SubmissionFailure.UnknownPipeline => StatusCodes.Status404NotFound,
            SubmissionFailure.OverQuota => StatusCodes.Status507InsufficientStorage,
            _ => StatusCodes.Status422UnprocessableEntity,
        },
            result.Errors is null ? result.Detail : null);
    }

    /// <summary>The messages for one field (<c>params.x</c>, <c>name</c>, <c>json</c>…), or null.</summary>
    public string? ErrorOf(string field) => Errors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    /// <summary>Errors no form field shows (the JSON tab shows every parameter's here).</summary>
    public IEnumerable<KeyValuePair<string, string[]>> OtherErrors(bool includeParams) =>
        Errors.Where(e => e.Key is not ("name" or "tags" or "json") && (includeParams || !IsParamField(e.Key)));

    private bool IsParamField(string key) =>
        key.StartsWith("params.", StringComparison.Ordinal) && Pipeline.Parameters.Any(p => key == "params." + p.Name);

    public JsonObject CommandValues()
    {
        var values = new JsonObject();
        foreach (var parameter in Pipeline.Parameters)
        {
            if (Values is not null && Values.TryGetPropertyValue(parameter.Name, out var given) && given is not null)
            {
                values[parameter.Name] = given.DeepClone();
            }
            else if (parameter.Default is null && parameter.Type == ParameterType.File)
            {
                values[parameter.Name] = "f_…";
            }
        }
        return values;
    }

    /// <summary>
    /// The pipeline at <c>?version=</c> (the default when none, or the default's own), as POST /api/v1/runs would take
    /// it; null (404) when the caller may not use it or there is no such version. Lists its versions on the way.
    /// </summary>
    private async Task<Pipeline?> FindAsync()
    {
        var ct = HttpContext.RequestAborted;
        if (RouteData.Values["name"] is not string name || catalog.Find(name) is not { } latest || !Caller.MayUse(User, latest))
        {
            return null;
        }
        Versions = await versions.ListAsync(name, ct);
        if (Request.Query["version"].ToString() is not { Length: > 0 } version || version == latest.Version)
        {
            return latest;
        }
        Version = version;
        return (await versions.FindAsync(name, version, ct)).Pipeline is { } pipeline && Caller.MayUse(User, pipeline) ? pipeline : null;
    }

    private async Task<PageResult> FailAsync(int status, string? problem)
    {
        Problem = problem;
        Response.StatusCode = status;
        await PrepareAsync();
        return Page();
    }

    private async Task PrepareAsync()
    {
        if (string.IsNullOrEmpty(JsonText))
        {
            var shown = new JsonObject();
            foreach (var parameter in Pipeline.Parameters)
            {
                if (Values is not null && Values.TryGetPropertyValue(parameter.Name, out var given))
                {
                    shown[parameter.Name] = given?.DeepClone();
                }
                else if (parameter.Default is not null)
                {
                    shown[parameter.Name] = parameter.Default.DeepClone();
                }
            }
            JsonText = RunForm.Pretty(shown);
        }
        if (Pipeline.Parameters.Any(p => p.Type == ParameterType.File))
        {
            var me = Caller.NameOf(User);
            Files = await db.Files.AsNoTracking().Where(f => f.Owner == me).OrderByDescending(f => f.Id).Take(200).ToListAsync(HttpContext.RequestAborted);
        }
    }
}
