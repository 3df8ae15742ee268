namespace Runway.Runs;

/// <summary>Where a run is in its life. Stored and serialized as snake_case strings (<see cref="RunStates"/>).</summary>
public enum RunState
{
    /// <summary>Accepted and durable; waits in the runs table until a node claims it (the scheduler), or is cancelled (the API).</summary>
    Queued,

    /// <summary>Claimed by a node, which started (or is starting) it on an executor; that node's scheduler or reconciler moves it to a final state.</summary>
    Running,

    /// <summary>Final: the command exited with code 0.</summary>
    Succeeded,

    /// <summary>Final: the command exited with a non-zero code or was killed by a signal Runway did not send.</summary>
    Failed,

    /// <summary>Final: a user cancelled it, while queued or running.</summary>
    Canceled,

    /// <summary>Final: it ran past its pipeline's time limit and Runway stopped it.</summary>
    TimedOut,

    /// <summary>Final: Runway itself could not start or track it; <c>message</c> says why.</summary>
    SystemError,
}

public static class RunStates
{
    public static readonly IReadOnlyList<RunState> All = Enum.GetValues<RunState>();

    public static bool IsFinal(this RunState state) => state is not (RunState.Queued or RunState.Running);

    public static string ToWire(this RunState state) => state switch
    {
        RunState.Queued => "queued",
        RunState.Running => "running",
        RunState.Succeeded => "succeeded",
        RunState.Failed => "failed",
        RunState.Canceled => "canceled",
        RunState.TimedOut => "timed_out",
        RunState.SystemError => "system_error",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    public static bool TryParse(string? text, out RunState state)
    {
        foreach (var s in All)
        {
            if (string.Equals(s.ToWire(), text, StringComparison.Ordinal))
            {
                state = s;
                return true;
            }
        }
        state = default;
        return false;
    }
}
