using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;

namespace Runway.Api;

/// <summary>
/// Turns request-reading failures (malformed JSON, a value of the wrong type, a body over the size limit,
/// a wrong content type) into the 4xx problem details they are, instead of a 500. The framework's
/// messages name .NET types and parameters ("could not be converted to System.Int32", "int? limit"):
/// the detail names the field as the user sent it instead.
/// </summary>
public sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }
        httpContext.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = bad.StatusCode,
                Title = ReasonPhrases.GetReasonPhrase(bad.StatusCode),
                Detail = Describe(bad),
            },
        });
    }

    public static string Describe(BadHttpRequestException bad)
    {
        if (bad.InnerException is JsonException json)
        {
            // The reader's syntax errors are a subclass and name no type; a plain JsonException is a value
            // that did not fit its field, and its message names the .NET type.
            if (json.GetType() != typeof(JsonException))
            {
                return $"The body is not valid JSON: {WithoutTypes(json.Message)}";
            }
            return json.Path?.TrimStart('$').TrimStart('.') is { Length: > 0 } field
                ? $"The JSON body could not be read: '{field}' has the wrong type or is out of range (see /openapi/v1.json)."
                : "The JSON body could not be read: it must be a JSON object (see /openapi/v1.json).";
        }
        if (BindFailure().Match(bad.Message) is { Success: true } bind)
        {
            return $"'{bind.Groups["name"].Value}' cannot be \"{bind.Groups["value"].Value}\".";
        }
        if (Required().Match(bad.Message) is { Success: true } required)
        {
            return $"'{required.Groups["name"].Value}' is required.";
        }
        return WithoutTypes(bad.Message);
    }

    /// <summary>Leaves out what a .NET type name would show (e.g. "System.String", "Runway.Api.X"), as a last resort.</summary>
    private static string WithoutTypes(string message) => TypeName().Replace(message, "a value");

    [GeneratedRegex("""Failed to bind parameter "\S+ (?<name>\w+)" from "(?<value>.*)"\.""")]
    private static partial Regex BindFailure();

    [GeneratedRegex("""Required parameter "\S+ (?<name>\w+)" was not provided""")]
    private static partial Regex Required();

    [GeneratedRegex(@"\b(System|Runway|Microsoft)(\.[\w`\[\],]+)+")]
    private static partial Regex TypeName();
}
