using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Api;
using Runway.Pipelines;

namespace Runway.Web.Pages.Pipelines;

/// <summary>The catalog: the pipelines the caller may run (as GET /api/v1/pipelines lists them).</summary>
public sealed class IndexModel(PipelineCatalog catalog) : PageModel
{
    public IReadOnlyList<Pipeline> Pipelines { get; private set; } = [];

    public void OnGet() => Pipelines = catalog.All.Where(p => Caller.MayUse(User, p)).ToList();
}
