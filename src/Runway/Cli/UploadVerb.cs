using System.CommandLine;
using System.Security.Cryptography;

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

    /// <summary>
    /// Also used by <c>submit</c> for <c>key=@path</c>. The file is hashed first: when the caller already uploaded the
    /// same bytes, that file is used and nothing is sent (the server stores bytes once per sha256 anyway; this saves the transfer).
    /// </summary>
    public static async Task<Reply<UploadedFile>> UploadAsync(CliContext context, string path, string? name, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            throw new CliUsageException($"no such file: {path}");
        }
        string sha256;
        await using (var local = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan))
        {
            sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(local, ct));
        }
        // The hash is compared too: a server from before ?sha256= answers with any file.
        if (await FindAsync(context, sha256, ct) is { Value.Files: [var earlier, ..] } found && earlier.Sha256 == sha256 && found.Json["files"]?[0] is { } earlierJson)
        {
            await context.Error.WriteLineAsync($"reused {earlier.Id} ({earlier.Name}): the same bytes (sha256 {sha256}) were uploaded already");
            return new Reply<UploadedFile>(earlier, earlierJson.DeepClone());
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

    /// <summary>Null when the lookup is not allowed (a token without files:read) or not known (an older server): then it uploads.</summary>
    private static async Task<Reply<FileList>?> FindAsync(CliContext context, string sha256, CancellationToken ct)
    {
        try
        {
            return await context.Client.FindFilesAsync(sha256, ct);
        }
        catch (RunwayApiException refused) when (refused.Status is System.Net.HttpStatusCode.Forbidden or System.Net.HttpStatusCode.NotFound
            or System.Net.HttpStatusCode.UnprocessableEntity or System.Net.HttpStatusCode.BadRequest)
        {
            return null;
        }
    }
}
