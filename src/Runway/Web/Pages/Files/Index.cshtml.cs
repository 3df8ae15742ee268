using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Api;
using Runway.Files;

namespace Runway.Web.Pages.Files;

/// <summary>
/// The caller's files: upload (streamed by <see cref="StreamedForm"/> through <see cref="Uploads"/>, as POST
/// /api/v1/files stores them), list, download, delete, through the same <see cref="OwnedFiles"/> as the API.
/// </summary>
[IgnoreAntiforgeryToken] // the upload's token is checked by StreamedForm, first thing in the body; the delete's below
public sealed class IndexModel(OwnedFiles files, Uploads uploads, IAntiforgery antiforgery) : PageModel
{
    public const int PageSize = 50;

    /// <summary>Read from the query by hand: a bound property would make model binding read (and buffer) an upload's whole body first.</summary>
    public string? Cursor => Request.Query["cursor"].FirstOrDefault();

    public FilePage Files { get; private set; } = new([], null);

    /// <summary>The file just uploaded, shown with its checksum.</summary>
    public StoredFile? Uploaded { get; private set; }

    public string? Deleted { get; private set; }

    public string? Problem { get; private set; }

    public bool IsAdmin => Caller.IsAdmin(User);

    public async Task<IActionResult> OnGetAsync(string? uploaded, string? deleted, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(uploaded))
        {
            Uploaded = await files.FindAsync(User, uploaded, cancellationToken);
        }
        Deleted = deleted;
        return await ListAsync(StatusCodes.Status200OK, cancellationToken);
    }

    /// <summary>No parameters, not even a CancellationToken: binding any would read (and buffer) the whole body before StreamedForm.</summary>
    public async Task<IActionResult> OnPostAsync()
    {
        var cancellationToken = HttpContext.RequestAborted;
        var form = await StreamedForm.ReadAsync(HttpContext, antiforgery, uploads, Caller.NameOf(User), cancellationToken);
        if (form is null)
        {
            return await FailAsync(StatusCodes.Status400BadRequest, "The form was too old or not sent from this page. Reload the page and upload again.", cancellationToken);
        }
        if (form.Error is not null)
        {
            return await FailAsync(form.TooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest,
                form.Error, cancellationToken);
        }
        if (!form.Files.TryGetValue("file", out var file))
        {
            return await FailAsync(StatusCodes.Status422UnprocessableEntity, "Choose a file to upload.", cancellationToken);
        }
        return Redirect($"/files?uploaded={Uri.EscapeDataString(file.Id)}");
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id, CancellationToken cancellationToken)
    {
        if (!await antiforgery.IsRequestValidAsync(HttpContext))
        {
            return await FailAsync(StatusCodes.Status400BadRequest, "The form was too old or not sent from this page. Reload the page and try again.", cancellationToken);
        }
        if (!await files.DeleteAsync(User, id, Audit.AddressOf(HttpContext), cancellationToken))
        {
            return NotFound();
        }
        return Redirect($"/files?deleted={Uri.EscapeDataString(id)}");
    }

    public string Link(string? cursor) => string.IsNullOrEmpty(cursor) ? "/files" : $"/files?cursor={Uri.EscapeDataString(cursor)}";

    private async Task<IActionResult> FailAsync(int status, string problem, CancellationToken cancellationToken)
    {
        Problem = problem;
        return await ListAsync(status, cancellationToken);
    }

    private async Task<IActionResult> ListAsync(int status, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (await files.PageAsync(User, PageSize, Cursor, null, errors, cancellationToken) is { } page)
        {
            Files = page;
        }
        else
        {
            Problem ??= "This page link is not valid any more. The list starts from the newest file.";
            Files = await files.PageAsync(User, PageSize, null, null, errors, cancellationToken) ?? Files;
            status = status == StatusCodes.Status200OK ? StatusCodes.Status422UnprocessableEntity : status;
        }
        Response.StatusCode = status;
        return Page();
    }
}
