namespace Runway.Web;

/// <summary>
/// Headers on every response. Pages load scripts and styles from this server only, never inline ones, so
/// whatever a user typed that slipped past escaping still cannot run. The API's answers are never documents
/// to render: a run's SVG or HTML output opened straight from its URL runs no script in this origin.
/// </summary>
public sealed class SecurityHeaders(RequestDelegate next)
{
    private const string PagePolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private const string ApiPolicy = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        var api = !Auth.SignInCookie.IsPage(context.Request);
        // On starting, not now: the exception handler clears the headers of a response it replaces.
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = api ? ApiPolicy : PagePolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "same-origin";
            if (!api)
            {
                headers.XFrameOptions = "DENY";
            }
            return Task.CompletedTask;
        });
        return next(context);
    }
}
