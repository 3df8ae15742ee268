using Runway.Execution;
using Runway.Runs;

namespace Runway.Tests.Execution;

public class RunOutcomeTests
{
    public static TheoryData<int?, string?, StopCause, RunState, string?> Cases => new()
    {
        { 0, null, StopCause.None, RunState.Succeeded, null },
        { 3, null, StopCause.None, RunState.Failed, "exited with code 3" },
        { 137, null, StopCause.None, RunState.Failed, "killed by signal 9 (exit code 137)" },
        { 255, null, StopCause.None, RunState.Failed, "exited with code 255" },
        { null, "lost", StopCause.None, RunState.SystemError, "lost" },
        { 143, null, StopCause.Canceled, RunState.Canceled, "canceled by user" },
        { 0, null, StopCause.Canceled, RunState.Canceled, "canceled by user" },
        { 143, null, StopCause.TimeLimit, RunState.TimedOut, "exceeded time limit of 10m" },
        { null, "lost", StopCause.TimeLimit, RunState.TimedOut, "exceeded time limit of 10m" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Final_MapsExitAndCause(int? code, string? error, StopCause cause, RunState state, string? message)
    {
        var transition = RunOutcome.Final("r", new RunExit(code, error), cause, TimeSpan.FromMinutes(10));

        Assert.Equal(state, transition.To);
        Assert.Equal(message, transition.Message);
        Assert.Equal(code, transition.ExitCode);
        Assert.Equal([RunState.Running], transition.From);
        Assert.False(string.IsNullOrEmpty(transition.Reason));
    }

    [Theory]
    [InlineData(600_000, "10m")]
    [InlineData(5_400_000, "1h30m")]
    [InlineData(45_000, "45s")]
    [InlineData(1_500, "1.5s")]
    [InlineData(90_061_000, "25h1m1s")]
    [InlineData(0, "0s")]
    public void Format_WritesDurationAsOperatorWould(int milliseconds, string expected) =>
        Assert.Equal(expected, RunOutcome.Format(TimeSpan.FromMilliseconds(milliseconds)));
}
