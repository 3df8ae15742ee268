using System.CommandLine;

namespace Runway.Cli;

internal sealed record DownloadArgs(string Id, string? Path = null, string? Output = null, bool Archive = false);

/// <summary>
/// <c>runway download ID [PATH]</c>: outputs streamed to disk through a <c>.part</c> file, renamed when
/// complete, so an interrupted download never looks finished. Prints each file written.
/// </summary>
internal static class DownloadVerb
{
    private const string Epilog = """
        Without PATH: every output into --output (default ./<run id>/).
        With PATH: that one output to --output, or to its base name here.
        With --archive: outputs, logs and run.sh as .tar.gz to --output (default <run id>.tar.gz).

        Examples:
          runway download $ID
          runway download $ID counts.tsv -o /tmp/counts.tsv
          runway download $ID --archive
        """;

    public static Command Command(CliGlobals globals)
    {
        var id = new Argument<string>("id") { Description = "The run id" };
        var path = new Argument<string?>("path") { Description = "One output, as `runway download` lists it", Arity = ArgumentArity.ZeroOrOne };
        var output = new Option<string?>("--output", "-o") { Description = "Where to write (a directory for all outputs, a file otherwise)", HelpName = "path" };
        var archive = new Option<bool>("--archive") { Description = "Download the outputs, logs and run.sh as one .tar.gz" };
        var command = new Command("download", "Download a run's outputs, one of them, or all with its logs as .tar.gz")
        {
            id, path, output, archive,
        }.WithEpilog(Epilog);
        command.SetVerb(globals, (context, parse, ct) => RunAsync(
            context,
            new DownloadArgs(parse.GetRequiredValue(id), parse.GetValue(path), parse.GetValue(output), parse.GetValue(archive)),
            ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, DownloadArgs args, CancellationToken ct)
    {
        if (args.Archive)
        {
            if (args.Path is not null)
            {
                throw new CliUsageException("give either PATH or --archive, not both");
            }
            using var response = await context.Client.OpenArchiveAsync(args.Id, ct);
            await SaveAsync(context, response, Target(args.Output, $"{Safe(args.Id)}.tar.gz"), ct);
            return 0;
        }
        if (args.Path is not null)
        {
            using var response = await context.Client.OpenOutputAsync(args.Id, args.Path, ct);
            await SaveAsync(context, response, Target(args.Output, Safe(Path.GetFileName(args.Path.TrimEnd('/')))), ct);
            return 0;
        }
        return await DownloadAllAsync(context, args.Id, args.Output ?? Safe(args.Id), ct);
    }

    private static async Task<int> DownloadAllAsync(CliContext context, string id, string directory, CancellationToken ct)
    {
        var outputs = await context.Client.GetOutputsAsync(id, ct);
        Directory.CreateDirectory(directory);
        var refused = 0;
        foreach (var output in outputs.Value.Outputs)
        {
            if (OutputPath.Join(directory, output.Path) is not { } target)
            {
                await context.Error.WriteLineAsync($"runway: skipped '{output.Path}': the server sent a path outside the output directory");
                refused++;
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using var response = await context.Client.OpenOutputAsync(id, output.Path, ct);
            await SaveAsync(context, response, target, ct);
        }
        if (outputs.Value.Truncated)
        {
            await context.Error.WriteLineAsync($"runway: run {id} has more outputs than the server lists at once; downloaded the {outputs.Value.Outputs.Count} it listed");
        }
        if (outputs.Value.Outputs.Count == 0)
        {
            await context.Error.WriteLineAsync($"runway: run {id} has no outputs");
        }
        return refused == 0 ? 0 : ExitCodes.Error;
    }

    internal static async Task SaveAsync(CliContext context, HttpResponseMessage response, string target, CancellationToken ct)
    {
        var partial = target + ".part";
        var progress = context.Progress($"{Path.GetFileName(target)}:", response.Content.Headers.ContentLength);
        try
        {
            await using (var source = await response.Content.ReadAsStreamAsync(ct))
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                var buffer = new byte[81920];
                long total = 0;
                int read;
                while ((read = await source.ReadAsync(buffer, ct)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                    total += read;
                    progress.Report(total);
                }
            }
            File.Move(partial, target, overwrite: true);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
        finally
        {
            progress.Clear();
        }
        await context.Out.WriteLineAsync(target);
    }

    /// <summary>--output as given, inside it when it is a directory, or the default name here.</summary>
    internal static string Target(string? output, string name) =>
        output is null ? name : Directory.Exists(output) ? Path.Combine(output, name) : output;

    /// <summary>A name the server chose, used as one file name here: never a path.</summary>
    internal static string Safe(string name)
    {
        var clean = new string([.. name.Select(c => c is '/' or '\\' or '\0' ? '_' : c)]);
        return clean is "" or "." or ".." ? "output" : clean;
    }
}
