using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Api;
using Runway.Runs;
using Runway.Sheets;

namespace Runway.Web.Pages.Batches;

/// <summary>
/// The pipeline page's sheet upload: the sheet goes through <see cref="SheetBatches"/>, as a multipart POST
/// /api/v1/batches does. A batch leads to its page; a refused sheet shows every problem (row, column, why).
/// </summary>
[RequestSizeLimit(64L * 1024 * 1024)]
public sealed class UploadModel(SheetBatches sheets) : PageModel
{
    public string Pipeline { get; private set; } = "";

    public string? Problem { get; private set; }

    public IReadOnlyList<BatchProblem> Problems { get; private set; } = [];

    public IActionResult OnGet() => Redirect("/pipelines");

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var form = await Request.ReadFormAsync(cancellationToken);
        Pipeline = form["pipeline"].FirstOrDefault() ?? "";
        var file = form.Files.GetFile("rows");
        await using var rows = file?.OpenReadStream();
        var name = form["name"].FirstOrDefault();
        var upload = new SheetUpload(Pipeline, rows, string.IsNullOrWhiteSpace(name) ? null : name, null, null, form["idempotency_key"].FirstOrDefault());
        var result = await sheets.SubmitAsync(upload, Caller.SubmitterOf(HttpContext), cancellationToken);
        if (result.Batch is { } batch)
        {
            return Redirect($"/batches/{batch.Id}");
        }
        if (result.Failure == SubmissionFailure.UnknownPipeline)
        {
            return NotFound();
        }
        Problem = result.Detail;
        Problems = result.Problems;
        Response.StatusCode = result.Failure == SubmissionFailure.OverQuota ? StatusCodes.Status507InsufficientStorage : StatusCodes.Status422UnprocessableEntity;
        return Page();
    }
}
