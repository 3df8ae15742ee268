using System.CommandLine;
using Runway.Runs;

namespace Runway.Cli;

/// <summary><c>runway wait ID</c>: polls until the run is final and exits with a code per final state (<see cref="ExitCodes"/>).</summary>
internal static class WaitVerb
{
    // Quick answers for short runs, at most one request every two seconds for long ones.
    internal static readonly TimeSpan FirstInterval = TimeSpan.FromMilliseconds(200);
    internal static readonly TimeSpan MaxInterval = TimeSpan.FromSeconds(2);

    public static Option<TimeSpan?> TimeoutOption() => new("--timeout")
    {
        Description = "Stop waiting after this long (90s, 10m, 1h30m); the run goes on",
        HelpName = "duration",
        CustomParser = result =>
        {
            try
            {
                return Duration.Parse(result.Tokens.Single().Value);
            }
            catch (FormatException e)
            {
                result.AddError(e.Message);
                return null;
            }
        },
    };

    public static Command Command(CliGlobals globals)
    {
        var id = new Argument<string>("id") { Description = "The run id" };
        var timeout = TimeoutOption();
        var command = new Command("wait", "Wait until a run finishes; prints its final state") { id, timeout }.WithEpilog(ExitCodes.Help);
        command.SetVerb(globals, (context, parse, ct) =>
            WaitAsync(context, parse.GetRequiredValue(id), parse.GetValue(timeout), printState: true, ct));
        return command;
    }

    public static async Task<int> WaitAsync(CliContext context, string id, TimeSpan? timeout, bool printState, CancellationToken ct)
    {
        var clock = context.Clock;
        var started = clock.GetTimestamp();
        var interval = FirstInterval;
        var progress = context.Progress($"run {id}:", null);
        while (true)
        {
            var reply = await context.Client.GetRunAsync(id, ct);
            var run = reply.Value;
            if (RunStates.TryParse(run.State, out var state) && state.IsFinal())
            {
                progress.Clear();
                Report(context, reply, printState);
                return ExitCodes.ForState(run.State);
            }
            progress.Show($"{run.State} {Duration.Format(run.ElapsedSeconds ?? clock.GetElapsedTime(started).TotalSeconds)}");
            var waited = clock.GetElapsedTime(started);
            if (timeout is { } limit && waited >= limit)
            {
                progress.Clear();
                await context.Error.WriteLineAsync($"runway: stopped waiting after {Duration.Format(waited)}; run {id} is still {run.State}");
                return ExitCodes.WaitTimedOut;
            }
            var pause = timeout is { } l && l - waited < interval ? l - waited : interval;
            await Task.Delay(pause, clock, ct);
            interval = TimeSpan.FromTicks(Math.Min(MaxInterval.Ticks, (long)(interval.Ticks * 1.5)));
        }
    }

    private static void Report(CliContext context, Reply<RunInfo> reply, bool printState)
    {
        var run = reply.Value;
        if (context.Json)
        {
            context.WriteJson(reply.Json);
        }
        else if (printState)
        {
            context.Out.WriteLine(run.State);
        }
        if (run.State != "succeeded")
        {
            var exit = run.ExitCode is { } code ? $" (exit code {code})" : "";
            var message = string.IsNullOrWhiteSpace(run.Message) ? "" : $": {run.Message}";
            context.Error.WriteLine($"runway: run {run.Id} {run.State}{exit}{message}");
        }
    }
}
