using System.CommandLine;
using Runway.Runs;

namespace Runway.Cli;

/// <summary><c>runway wait ID</c>: polls until the run is final and exits with a code per final state (<see cref="ExitCodes"/>).</summary>
internal static class WaitVerb
{
    // Quick answers for short runs, at most one request every two seconds for long ones.
    internal static readonly TimeSpan FirstInterval = TimeSpan.FromMilliseconds(200);
    internal static readonly TimeSpan MaxInterval = TimeSpan.FromSeconds(2);

    // How long the server may stay unreachable (or answer 502/503/504) before the wait gives up.
    internal static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

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
        // Only once the server has answered: a wrong --server should fail at once, not after minutes.
        var answered = false;
        long? unreachableSince = null;
        while (true)
        {
            Reply<RunInfo> reply;
            try
            {
                reply = await context.Client.GetRunAsync(id, ct);
                unreachableSince = null;
                answered = true;
            }
            catch (Exception e) when (answered && IsTransient(e)
                && clock.GetElapsedTime(unreachableSince ??= clock.GetTimestamp()) < Patience
                && !(timeout is { } t && clock.GetElapsedTime(started) >= t))
            {
                // A server restart (or a node failing over) should not end a wait of hours: keep asking for a while.
                progress.Show($"server not answering ({e.Message}); retrying");
                await Task.Delay(interval, clock, ct);
                interval = Longer(interval);
                continue;
            }
            catch (RunwayApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
            {
                // A mistyped id must not read as a failed run to a script that branches on the code.
                progress.Clear();
                CliErrors.WriteProblem(e, context.Error);
                return ExitCodes.NoSuchRun;
            }
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
            interval = Longer(interval);
        }
    }

    private static TimeSpan Longer(TimeSpan interval) => TimeSpan.FromTicks(Math.Min(MaxInterval.Ticks, (long)(interval.Ticks * 1.5)));

    private static bool IsTransient(Exception e) => e switch
    {
        HttpRequestException => true,
        RunwayApiException api => (int)api.Status is 502 or 503 or 504,
        _ => false,
    };

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
