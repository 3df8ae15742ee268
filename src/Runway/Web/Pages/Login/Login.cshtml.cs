using System.Globalization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Api;
using Runway.Auth;

namespace Runway.Web.Pages.Login;

/// <summary>Sign-in for people: the same password check and throttle as HTTP Basic on the API (<see cref="PasswordLogin"/>).</summary>
[AllowAnonymous]
public sealed class LoginModel(PasswordLogin logins, ILogger<LoginModel> logger) : PageModel
{
    [BindProperty]
    public string Username { get; set; } = "";

    [BindProperty]
    public string Password { get; set; } = "";

    /// <summary>Where to go back to; only a path on this server is followed.</summary>
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(Username) || string.IsNullOrEmpty(Password))
        {
            return Refuse(StatusCodes.Status422UnprocessableEntity, "Enter your user name and your password.");
        }
        var address = Audit.AddressOf(HttpContext);
        var login = await logins.TryAsync(Username, Password, address, cancellationToken);
        if (login.RetryAfter is { } wait)
        {
            var seconds = LoginThrottle.Seconds(wait);
            Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return Refuse(StatusCodes.Status429TooManyRequests,
                $"Too many failed sign-ins for this user or from this address. Try again in {seconds} seconds.");
        }
        if (login.User is not { } user)
        {
            // The user name and address only: the password is never logged.
            logger.LogInformation("Failed web login for {User} from {Address}", Username, address);
            return Refuse(StatusCodes.Status401Unauthorized, "Wrong user name or password.");
        }
        await HttpContext.SignInAsync(SignInCookie.Scheme, SignInCookie.For(user));
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
    }

    private PageResult Refuse(int status, string error)
    {
        Error = error;
        Password = "";
        Response.StatusCode = status;
        return Page();
    }
}
