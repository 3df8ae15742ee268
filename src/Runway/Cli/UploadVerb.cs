using System.CommandLine;

namespace Runway.Cli;

/// <summary><c>runway upload FILE</c>: streams a local file to the server and prints its file id.</summary>
internal static class UploadVerb
{
    public static Command Command(CliGlobals globals)
    {
        var file = new Argument<string>("file") { Description = "The local file to upload" };
        var name = new Option<string?>("--name", "-n") { Description = "The name to store it under (default: the file's name)" };
        var command = new Command("upload", "Upload a file for a file parameter; prints its id") { file, name }
            .WithEpilog("Example:\n  runway submit wordstats input=$(runway upload book.txt)");
        command.SetVerb(globals, async (context, parse, ct) =>
        {
            var reply = await UploadAsync(context, parse.GetRequiredValue(file), parse.GetValue(name), ct);
            if (context.Json)
            {
                context.WriteJson(reply.Json);
            }
            else
            {
                context.Out.WriteLine(reply.Value.Id);
            }
            return 0;
        });
        return command;
    }

    /// <summary>Also used by <c>submit</c> for <c>key=@path</c>.</summary>
    public static async Task<Reply<UploadedFile>> UploadAsync(CliContext context, string path, string? name, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            throw new CliUsageException($"no such file: {path}");
        }
        var progress = context.Progress($"uploading {Path.GetFileName(path)}:", new FileInfo(path).Length);
        try
        {
            return await context.Client.UploadAsync(path, name, progress, ct);
        }
        finally
        {
            progress.Clear();
        }
    }
}
