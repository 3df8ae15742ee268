using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Runway.Api;
using Runway.Auth;
using Runway.Data;
using Runway.Pipelines;
using Runway.Schedules;

namespace Runway.Web.Pages.Schedules;

/// <summary>
/// The caller's schedules (an admin's: everyone's): next fire times, the latest fire and runs, pause, resume, delete and a
/// create form. Every change goes through <see cref="SchedulesApi"/>'s own handlers, so the page checks and records
/// exactly what the API does (the same 422 fields, audit entries and wake of the loop).
/// </summary>
public sealed class IndexModel(RunwayDb db, PipelineCatalog catalog, ScheduleLoop loop, AuditTrail audit, TimeProvider clock) : PageModel
{
    private const int RunsShown = 5;

    public IReadOnlyList<ScheduleResponse> Schedules { get; private set; } = [];

    public ILookup<string, ScheduledRun> Runs { get; private set; } = Array.Empty<ScheduledRun>().ToLookup(r => r.Id);

    public IReadOnlyList<string> Pipelines { get; private set; } = [];

    public IDictionary<string, string[]> Errors { get; private set; } = new Dictionary<string, string[]>();

    [BindProperty]
    public ScheduleForm Form { get; set; } = new();

    public string? Done { get; private set; }

    public Task<IActionResult> OnGetAsync(string? done, CancellationToken cancellationToken)
    {
        Done = done;
        return ShowAsync(StatusCodes.Status200OK, cancellationToken);
    }

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken)
    {
        JsonObject? parameters = null;
        try
        {
            parameters = string.IsNullOrWhiteSpace(Form.Params) ? [] : JsonNode.Parse(Form.Params) as JsonObject;
        }
        catch (JsonException)
        {
        }
        if (parameters is null)
        {
            Errors["params"] = ["must be a JSON object such as {\"name\": \"Ada\"}"];
            return await ShowAsync(StatusCodes.Status422UnprocessableEntity, cancellationToken);
        }
        var request = new ScheduleRequest(Form.Name, Form.Pipeline, parameters, Form.Cron, Form.Timezone, true, Form.CatchUp, Form.Overlap);
        var result = await SchedulesApi.CreateAsync(request, HttpContext, db, catalog, loop, audit, clock, cancellationToken);
        return result.Result is Created<ScheduleResponse> created
            ? Redirect($"/schedules?done={Uri.EscapeDataString($"Created {created.Value!.Id}.")}")
            : await FailAsync((ProblemHttpResult)result.Result, cancellationToken);
    }

    public Task<IActionResult> OnPostPauseAsync(string id, CancellationToken cancellationToken) => ToggleAsync(id, false, cancellationToken);

    public Task<IActionResult> OnPostResumeAsync(string id, CancellationToken cancellationToken) => ToggleAsync(id, true, cancellationToken);

    public async Task<IActionResult> OnPostDeleteAsync(string id, CancellationToken cancellationToken) =>
        (await SchedulesApi.DeleteAsync(id, HttpContext, db, loop, audit, cancellationToken)).Result is NoContent
            ? Redirect($"/schedules?done={Uri.EscapeDataString($"Deleted {id}.")}")
            : NotFound();

    public string? ErrorOf(string field) => Errors.TryGetValue(field, out var messages) ? string.Join(" ", messages)
        : field == "params" && Errors.Where(e => e.Key.StartsWith("params.", StringComparison.Ordinal)).Select(e => $"{e.Key[7..]}: {string.Join(" ", e.Value)}").ToList() is { Count: > 0 } nested
            ? string.Join("; ", nested) : null;

    private async Task<IActionResult> ToggleAsync(string id, bool enabled, CancellationToken cancellationToken)
    {
        var change = new ScheduleRequest(null, null, null, null, null, enabled, null, null);
        return (await SchedulesApi.UpdateAsync(id, change, HttpContext, db, catalog, loop, audit, clock, cancellationToken)).Result switch
        {
            Ok<ScheduleResponse> => Redirect($"/schedules?done={Uri.EscapeDataString($"{(enabled ? "Resumed" : "Paused")} {id}.")}"),
            ProblemHttpResult problem when problem.StatusCode != StatusCodes.Status404NotFound => await FailAsync(problem, cancellationToken),
            _ => NotFound(),
        };
    }

    private Task<IActionResult> FailAsync(ProblemHttpResult problem, CancellationToken cancellationToken)
    {
        Errors = problem.ProblemDetails is HttpValidationProblemDetails invalid
            ? invalid.Errors
            : new Dictionary<string, string[]> { [""] = [problem.ProblemDetails.Detail ?? problem.ProblemDetails.Title ?? "refused"] };
        return ShowAsync(problem.StatusCode, cancellationToken);
    }

    private async Task<IActionResult> ShowAsync(int status, CancellationToken cancellationToken)
    {
        Schedules = (await SchedulesApi.ListAsync(User, db, clock, cancellationToken)).Value!.Schedules;
        var ids = Schedules.Select(s => s.Id).ToList();
        // One query for every listed schedule's latest runs (ids are ULIDs: newest last).
        var runs = await db.Runs.AsNoTracking().Where(r => r.ScheduleId != null && ids.Contains(r.ScheduleId)).OrderByDescending(r => r.Id)
            .Take(RunsShown * Math.Max(ids.Count, 1) * 4)
            .Select(r => new { r.ScheduleId, Run = new ScheduledRun(r.Id, r.State, r.ScheduledFor, r.SubmittedAt, r.FinishedAt) }).ToListAsync(cancellationToken);
        Runs = runs.GroupBy(r => r.ScheduleId!).SelectMany(g => g.Take(RunsShown)).ToLookup(r => r.ScheduleId!, r => r.Run);
        Pipelines = [.. catalog.All.Where(p => Caller.MayUse(User, p)).Select(p => p.Name).Order(StringComparer.Ordinal)];
        Response.StatusCode = status;
        return Page();
    }
}

/// <summary>The create form's fields; the parameters as JSON text, as the API takes them.</summary>
public sealed class ScheduleForm
{
    public string? Name { get; set; }
    public string? Pipeline { get; set; }
    public string? Params { get; set; }
    public string? Cron { get; set; }
    public string? Timezone { get; set; } = "UTC";
    public string? CatchUp { get; set; } = ScheduleRules.CatchUpOne;
    public string? Overlap { get; set; } = ScheduleRules.OverlapAllow;
}
