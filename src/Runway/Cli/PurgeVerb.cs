using System.CommandLine;
using System.Globalization;

namespace Runway.Cli;

/// <summary>
/// <c>runway purge RUN_ID</c>: removes a finished run's files, keeping its record. <c>runway purge --dry-run</c> shows what
/// the retention policies would remove now, and <c>runway purge</c> applies them now (both admins).
/// </summary>
internal static class PurgeVerb
{
    public static Command Command(CliGlobals globals)
    {
        var id = new Argument<string?>("run-id") { Description = "A finished run whose files to remove (its record stays)", Arity = ArgumentArity.ZeroOrOne };
        var dryRun = new Option<bool>("--dry-run") { Description = "Without a run id: only show what the retention policies would remove now (admins)" };
        var command = new Command("purge", "Purge a finished run's files; without a run id, apply the retention policies now (admins)") { id, dryRun };
        command.SetVerb(globals, (context, parse, ct) => parse.GetValue(id) is { } run
            ? PurgeRunAsync(context, run, ct)
            : RetentionAsync(context, parse.GetValue(dryRun), ct));
        return command;
    }

    public static async Task<int> PurgeRunAsync(CliContext context, string id, CancellationToken ct)
    {
        var reply = await context.Client.PurgeRunFilesAsync(id, ct);
        if (context.Json)
        {
            context.WriteJson(reply.Json);
            return 0;
        }
        var at = reply.Value.FilesPurgedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "—";
        await context.Out.WriteLineAsync($"{reply.Value.Id}: files purged at {at}");
        return 0;
    }

    public static async Task<int> RetentionAsync(CliContext context, bool dryRun, CancellationToken ct)
    {
        var reply = await context.Client.RetentionAsync(dryRun, ct);
        if (context.Json)
        {
            context.WriteJson(reply.Json);
            return 0;
        }
        var result = reply.Value;
        var table = new TextTable("KIND", "ID", "OWNER", "BYTES", "SINCE");
        foreach (var (kind, items) in new[] { ("run files", result.RunFiles), ("upload", result.Uploads), ("run record", result.RunRecords) })
        {
            foreach (var item in items)
            {
                table.Add(kind, item.Id, item.Owner, item.Bytes?.ToString(CultureInfo.InvariantCulture) ?? "?", item.Since.ToString("u", CultureInfo.InvariantCulture));
            }
        }
        var count = result.RunFiles.Count + result.Uploads.Count + result.RunRecords.Count;
        if (count > 0)
        {
            await context.Out.WriteAsync(table.ToString());
        }
        await context.Out.WriteLineAsync(dryRun
            ? $"{count} item(s) would be removed now (dry run: nothing was removed)"
            : $"{count} item(s) removed, {result.FreedBytes ?? 0} bytes freed");
        return 0;
    }
}
