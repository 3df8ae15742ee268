using System.CommandLine;

namespace Runway.Cli;

/// <summary><c>runway status ID</c>: the run as aligned <c>key: value</c> lines, then its state changes.</summary>
internal static class StatusVerb
{
    public static Command Command(CliGlobals globals)
    {
        var id = new Argument<string>("id") { Description = "The run id" };
        var command = new Command("status", "Show a run: state, parameters, times, and its state changes") { id };
        command.SetVerb(globals, (context, parse, ct) => RunAsync(context, parse.GetRequiredValue(id), ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, string id, CancellationToken ct)
    {
        var reply = await context.Client.GetRunAsync(id, ct);
        if (context.Json)
        {
            context.WriteJson(reply.Json);
            return 0;
        }
        Write(reply.Value, context.Out);
        return 0;
    }

    public static void Write(RunInfo run, TextWriter o)
    {
        var where = string.Join(", ", new[]
        {
            run.NativeId is null ? null : $"native id {run.NativeId}",
            run.Node is null ? null : $"node {run.Node}",
        }.OfType<string>());
        var lines = new List<(string Key, string? Value)>
        {
            ("id", run.Id),
            ("pipeline", $"{run.Pipeline} {run.PipelineVersion}".Trim()),
            ("name", run.Name),
            ("state", run.State),
            ("message", run.Message),
            ("exit code", run.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("owner", run.Owner),
            ("priority", run.Priority?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("executor", where.Length == 0 ? run.Executor : $"{run.Executor} ({where})"),
            ("submitted", TextTable.Time(run.SubmittedAt)),
            ("started", TextTable.Time(run.StartedAt)),
            ("finished", TextTable.Time(run.FinishedAt)),
            ("elapsed", Duration.Format(run.ElapsedSeconds)),
            ("wall time", Duration.Format(run.ResourcesUsed?.WallSeconds)),
            ("cpu time", run.ResourcesUsed?.CpuSeconds is { } cpu ? $"{cpu.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} s" : null),
            ("peak memory", run.ResourcesUsed?.PeakMemoryBytes is { } peak ? TextTable.Bytes(peak) : null),
        };
        foreach (var (key, value) in run.Tags ?? [])
        {
            lines.Add(($"tag {key}", PipelinesVerb.Plain(value)));
        }
        foreach (var (key, value) in run.Params ?? [])
        {
            lines.Add(($"param {key}", PipelinesVerb.Plain(value)));
        }
        var width = lines.Max(l => l.Key.Length) + 2;
        foreach (var (key, value) in lines.Where(l => !string.IsNullOrEmpty(l.Value)))
        {
            o.WriteLine($"{(key + ":").PadRight(width)}{value}");
        }
        if (run.Events is { Count: > 0 } events)
        {
            o.WriteLine();
            var table = new TextTable("AT", "FROM", "TO", "REASON");
            foreach (var e in events)
            {
                table.Add(TextTable.Time(e.At), e.From ?? "", e.To, e.Reason);
            }
            table.WriteTo(o);
        }
    }
}
