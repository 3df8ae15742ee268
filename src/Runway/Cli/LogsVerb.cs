using System.CommandLine;
using System.Text;

namespace Runway.Cli;

/// <summary><c>runway logs ID</c>: copies the log to stdout as it arrives, flushing after every chunk.</summary>
internal static class LogsVerb
{
    public static Command Command(CliGlobals globals)
    {
        var id = new Argument<string>("id") { Description = "The run id" };
        var stderr = new Option<bool>("--stderr", "-e") { Description = "The run's stderr instead of its stdout" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing as the run writes, until it ends" };
        var command = new Command("logs", "Print a run's stdout (or --stderr)") { id, stderr, follow }
            .WithEpilog("Example:\n  runway logs --follow $ID");
        command.SetVerb(globals, (context, parse, ct) =>
            RunAsync(context, parse.GetRequiredValue(id), parse.GetValue(stderr), parse.GetValue(follow), ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, string id, bool stderr, bool follow, CancellationToken ct)
    {
        using var response = await context.Client.OpenLogAsync(id, stderr, follow, ct);
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var buffer = new char[16 * 1024];
        int read;
        while ((read = await reader.ReadAsync(buffer, ct)) > 0)
        {
            await context.Out.WriteAsync(buffer.AsMemory(0, read), ct);
            await context.Out.FlushAsync(ct);
        }
        return 0;
    }
}
