using Runway.Cli;

namespace Runway.Tests.Cli;

/// <summary>Runs `runway ARGS` in-process against a <see cref="FakeServer"/> and captures both writers.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    public static async Task<CliRun> RunAsync(FakeServer? server, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var host = new CliHost(
            stdout,
            stderr,
            ErrorIsTerminal: false,
            Environment: _ => null,
            Handler: () => server ?? new FakeServer(),
            Clock: TimeProvider.System);
        var code = await Runway.Cli.Cli.RunAsync(args, host, TestContext.Current.CancellationToken);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }
}
