using Microsoft.AspNetCore.WebUtilities;

namespace Runway.Api;

/// <summary>
/// Completes every problem body the server writes (handlers, status-code pages, the exception handler,
/// authentication and rate limiting alike) to RFC 9457's type, title and status. ASP.NET Core fills the
/// type only for the statuses it knows (not 413 or 429).
/// </summary>
public static class ProblemDefaults
{
    private static readonly Dictionary<int, string> Types = new()
    {
        [StatusCodes.Status413PayloadTooLarge] = "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        [StatusCodes.Status429TooManyRequests] = "https://tools.ietf.org/html/rfc6585#section-4",
        [StatusCodes.Status410Gone] = "https://tools.ietf.org/html/rfc9110#section-15.5.11",
        [StatusCodes.Status507InsufficientStorage] = "https://tools.ietf.org/html/rfc4918#section-11.5",
    };

    public static void Complete(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ??= context.HttpContext.Response.StatusCode;
        // RFC 9457 section 4.2.1: "about:blank" says the status code is all the type there is.
        problem.Type ??= Types.GetValueOrDefault(status, "about:blank");
        if (string.IsNullOrEmpty(problem.Title))
        {
            problem.Title = ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";
        }
    }
}
