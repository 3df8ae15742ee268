using System.CommandLine;

namespace Runway.Cli;

/// <summary><c>runway resubmit ID</c>: a new run with the same parameters and input files; prints its id, as submit does.</summary>
internal static class ResubmitVerb
{
    public static Command Command(CliGlobals globals)
    {
        var id = new Argument<string>("id") { Description = "The run to submit again" };
        var version = new Option<string?>("--pipeline-version") { Description = "The pipeline version to use (default: the current one)" };
        var command = new Command("resubmit", "Submit a run again with the same parameters and input files; prints the new run's id") { id, version };
        command.SetVerb(globals, (context, parse, ct) => RunAsync(context, parse.GetRequiredValue(id), parse.GetValue(version), ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, string id, string? pipelineVersion, CancellationToken ct)
    {
        var reply = await context.Client.ResubmitAsync(id, pipelineVersion, ct);
        if (context.Json)
        {
            context.WriteJson(reply.Json);
        }
        else
        {
            context.Out.WriteLine(reply.Value.Id);
        }
        return 0;
    }
}
