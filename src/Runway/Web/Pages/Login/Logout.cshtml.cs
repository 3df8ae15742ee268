using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Auth;

namespace Runway.Web.Pages.Login;

/// <summary>POST /logout ends the session (the layout's button); GET only shows that button, so a link cannot sign anyone out.</summary>
public sealed class LogoutModel : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(SignInCookie.Scheme);
        return Redirect("/login");
    }
}
