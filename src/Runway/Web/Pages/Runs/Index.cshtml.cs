using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Runway.Web.Pages.Runs;

public sealed class IndexModel : PageModel
{
    public void OnGet()
    {
    }
}
