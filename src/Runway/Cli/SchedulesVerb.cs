using System.CommandLine;
using System.Text.Json.Nodes;

namespace Runway.Cli;

/// <summary><c>runway schedules add|list|pause|resume|delete</c>: cron schedules over /api/v1/schedules.</summary>
internal static class SchedulesVerb
{
    public static Command Command(CliGlobals globals)
    {
        var command = new Command("schedules", "Cron schedules that submit a run at each fire time")
        {
            Add(globals), List(globals), Toggle(globals, "pause", enabled: false), Toggle(globals, "resume", enabled: true), Delete(globals),
        };
        return command;
    }

    private static Command Add(CliGlobals globals)
    {
        var name = new Argument<string>("name") { Description = "A name for the schedule (its runs get it too)" };
        var pipeline = new Argument<string>("pipeline") { Description = "The pipeline to run" };
        var pairs = new Argument<string[]>("key=value") { Description = "Parameter values", Arity = ArgumentArity.ZeroOrMore };
        var cron = new Option<string>("--cron") { Description = "5 fields (minute hour day month weekday), or 6 with seconds first", Required = true };
        var zone = new Option<string?>("--timezone") { Description = "An IANA time zone (default UTC)" };
        var catchUp = new Option<string?>("--catch-up") { Description = "After downtime: one run for the missed times (one) or none" };
        catchUp.AcceptOnlyFromAmong("one", "none");
        var overlap = new Option<string?>("--overlap") { Description = "While the previous run is active: skip the fire, or allow it" };
        overlap.AcceptOnlyFromAmong("skip", "allow");
        var command = new Command("add", "Create a schedule; prints its id and next fire time")
        {
            name, pipeline, pairs, cron, zone, catchUp, overlap,
        }.WithEpilog("Example:\n  runway schedules add nightly wordstats input=f_01JD... min_length=3 --cron '0 3 * * *' --timezone Europe/Berlin");
        command.SetVerb(globals, async (context, parse, ct) =>
        {
            var info = await context.Client.GetPipelineAsync(parse.GetRequiredValue(pipeline), ct);
            var set = ParameterValues.Build(null, parse.GetValue(pairs) ?? [], info.Value.Parameters);
            if (set.Uploads.Count > 0)
            {
                throw new CliUsageException("a schedule takes file ids (upload with `runway upload` first), not @paths");
            }
            var body = new JsonObject
            {
                ["name"] = parse.GetRequiredValue(name),
                ["pipeline"] = info.Value.Name,
                ["params"] = set.Params,
                ["cron"] = parse.GetRequiredValue(cron),
                ["timezone"] = parse.GetValue(zone) ?? "UTC",
            };
            if (parse.GetValue(catchUp) is { } c)
            {
                body["catch_up"] = c;
            }
            if (parse.GetValue(overlap) is { } o)
            {
                body["overlap"] = o;
            }
            return Write(context, await context.Client.CreateScheduleAsync(body, ct));
        });
        return command;
    }

    private static Command List(CliGlobals globals)
    {
        var command = new Command("list", "List your schedules");
        command.SetVerb(globals, async (context, _, ct) =>
        {
            var reply = await context.Client.ListSchedulesAsync(ct);
            if (context.Json)
            {
                context.WriteJson(reply.Json);
                return 0;
            }
            var table = new TextTable("ID", "NAME", "PIPELINE", "CRON", "TIMEZONE", "NEXT", "LAST");
            foreach (var s in reply.Value.Schedules)
            {
                table.Add(s.Id, s.Name, s.Pipeline, s.Cron, s.Timezone, s.Enabled ? TextTable.Time(NextOf(s)) : "paused", s.LastFire?.Outcome);
            }
            table.WriteTo(context.Out);
            return 0;
        });
        return command;
    }

    private static Command Toggle(CliGlobals globals, string verb, bool enabled)
    {
        var id = new Argument<string>("id") { Description = "The schedule id" };
        var command = new Command(verb, enabled ? "Resume a paused schedule from its next fire time" : "Pause a schedule (no runs until resumed)") { id };
        command.SetVerb(globals, async (context, parse, ct) =>
            Write(context, await context.Client.UpdateScheduleAsync(parse.GetRequiredValue(id), new JsonObject { ["enabled"] = enabled }, ct)));
        return command;
    }

    private static Command Delete(CliGlobals globals)
    {
        var id = new Argument<string>("id") { Description = "The schedule id" };
        var command = new Command("delete", "Delete a schedule (its runs stay)") { id };
        command.SetVerb(globals, async (context, parse, ct) =>
        {
            await context.Client.DeleteScheduleAsync(parse.GetRequiredValue(id), ct);
            return 0;
        });
        return command;
    }

    private static DateTimeOffset? NextOf(ScheduleInfo schedule) => schedule.NextFireTimes is { Count: > 0 } times ? times[0] : null;

    private static int Write(CliContext context, Reply<ScheduleInfo> reply)
    {
        if (context.Json)
        {
            context.WriteJson(reply.Json);
            return 0;
        }
        var s = reply.Value;
        context.Out.WriteLine(s.Enabled ? $"{s.Id} next at {TextTable.Time(NextOf(s))}" : $"{s.Id} paused");
        return 0;
    }
}
