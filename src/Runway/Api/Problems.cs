using Microsoft.AspNetCore.Http.HttpResults;

namespace Runway.Api;

/// <summary>The problem details the API answers with, so each kind of error reads the same everywhere.</summary>
public static class Problems
{
    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: what);

    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: detail);

    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: detail);

    public static ProblemHttpResult TooLarge(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too large", detail: detail);

    /// <summary>The storage quota: 507 when it is used up, 413 when this upload would pass it; both say how much is used of how much.</summary>
    public static ProblemHttpResult OverQuota(int status, string detail, Storage.QuotaUse use) =>
        TypedResults.Problem(statusCode: status, title: status == StatusCodes.Status507InsufficientStorage ? "Storage quota used up" : "Upload over the storage quota",
            detail: detail, extensions: new Dictionary<string, object?> { ["used_bytes"] = use.UsedBytes, ["limit_bytes"] = use.LimitBytes });

    /// <summary>422 with one list of messages per field (the errors member of RFC 9457's validation example).</summary>
    public static ProblemHttpResult Invalid(IDictionary<string, string[]> errors) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status422UnprocessableEntity,
            Title = "The request is not valid",
            Type = "https://tools.ietf.org/html/rfc9110#section-15.5.21",
        });

    public static ProblemHttpResult Invalid(string field, string message) => Invalid(new Dictionary<string, string[]> { [field] = [message] });
}
