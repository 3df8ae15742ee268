using System.CommandLine;
using System.Globalization;

namespace Runway.Cli;

/// <summary>
/// <c>runway usage [--all] [--from] [--to] [--group-by] [--csv]</c>: accounting as a table (then what each user stores
/// now), CSV (the range's rows) or (--json) the server's answer.
/// </summary>
internal static class UsageVerb
{
    private static readonly string[] States = ["succeeded", "failed", "canceled", "timed_out", "system_error"];

    public static Command Command(CliGlobals globals)
    {
        var all = new Option<bool>("--all") { Description = "Everyone's usage (admins); without it, your own" };
        var from = new Option<string?>("--from") { Description = "Runs that finished at or after this ISO 8601 date or time (default: 30 days before --to)" };
        var to = new Option<string?>("--to") { Description = "Runs that finished before this ISO 8601 date or time (default: now)" };
        var groupBy = new Option<string?>("--group-by") { Description = "user, pipeline, group, node or day (default: user)" };
        var csv = new Option<bool>("--csv") { Description = "Comma-separated values with a header line, for a spreadsheet" };
        var command = new Command("usage", "Runs, wall and CPU hours and peak memory of finished runs, per user, pipeline, group, node or day")
        {
            all, from, to, groupBy, csv,
        };
        command.SetVerb(globals, (context, parse, ct) => RunAsync(
            context, parse.GetValue(all), parse.GetValue(from), parse.GetValue(to), parse.GetValue(groupBy), parse.GetValue(csv), ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, bool all, string? from, string? to, string? groupBy, bool csv, CancellationToken ct)
    {
        var reply = await context.Client.GetUsageAsync(all, from, to, groupBy, ct);
        if (context.Json)
        {
            context.WriteJson(reply.Json);
            return 0;
        }
        var report = reply.Value;
        string[] header = [report.GroupBy.ToUpperInvariant(), "RUNS", .. States.Select(s => s.ToUpperInvariant()), "WALL_H", "CPU_H", "PEAK_P50", "PEAK_P95", "PEAK_MAX"];
        var lines = report.Rows.Select(r => (string[])[
            r.Key ?? "-", Text(r.Runs), .. States.Select(s => Text(r.RunsByState.GetValueOrDefault(s))),
            r.WallHours.ToString("0.###", CultureInfo.InvariantCulture), r.CpuHours.ToString("0.###", CultureInfo.InvariantCulture),
            Memory(r.PeakMemoryP50Bytes, csv), Memory(r.PeakMemoryP95Bytes, csv), Memory(r.PeakMemoryMaxBytes, csv)]);
        if (csv)
        {
            await context.Out.WriteLineAsync(string.Join(',', header.Select(h => h.ToLowerInvariant())));
            foreach (var line in lines)
            {
                await context.Out.WriteLineAsync(string.Join(',', line.Select(Csv)));
            }
            return 0;
        }
        var table = new TextTable(header);
        foreach (var line in lines)
        {
            table.Add(line);
        }
        await context.Out.WriteAsync(table.ToString());
        // Storage is now, not in the range: a table of its own after a blank line (CSV keeps to the range's rows).
        if (report.Storage is { Count: > 0 } storage)
        {
            var stored = new TextTable(["USER", "UPLOADS", "RUN_FILES", "STORED"]);
            foreach (var s in storage)
            {
                stored.Add([s.User, TextTable.Bytes(s.UploadsBytes), TextTable.Bytes(s.RunFilesBytes), TextTable.Bytes(s.TotalBytes)]);
            }
            await context.Out.WriteLineAsync();
            await context.Out.WriteAsync(stored.ToString());
        }
        return 0;
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>CSV keeps bytes, for sums; the table reads as sizes.</summary>
    private static string Memory(long? bytes, bool csv) => bytes is not { } b ? (csv ? "" : "-") : csv ? Text(b) : TextTable.Bytes(b);

    /// <summary>RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled; one that a spreadsheet would take for a formula is prefixed with '.</summary>
    private static string Csv(string field)
    {
        var safe = field.Length > 0 && field[0] is '=' or '+' or '-' or '@' && field != "-" ? "'" + field : field;
        return safe.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{safe.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : safe;
    }
}
