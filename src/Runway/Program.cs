using Runway;
using Runway.Cli;

// One binary: `runway serve` is the server, every other verb is the client.
// WebApplicationFactory (tests) calls this entry point with host settings as --key=value pairs,
// always including --applicationName: those start the server too.
if (args is ["serve", ..] || args.Any(a => a.StartsWith("--applicationName=", StringComparison.Ordinal)))
{
    var serveArgs = args is ["serve", ..] ? args[1..] : args;
    var app = RunwayServer.Build(serveArgs);
    await app.RunAsync();
    return 0;
}

using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupt.Cancel();
};
return await Cli.RunAsync(args, Console.Out, Console.Error, interrupt.Token);

public partial class Program;
