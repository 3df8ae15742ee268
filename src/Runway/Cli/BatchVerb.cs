using System.CommandLine;

namespace Runway.Cli;

/// <summary>
/// <c>runway batch PIPELINE --rows samples.csv [--wait]</c> submits a sheet as one batch and prints its id;
/// <c>runway batch status|cancel|download ID</c> and <c>runway batch list</c> act on batches (issue 14).
/// </summary>
internal static class BatchVerb
{
    private const string Epilog = """
        The rows file is CSV or XLSX (told apart by its content): a header naming the pipeline's
        parameters, then one row per run. File parameters take a file id or the name of one of your
        uploads. `runway batch` of a pipeline named status, cancel, download or list: use the API.

        Examples:
          curl -fsS -H "Authorization: Bearer $RUNWAY_TOKEN" $RUNWAY_SERVER/api/v1/pipelines/wordstats/template.csv > samples.csv
          ID=$(runway batch wordstats --rows samples.csv) && runway batch status $ID
          runway batch wordstats --rows samples.xlsx --wait && runway batch download $ID
        """;

    /// <summary>How often --wait asks; a batch of thousands of runs takes minutes, so once a second at most.</summary>
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public static Command Command(CliGlobals globals)
    {
        var pipeline = new Argument<string>("pipeline") { Description = "The pipeline of every row (see `runway pipelines`)" };
        var rows = new Option<string>("--rows", "-r") { Description = "The sheet: CSV or XLSX, one row per run", HelpName = "file", Required = true };
        var name = new Option<string?>("--name", "-n") { Description = "A name for the batch" };
        var wait = new Option<bool>("--wait", "-w") { Description = "Wait until every run has ended; exit 0 when all succeeded" };
        var command = new Command("batch", "Submit a CSV or XLSX of parameter rows as one batch of runs; print its id") { pipeline, rows, name, wait }.WithEpilog(Epilog);
        command.SetVerb(globals, (context, parse, ct) =>
            SubmitAsync(context, parse.GetRequiredValue(pipeline), parse.GetRequiredValue(rows), parse.GetValue(name), parse.GetValue(wait), ct));

        var id = new Argument<string>("id") { Description = "The batch id (b_…)" };
        var status = new Command("status", "A batch's state and its runs per state") { id };
        status.SetVerb(globals, (context, parse, ct) => StatusAsync(context, parse.GetRequiredValue(id), ct));
        command.Subcommands.Add(status);

        var cancelId = new Argument<string>("id") { Description = "The batch id (b_…)" };
        var cancel = new Command("cancel", "Cancel every queued or running run of a batch; prints its state") { cancelId };
        cancel.SetVerb(globals, async (context, parse, ct) =>
        {
            Print(context, await context.Client.CancelBatchAsync(parse.GetRequiredValue(cancelId), ct));
            return 0;
        });
        command.Subcommands.Add(cancel);

        var downloadId = new Argument<string>("id") { Description = "The batch id (b_…)" };
        var output = new Option<string?>("--output", "-o") { Description = "The file to write (default ID.tar.gz), or a directory to write it in", HelpName = "path" };
        var download = new Command("download", "Every run's outputs as one .tar.gz, one folder per run") { downloadId, output };
        download.SetVerb(globals, async (context, parse, ct) =>
        {
            var batch = parse.GetRequiredValue(downloadId);
            using var response = await context.Client.OpenBatchArchiveAsync(batch, ct);
            await DownloadVerb.SaveAsync(context, response, DownloadVerb.Target(parse.GetValue(output), $"{DownloadVerb.Safe(batch)}.tar.gz"), ct);
            return 0;
        });
        command.Subcommands.Add(download);

        var list = new Command("list", "Your batches, newest first");
        list.SetVerb(globals, (context, _, ct) => ListAsync(context, ct));
        command.Subcommands.Add(list);
        return command;
    }

    public static async Task<int> SubmitAsync(CliContext context, string pipeline, string rows, string? name, bool wait, CancellationToken ct)
    {
        if (!File.Exists(rows))
        {
            throw new CliUsageException($"--rows {rows}: no such file");
        }
        var batch = await context.Client.SubmitBatchAsync(pipeline, rows, name, ct);
        if (context.Json && !wait)
        {
            context.WriteJson(batch.Json);
            return 0;
        }
        context.Out.WriteLine(batch.Value.Id);
        if (!wait)
        {
            return 0;
        }
        await context.Out.FlushAsync(ct);
        while (true)
        {
            var now = await context.Client.GetBatchAsync(batch.Value.Id, ct);
            if (now.Value.State != "running")
            {
                Print(context, now);
                return ExitCodeOf(now.Value.State);
            }
            await Task.Delay(Interval, context.Clock, ct);
        }
    }

    public static async Task<int> StatusAsync(CliContext context, string id, CancellationToken ct)
    {
        Print(context, await context.Client.GetBatchAsync(id, ct));
        return 0;
    }

    public static async Task<int> ListAsync(CliContext context, CancellationToken ct)
    {
        var page = await context.Client.ListBatchesAsync(null, ct);
        if (context.Json)
        {
            context.WriteJson(page.Json);
            return 0;
        }
        foreach (var batch in page.Value.Batches)
        {
            context.Out.WriteLine($"{batch.Id}  {batch.State,-13} {batch.Total,6} runs  {batch.Name}");
        }
        return 0;
    }

    /// <summary>The batch's state, then its non-zero counts per state, then the runs that failed (partly_failed).</summary>
    private static void Print(CliContext context, Reply<BatchInfo> reply)
    {
        if (context.Json)
        {
            context.WriteJson(reply.Json);
            return;
        }
        var batch = reply.Value;
        context.Out.WriteLine($"{batch.State}  {string.Join("  ", batch.Counts.Where(c => c.Value > 0).Select(c => $"{c.Key} {c.Value}"))}");
        foreach (var failed in batch.FailedRunIds ?? [])
        {
            context.Out.WriteLine($"failed: {failed}");
        }
    }

    /// <summary>As `runway wait`: 0 when every run succeeded, 3 when the batch was canceled, 1 when any failed.</summary>
    public static int ExitCodeOf(string state) => state switch
    {
        "succeeded" => ExitCodes.Succeeded,
        "canceled" => ExitCodes.Canceled,
        _ => ExitCodes.Failed,
    };
}
