using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Runway.Cli;

/// <summary>The user asked for something that cannot work (bad key=value, unknown parameter): exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);

/// <summary>The server answered with an error status; <see cref="Problem"/> carries its problem details.</summary>
internal sealed class RunwayApiException(HttpStatusCode status, ProblemInfo problem)
    : Exception(problem.Detail ?? problem.Title ?? $"HTTP {(int)status}")
{
    public HttpStatusCode Status { get; } = status;
    public ProblemInfo Problem { get; } = problem;
}

/// <summary>Turns every failure a verb can meet into one short message on stderr and an exit code, never a stack trace.</summary>
internal static class CliErrors
{
    public static int Report(Exception exception, TextWriter stderr, Uri server)
    {
        switch (exception)
        {
            case CliUsageException usage:
                stderr.WriteLine($"runway: {usage.Message}");
                return ExitCodes.Usage;
            case RunwayApiException api:
                WriteProblem(api, stderr);
                return api.Status is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity ? ExitCodes.Usage : ExitCodes.Error;
            case HttpRequestException http when IsUnreachable(http):
                stderr.WriteLine($"runway: cannot reach the server at {server} (is `runway serve` running?)");
                return ExitCodes.Error;
            case HttpRequestException http:
                stderr.WriteLine($"runway: request to {server} failed: {http.Message}");
                return ExitCodes.Error;
            case JsonException json:
                stderr.WriteLine($"runway: the server at {server} sent a reply this client cannot read ({json.Message})");
                return ExitCodes.Error;
            case IOException or UnauthorizedAccessException:
                stderr.WriteLine($"runway: {exception.Message}");
                return ExitCodes.Error;
            default:
                stderr.WriteLine($"runway: unexpected {exception.GetType().Name}: {exception.Message}");
                return ExitCodes.Error;
        }
    }

    public static void WriteProblem(RunwayApiException api, TextWriter stderr)
    {
        var problem = api.Problem;
        var title = problem.Title ?? $"HTTP {(int)api.Status}";
        stderr.WriteLine(problem.Detail is null || problem.Detail == title ? $"runway: {title}" : $"runway: {title}: {problem.Detail}");
        foreach (var (field, messages) in problem.Errors ?? new Dictionary<string, string[]>())
        {
            foreach (var message in messages)
            {
                stderr.WriteLine($"  {field}: {message}");
            }
        }
        if (api.Status is HttpStatusCode.Unauthorized)
        {
            stderr.WriteLine("  (log in with `runway login`, or give a token with --token or RUNWAY_TOKEN)");
        }
        else if (api.Status is HttpStatusCode.Forbidden)
        {
            stderr.WriteLine("  (this token lacks the scope; make one that has it, or `runway login` again)");
        }
    }

    private static bool IsUnreachable(HttpRequestException http) =>
        http.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
        || http.InnerException is SocketException;
}
