using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Api;
using Runway.Data;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Web.Pages.Runs;

/// <summary>The home page: the caller's runs (an admin's: everyone's) through the same query as GET /api/v1/runs.</summary>
public sealed class IndexModel(RunwayDb db, PipelineCatalog catalog, TimeProvider clock) : PageModel
{
    public const int PageSize = 25;
    public const int CountWindow = 1000;

    [FromQuery(Name = "state")]
    public string? State { get; set; }

    [FromQuery(Name = "pipeline")]
    public string? Pipeline { get; set; }

    [FromQuery(Name = "tag")]
    public string? Tag { get; set; }

    [FromQuery(Name = "name")]
    public string? Name { get; set; }

    [FromQuery(Name = "owner")]
    public string? Owner { get; set; }

    [FromQuery(Name = "batch_id")]
    public string? BatchId { get; set; }

    [FromQuery(Name = "cursor")]
    public string? Cursor { get; set; }

    public RunPage Runs { get; private set; } = new([], null);

    public IReadOnlyDictionary<RunState, int> Counts { get; private set; } = new Dictionary<RunState, int>();

    /// <summary>The finished counts cover only the newest <see cref="CountWindow"/> matching runs.</summary>
    public bool CountsWindowed { get; private set; }

    public Dictionary<string, string[]> Errors { get; } = [];

    public IReadOnlyList<string> PipelineNames { get; private set; } = [];

    public bool IsAdmin => Caller.IsAdmin(User);

    public bool Filtered => !string.IsNullOrEmpty(State) || !string.IsNullOrEmpty(Pipeline) || !string.IsNullOrEmpty(Tag)
        || !string.IsNullOrEmpty(Name) || !string.IsNullOrEmpty(Owner) || !string.IsNullOrEmpty(BatchId);

    /// <summary>While a shown run may still change, the page refreshes itself.</summary>
    public bool AnyActive => Runs.Runs.Any(r => !r.State.IsFinal());

    private RunFilter Filter => new(State, Pipeline, IsAdmin ? Owner : null, Tag, Name, BatchId);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        PipelineNames = catalog.All.Where(p => Caller.MayUse(User, p)).Select(p => p.Name).ToList();
        if (await RunQuery.PageAsync(db, User, Filter, Cursor, PageSize, Errors, cancellationToken) is { } page)
        {
            Runs = page;
            (Counts, CountsWindowed) = await RunQuery.CountsAsync(db, User, Filter, CountWindow, cancellationToken);
        }
        else
        {
            Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
        }
    }

    /// <summary>This page's address with the current filters and one of them changed (null removes it).</summary>
    public string Link(string? state = "", string? cursor = null)
    {
        var query = new Dictionary<string, string?>
        {
            ["state"] = state == "" ? State : state,
            ["pipeline"] = Pipeline,
            ["tag"] = Tag,
            ["name"] = Name,
            ["owner"] = IsAdmin ? Owner : null,
            ["batch_id"] = BatchId,
            ["cursor"] = cursor,
        };
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/", query.Where(q => !string.IsNullOrEmpty(q.Value)));
    }

    public double? Elapsed(Run run) => RunResponse.Elapsed(run, clock);

    public string? ErrorOf(string field) => Errors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;
}
