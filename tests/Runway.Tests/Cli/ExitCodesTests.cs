using Runway.Cli;
using Runway.Runs;

namespace Runway.Tests.Cli;

public class ExitCodesTests
{
    [Theory]
    [InlineData(RunState.Succeeded, 0)]
    [InlineData(RunState.Failed, 1)]
    [InlineData(RunState.Canceled, 3)]
    [InlineData(RunState.TimedOut, 4)]
    [InlineData(RunState.SystemError, 5)]
    public void ForState_GivesOneCodePerFinalState(RunState state, int code) =>
        Assert.Equal(code, ExitCodes.ForState(state.ToWire()));

    [Fact]
    public void ForState_CoversEveryFinalState_WithDistinctCodes()
    {
        var finals = RunStates.All.Where(s => s.IsFinal()).Select(s => ExitCodes.ForState(s.ToWire())).ToList();

        Assert.Equal(finals.Count, finals.Distinct().Count());
        Assert.DoesNotContain(ExitCodes.Usage, finals);
        Assert.DoesNotContain(ExitCodes.WaitTimedOut, finals);
    }

    [Fact]
    public void ForState_IsAnError_WhenStateIsUnknown() => Assert.Equal(ExitCodes.Error, ExitCodes.ForState("exploded"));
}
