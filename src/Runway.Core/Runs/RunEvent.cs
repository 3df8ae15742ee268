namespace Runway.Runs;

/// <summary>One recorded state transition of a run: appended in the same transaction as the state change.</summary>
public sealed class RunEvent
{
    public long Id { get; init; }
    public required string RunId { get; init; }
    public RunState? From { get; init; }
    public RunState To { get; init; }
    public required string Reason { get; init; }
    public DateTimeOffset At { get; init; }
}
