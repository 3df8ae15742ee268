using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Runway.Web.Pages;

/// <summary>
/// The page a person sees for an empty error answer from a page (403, 404…), re-executed by the status code
/// pages (<see cref="WebUi.UseWebStatusPages"/>); the API's answers stay problem+json.
/// </summary>
[AllowAnonymous]
[IgnoreAntiforgeryToken] // re-executed for any method: it changes nothing
public sealed class ErrorModel : PageModel
{
    public int Code { get; private set; }

    public string Title => Code switch
    {
        StatusCodes.Status403Forbidden => "Not for you",
        StatusCodes.Status404NotFound => "Not found",
        StatusCodes.Status405MethodNotAllowed => "Not like this",
        _ => "Something went wrong",
    };

    public string Explanation => Code switch
    {
        StatusCodes.Status403Forbidden when ForAdministrators => "This page is for administrators. If you need it, ask one of them.",
        StatusCodes.Status403Forbidden => "Your account may not do this. If you need it, ask an administrator.",
        StatusCodes.Status404NotFound => "There is nothing here, or nothing you may see: a run or file of another user is not shown.",
        StatusCodes.Status405MethodNotAllowed => "This address does not take that kind of request.",
        _ => "Runway could not answer this request. Try again; if it keeps happening, tell an administrator.",
    };

    /// <summary>Whether the refused address is one of the admin pages, the only pages refused for a role; other 403s are refused actions.</summary>
    private bool ForAdministrators =>
        HttpContext.Features.Get<IStatusCodeReExecuteFeature>()?.OriginalPath is { } path
        && (path.Equals("/admin", StringComparison.OrdinalIgnoreCase) || path.StartsWith("/admin/", StringComparison.OrdinalIgnoreCase));

    public IActionResult OnGet(int code) => Show(code);

    public IActionResult OnPost(int code) => Show(code);

    private PageResult Show(int code)
    {
        Code = code is >= 400 and <= 599 ? code : StatusCodes.Status404NotFound;
        Response.StatusCode = Code;
        return Page();
    }
}
