using Runway.Runs;

namespace Runway.Cli;

/// <summary>
/// What `runway wait` (and `submit --wait`) exit with, one code per final state so scripts can branch
/// without parsing output. Other verbs use 0, <see cref="Error"/> and <see cref="Usage"/>.
/// </summary>
internal static class ExitCodes
{
    public const int Succeeded = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Canceled = 3;
    public const int TimedOut = 4;
    public const int SystemError = 5;
    public const int WaitTimedOut = 6;

    /// <summary>The server knows no run with that id (or not one the caller may see): not a run that failed.</summary>
    public const int NoSuchRun = 7;

    /// <summary>Anything else that went wrong: server unreachable, server error, local I/O.</summary>
    public const int Error = 1;

    public const string Help = """
        Exit codes:
          0  the run succeeded
          1  the run failed (or the server could not be reached)
          2  usage or validation error
          3  the run was canceled
          4  the run hit its time limit (timed_out)
          5  system_error: Runway could not start or track the run
          6  --timeout passed before the run finished (the run goes on)
          7  no run with that id
        """;

    public static int ForState(string state) => RunStates.TryParse(state, out var parsed)
        ? parsed switch
        {
            RunState.Succeeded => Succeeded,
            RunState.Failed => Failed,
            RunState.Canceled => Canceled,
            RunState.TimedOut => TimedOut,
            RunState.SystemError => SystemError,
            _ => WaitTimedOut,
        }
        : Error;
}
