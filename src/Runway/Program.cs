using Runway;
using Runway.Cli;

// One binary: `runway serve` is the server, every other verb is the client.
// WebApplicationFactory (tests) calls this entry point with host settings as --key=value pairs,
// always including --applicationName: those start the server too.
if (args.Any(a => a.StartsWith("--applicationName=", StringComparison.Ordinal)))
{
    return await ServeAsync(args, CancellationToken.None);
}

// The local executor's runner of a GA4GH TES task's executors (Execution/Tes/TesRunner): not a client verb.
if (args is [Runway.Execution.Tes.TesRunner.Verb, var plan])
{
    return await Runway.Execution.Tes.TesRunner.RunAsync(plan, TimeProvider.System);
}

using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupt.Cancel();
};
return await Cli.RunAsync(args, Console.Out, Console.Error, interrupt.Token, ServeFromCliAsync);

static async Task<int> ServeFromCliAsync(string[] serveArgs, CancellationToken cancellationToken)
{
    // Everything the server creates is its own alone (0600 files, 0700 directories): the data directory
    // holds password and token hashes, keys and uploads (RunwayPaths.MakePrivate fixes what exists). Set
    // here, not in RunwayServer: tests host the server in their own process, whose files are not its data.
    PosixIo.SetUmask(0b000_111_111);
    try
    {
        return await ServeAsync(serveArgs, cancellationToken);
    }
    catch (StartRefusedException e)
    {
        await Console.Error.WriteLineAsync($"runway: {e.Message}");
        return 1;
    }
}

static async Task<int> ServeAsync(string[] serveArgs, CancellationToken cancellationToken)
{
    var app = await RunwayServer.BuildAsync(serveArgs, cancellationToken);
    await app.RunAsync();
    return 0;
}

public partial class Program;
