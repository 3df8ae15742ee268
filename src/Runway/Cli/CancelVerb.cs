using System.CommandLine;

namespace Runway.Cli;

/// <summary>
/// <c>runway cancel ID</c>: idempotent on the server; prints the state the run is in afterwards.
/// <c>runway cancel --all [--pipeline P] [--tag k=v]</c>: every active run of the caller's that matches (POST /api/v1/runs/cancel).
/// </summary>
internal static class CancelVerb
{
    public static Command Command(CliGlobals globals)
    {
        var id = new Argument<string?>("id") { Description = "The run id", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Cancel every queued or running run of yours (narrowed by --pipeline and --tag)" };
        var pipeline = new Option<string?>("--pipeline") { Description = "With --all: only runs of this pipeline" };
        var tags = new Option<string[]>("--tag", "-t") { Description = "With --all: only runs with this tag (repeatable)", HelpName = "key=value" };
        var command = new Command("cancel", "Cancel a queued or running run, or with --all every matching one; prints the resulting state or count")
        {
            id, all, pipeline, tags,
        }.WithEpilog("Examples:\n  runway cancel 01JD…\n  runway cancel --all --pipeline sleep --tag project=m31");
        command.SetVerb(globals, (context, parse, ct) =>
        {
            var (one, many) = (parse.GetValue(id), parse.GetValue(all));
            if (one is null == many is false || (!many && (parse.GetValue(pipeline) is not null || parse.GetValue(tags) is { Length: > 0 })))
            {
                throw new CliUsageException("give either a run id, or --all with optional --pipeline and --tag filters");
            }
            return many
                ? RunAllAsync(context, new CancelFilter(parse.GetValue(pipeline), (parse.GetValue(tags) ?? []).Select(SubmitVerb.ParseTag).ToDictionary()), ct)
                : RunAsync(context, one!, ct);
        });
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

    public static async Task<int> RunAllAsync(CliContext context, CancelFilter filter, CancellationToken ct)
    {
        var reply = await context.Client.CancelManyAsync(filter, ct);
        if (context.Json)
        {
            context.WriteJson(reply.Json);
        }
        else
        {
            var result = reply.Value;
            context.Out.WriteLine($"{result.Canceled} runs canceled ({result.CanceledQueued} queued, {result.StopRequested} running asked to stop)");
        }
        return 0;
    }
}
