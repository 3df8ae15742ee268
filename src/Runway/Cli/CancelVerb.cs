using System.CommandLine;

namespace Runway.Cli;

/// <summary><c>runway cancel ID</c>: idempotent on the server; prints the state the run is in afterwards.</summary>
internal static class CancelVerb
{
    public static Command Command(CliGlobals globals)
    {
        var id = new Argument<string>("id") { Description = "The run id" };
        var command = new Command("cancel", "Cancel a queued or running run; prints its resulting state") { id };
        command.SetVerb(globals, (context, parse, ct) => RunAsync(context, parse.GetRequiredValue(id), ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, string id, CancellationToken ct)
    {
        var reply = await context.Client.CancelAsync(id, ct);
        if (context.Json)
        {
            context.WriteJson(reply.Json);
        }
        else
        {
            // A running run may still be "running" while its processes are stopped: say so rather than look ignored.
            var run = reply.Value;
            context.Out.WriteLine(run.State is "queued" or "running" ? $"{run.State} (cancel requested)" : run.State);
        }
        return 0;
    }
}
