using System.CommandLine;
using System.Text.Json.Nodes;
using Runway.Runs;

namespace Runway.Cli;

/// <summary><c>runway list</c>: runs, newest first; <c>--all</c> follows the server's cursors to the end.</summary>
internal static class ListVerb
{
    public static Command Command(CliGlobals globals)
    {
        var state = new Option<string?>("--state") { Description = "Only runs in this state" };
        state.AcceptOnlyFromAmong([.. RunStates.All.Select(s => s.ToWire())]);
        var pipeline = new Option<string?>("--pipeline") { Description = "Only runs of this pipeline" };
        var owner = new Option<string?>("--owner") { Description = "Only runs of this user" };
        var tags = new Option<string[]>("--tag", "-t") { Description = "Only runs with this tag (repeatable)", HelpName = "key=value" };
        var limit = new Option<int?>("--limit", "-l") { Description = "How many runs to show (per page with --all)" };
        var all = new Option<bool>("--all", "-a") { Description = "Show every matching run, page after page" };
        var command = new Command("list", "List runs, newest first")
        {
            state, pipeline, owner, tags, limit, all,
        }.WithEpilog("Examples:\n  runway list --state running\n  runway list --pipeline wordstats --tag project=m31 --all");
        command.SetVerb(globals, (context, parse, ct) =>
        {
            var query = new RunQuery(
                parse.GetValue(state),
                parse.GetValue(pipeline),
                parse.GetValue(owner),
                [.. (parse.GetValue(tags) ?? []).Select(SubmitVerb.ParseTag).Select(t => $"{t.Key}:{t.Value}")],
                parse.GetValue(limit));
            return RunAsync(context, query, parse.GetValue(all), ct);
        });
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, RunQuery query, bool all, CancellationToken ct)
    {
        var runs = new List<RunInfo>();
        var json = new JsonArray();
        string? cursor = null;
        do
        {
            var page = await context.Client.ListRunsAsync(query, cursor, ct);
            runs.AddRange(page.Value.Runs);
            foreach (var run in page.Json["runs"]?.AsArray() ?? [])
            {
                json.Add(run?.DeepClone());
            }
            // A server that hands back the cursor it was given would loop us forever.
            cursor = page.Value.NextCursor == cursor ? null : page.Value.NextCursor;
        }
        while (all && cursor is not null);

        if (context.Json)
        {
            context.WriteJson(new JsonObject { ["runs"] = json, ["next_cursor"] = cursor });
            return 0;
        }
        Table(runs).WriteTo(context.Out);
        if (cursor is not null)
        {
            await context.Error.WriteLineAsync("(more runs: use --all, or --limit to see more)");
        }
        return 0;
    }

    public static TextTable Table(IEnumerable<RunInfo> runs)
    {
        var table = new TextTable("ID", "PIPELINE", "STATE", "SUBMITTED", "ELAPSED", "NAME");
        foreach (var run in runs)
        {
            table.Add(run.Id, run.Pipeline, run.State, TextTable.Time(run.SubmittedAt), Duration.Format(run.ElapsedSeconds), run.Name);
        }
        return table;
    }
}
