using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Runway.Auth;

/// <summary>
/// The web UI's sign-in cookie, for people; scripts keep using tokens. The cookie only names the user and
/// a stamp of the password hash: <see cref="RunwayAuthenticationHandler"/> reads the account again on every
/// request, so a disabled user, a changed role or a reset password takes effect at once, as it does for tokens.
/// </summary>
public static class SignInCookie
{
    public const string Scheme = "RunwayCookie";
    public const string Name = "runway_session";
    private const string StampClaim = "stamp";

    public static void Configure(CookieAuthenticationOptions options)
    {
        options.Cookie.Name = Name;
        options.Cookie.HttpOnly = true;
        options.Cookie.SameSite = SameSiteMode.Lax;
        options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // Secure whenever the page came over https
        options.ExpireTimeSpan = TimeSpan.FromHours(12);
        options.SlidingExpiration = true;
    }

    public static ClaimsPrincipal For(UserAccount user) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, user.Username), new Claim(StampClaim, Stamp(user))], Scheme));

    /// <summary>The cookie was made with the user's present password: a reset (or a rehash) ends older sessions.</summary>
    public static bool IsCurrent(ClaimsPrincipal cookie, UserAccount user) =>
        cookie.FindFirst(StampClaim)?.Value is { } stamp
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stamp), Encoding.ASCII.GetBytes(Stamp(user)));

    private static string Stamp(UserAccount user) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(user.PasswordHash)))[..32];

    /// <summary>
    /// Requests for machines, not people: they answer 401 problem+json, never a redirect to the sign-in page.
    /// </summary>
    public static bool IsApi(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/oauth")
        || request.Path.StartsWithSegments("/openapi") || request.Path.StartsWithSegments("/metrics")
        || request.Path.StartsWithSegments("/healthz") || request.Path.StartsWithSegments("/readyz")
        || request.Path.StartsWithSegments("/ga4gh") || request.Path.StartsWithSegments("/v1")
        || request.Path.StartsWithSegments("/caesar") || request.Path.StartsWithSegments("/o");

    /// <summary>A request for a page, not for the API or a static file: its errors are pages too.</summary>
    public static bool IsPage(HttpRequest request) => !IsApi(request) && !request.Path.StartsWithSegments("/assets");

    /// <summary>
    /// Where a cookie may stand for its user: every page, and the API's reads (downloads, logs, lists the pages
    /// link to or poll). A change through the API needs a token or Basic: no cross-site form or script can then
    /// spend a browser's cookie on it, and the pages' own forms carry an antiforgery token.
    /// </summary>
    public static bool Accepted(HttpRequest request) =>
        !IsApi(request) || HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
}
