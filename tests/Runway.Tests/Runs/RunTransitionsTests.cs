using Runway.Runs;

namespace Runway.Tests.Runs;

public class RunTransitionsTests
{
    // The whole table, written out: every pair not listed must be refused.
    private static readonly HashSet<(RunState From, RunState To)> Allowed =
    [
        (RunState.Queued, RunState.Running),
        (RunState.Queued, RunState.Canceled),
        (RunState.Queued, RunState.SystemError),
        (RunState.Running, RunState.Queued),
        (RunState.Running, RunState.Succeeded),
        (RunState.Running, RunState.Failed),
        (RunState.Running, RunState.Canceled),
        (RunState.Running, RunState.TimedOut),
        (RunState.Running, RunState.SystemError),
    ];

    public static TheoryData<RunState, RunState> EveryPair()
    {
        var data = new TheoryData<RunState, RunState>();
        foreach (var from in Enum.GetValues<RunState>())
        {
            foreach (var to in Enum.GetValues<RunState>())
            {
                data.Add(from, to);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void IsAllowed_MatchesTable(RunState from, RunState to) =>
        Assert.Equal(Allowed.Contains((from, to)), RunTransitions.IsAllowed(from, to));

    [Fact]
    public void IsAllowed_NeverLeavesFinalState()
    {
        foreach (var from in RunStates.All.Where(s => s.IsFinal()))
        {
            Assert.DoesNotContain(RunStates.All, to => RunTransitions.IsAllowed(from, to));
        }
    }
}
