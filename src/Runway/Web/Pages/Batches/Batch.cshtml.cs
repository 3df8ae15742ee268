using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Api;
using Runway.Data;
using Runway.Runs;

namespace Runway.Web.Pages.Batches;

/// <summary>One batch: its state and counts per state (<see cref="BatchQuery"/>), its runs paged as the runs list pages them, cancel and download all.</summary>
public sealed class BatchModel(RunwayDb db, BatchCancel cancel) : PageModel
{
    public const int PageSize = 25;

    public BatchResponse Batch { get; private set; } = null!;

    public RunPage Runs { get; private set; } = new([], null);

    public bool Active => Batch.State == "running";

    public async Task<IActionResult> OnGetAsync(string id, string? cursor, CancellationToken cancellationToken)
    {
        if (await BatchQuery.FindAsync(db, User, id, cancellationToken) is not { } batch)
        {
            return NotFound();
        }
        var counts = await BatchQuery.CountsAsync(db, [id], cancellationToken);
        Batch = await BatchQuery.ResponseAsync(db, batch, counts[id], cancellationToken);
        Runs = await RunQuery.PageAsync(db, User, new RunFilter(BatchId: id), cursor, PageSize, [], cancellationToken) ?? new([], null);
        return Page();
    }

    public async Task<IActionResult> OnPostCancelAsync(string id, CancellationToken cancellationToken) =>
        await cancel.CancelAsync(id, HttpContext, cancellationToken) ? Redirect($"/batches/{id}") : NotFound();
}
