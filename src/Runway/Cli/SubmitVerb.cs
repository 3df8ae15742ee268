using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runway.Cli;

internal sealed record SubmitArgs(
    string Pipeline,
    IReadOnlyList<string> Pairs,
    string? ParamsFile = null,
    string? Name = null,
    IReadOnlyList<string>? Tags = null,
    int? Priority = null,
    string? IdempotencyKey = null,
    bool Wait = false,
    TimeSpan? Timeout = null,
    bool NoCache = false,
    string? PipelineVersion = null);

/// <summary><c>runway submit PIPELINE key=value...</c>: prints only the run id, so <c>ID=$(runway submit ...)</c> works.</summary>
internal static class SubmitVerb
{
    private const string Epilog = """
        Parameters are given as key=value and converted to the type the pipeline declares
        (integer, number, boolean: true/false/yes/no/1/0, string). A file parameter takes a file id,
        or @path to upload a local file first. key=value wins over --params.

        Examples:
          runway submit wordstats input=@book.txt min_length=3 lowercase=yes
          runway submit wordstats --params batch.json --tag project=m31 --name "march batch"
          ID=$(runway submit wordstats input=f_01JD...) && runway wait $ID
          runway submit wordstats input=@book.txt --wait --timeout 30m
          runway submit wordstats --pipeline-version 1.1.0 input=f_01JD...
        """;

    public static Command Command(CliGlobals globals)
    {
        var pipeline = new Argument<string>("pipeline") { Description = "The pipeline to run (see `runway pipelines`)" };
        var pairs = new Argument<string[]>("key=value") { Description = "Parameter values", Arity = ArgumentArity.ZeroOrMore };
        var paramsFile = new Option<string?>("--params", "-p") { Description = "A JSON object of parameter values", HelpName = "file.json" };
        var name = new Option<string?>("--name", "-n") { Description = "A name for the run" };
        var tags = new Option<string[]>("--tag", "-t") { Description = "A tag key=value (repeatable)", HelpName = "key=value" };
        var priority = new Option<int?>("--priority") { Description = "Higher runs first; above 0 only for admins and the server's priority group" };
        var idempotency = new Option<string?>("--idempotency-key") { Description = "Submitting again with the same key returns the first run instead of a new one", HelpName = "key" };
        var wait = new Option<bool>("--wait", "-w") { Description = "Wait until the run finishes and exit like `runway wait`" };
        var timeout = WaitVerb.TimeoutOption();
        var version = new Option<string?>("--pipeline-version") { Description = "Run this kept version of the pipeline instead of the default (see `runway pipelines NAME`)", HelpName = "version" };
        var noCache = new Option<bool>("--no-cache") { Description = "Always execute: do not reuse the outputs of an earlier identical run (pipelines with cache:)" };
        var command = new Command("submit", "Submit a run of a pipeline and print its id")
        {
            pipeline, pairs, paramsFile, name, tags, priority, idempotency, wait, timeout, noCache, version,
        }.WithEpilog(Epilog);
        command.SetVerb(globals, (context, parse, ct) => RunAsync(
            context,
            new SubmitArgs(
                parse.GetRequiredValue(pipeline),
                parse.GetValue(pairs) ?? [],
                parse.GetValue(paramsFile),
                parse.GetValue(name),
                parse.GetValue(tags),
                parse.GetValue(priority),
                parse.GetValue(idempotency),
                parse.GetValue(wait),
                parse.GetValue(timeout),
                parse.GetValue(noCache),
                parse.GetValue(version)),
            ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, SubmitArgs args, CancellationToken ct)
    {
        // Everything local is checked before anything is uploaded.
        var tags = args.Tags is { Count: > 0 } ? args.Tags.Select(ParseTag).ToDictionary(t => t.Key, t => t.Value) : null;
        // The parameters of the version that will run: an older one may declare other names or types.
        var pipeline = await context.Client.GetPipelineAsync(args.Pipeline, ct, args.PipelineVersion);
        var fromFile = args.ParamsFile is null ? null : await ReadParamsFileAsync(args.ParamsFile, ct);
        var set = ParameterValues.Build(fromFile, args.Pairs, pipeline.Value.Parameters);
        foreach (var upload in set.Uploads)
        {
            var file = await UploadVerb.UploadAsync(context, upload.Path, null, ct);
            set.Params[upload.Parameter] = file.Value.Id;
        }

        var request = new SubmitRequest(args.Pipeline, set.Params, args.Name, tags, args.Priority, args.NoCache ? false : null, args.PipelineVersion);
        var run = await context.Client.SubmitAsync(request, args.IdempotencyKey, ct);
        if (!args.Wait)
        {
            if (context.Json)
            {
                context.WriteJson(run.Json);
            }
            else
            {
                context.Out.WriteLine(run.Value.Id);
            }
            return 0;
        }
        if (!context.Json)
        {
            context.Out.WriteLine(run.Value.Id);
            await context.Out.FlushAsync(ct);
        }
        return await WaitVerb.WaitAsync(context, run.Value.Id, args.Timeout, printState: false, ct);
    }

    public static KeyValuePair<string, string> ParseTag(string tag)
    {
        try
        {
            var (key, value) = ParameterValues.Split(tag);
            return new(key, value);
        }
        catch (CliUsageException)
        {
            throw new CliUsageException($"--tag expects key=value, got '{tag}'");
        }
    }

    public static async Task<JsonObject> ReadParamsFileAsync(string path, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        try
        {
            return await JsonNode.ParseAsync(stream, cancellationToken: ct) as JsonObject
                ?? throw new CliUsageException($"--params {path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new CliUsageException($"--params {path}: not valid JSON ({e.Message})");
        }
    }
}
