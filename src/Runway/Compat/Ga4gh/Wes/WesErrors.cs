using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;

namespace Runway.Compat.Ga4gh.Wes;

/// <summary>WES's error body. GA4GH TES has none of its own, so nothing here is shared with the TES view.</summary>
public sealed record ErrorResponse(string Msg, int StatusCode)
{
    public static JsonHttpResult<ErrorResponse> Of(int status, string msg) => TypedResults.Json(new ErrorResponse(msg, status), statusCode: status);
}

/// <summary>
/// Every problem the server writes under /ga4gh/wes (401 and 403 from authentication, 400 from binding, 404 from
/// routing) as WES's ErrorResponse: a WES client reads <c>msg</c>, not RFC 9457's detail. Registered before the
/// default writer, which would otherwise take every request.
/// </summary>
public sealed class WesErrorWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => context.HttpContext.Request.Path.StartsWithSegments(WesApi.Prefix, StringComparison.Ordinal);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var status = context.ProblemDetails.Status ?? http.Response.StatusCode;
        var msg = context.ProblemDetails.Detail ?? context.ProblemDetails.Title ?? ReasonPhrases.GetReasonPhrase(status);
        return new ValueTask(http.Response.WriteAsJsonAsync(new ErrorResponse(msg, status), http.RequestAborted));
    }
}
