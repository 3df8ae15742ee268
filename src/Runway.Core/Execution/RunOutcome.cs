using Runway.Runs;

namespace Runway.Execution;

/// <summary>Why Runway itself stopped a run, if it did: that, not the exit code, decides the final state.</summary>
public enum StopCause
{
    None,
    Canceled,
    TimeLimit,
}

/// <summary>Turns how a running run ended into its final state, message and event reason.</summary>
public static class RunOutcome
{
    public const string CanceledByUser = "canceled by user";

    public static RunTransition Final(string runId, RunExit exit, StopCause cause, TimeSpan? timeLimit)
    {
        var (to, message) = (cause, exit) switch
        {
            (StopCause.Canceled, _) => (RunState.Canceled, CanceledByUser),
            (StopCause.TimeLimit, _) => (RunState.TimedOut, $"exceeded time limit of {Format(timeLimit ?? TimeSpan.Zero)}"),
            (_, { Error: { } error }) => (RunState.SystemError, error),
            (_, { Verdict: { } verdict }) => (verdict, exit.Message),
            (_, { ExitCode: 0 }) => (RunState.Succeeded, (string?)null),
            (_, { ExitCode: { } code }) => (RunState.Failed, Describe(code)),
            _ => (RunState.SystemError, "the run ended without an exit code"),
        };
        var reason = message ?? "exited with code 0";
        if (exit.BackendState is { } backend)
        {
            reason += $" ({backend})";
        }
        return new RunTransition(runId, [RunState.Running], to, reason) { ExitCode = exit.ExitCode, Message = message, EndedAt = exit.EndedAt, Usage = exit.Usage };
    }

    /// <summary>
    /// A shell reports death by signal N as 128+N; a program may also exit with such a code itself, which
    /// the wrapper cannot tell apart, so the message names both.
    /// </summary>
    public static string Describe(int exitCode) => exitCode is > 128 and < 128 + 65
        ? $"killed by signal {exitCode - 128} (exit code {exitCode})"
        : $"exited with code {exitCode}";

    /// <summary>A duration as an operator writes it: 10m, 1h30m, 45s, 1.5s.</summary>
    public static string Format(TimeSpan span)
    {
        if (span < TimeSpan.FromMinutes(1) && span.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return $"{span.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}s";
        }
        var text = "";
        if ((int)span.TotalHours > 0)
        {
            text += $"{(int)span.TotalHours}h";
        }
        if (span.Minutes > 0)
        {
            text += $"{span.Minutes}m";
        }
        if (span.Seconds > 0 || text.Length == 0)
        {
            text += $"{span.Seconds}s";
        }
        return text;
    }
}
