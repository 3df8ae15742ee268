namespace Runway.Execution;

/// <summary>
/// An executor that can tell, from the run directory alone, whether it started a run whose native id
/// never reached the store (the server died between the start and recording it). Without it, the
/// reconciler can only assume such a run never started and queue it again.
/// </summary>
public interface IStartedRunFinder
{
    /// <summary>The native id of the run if it was started, else null.</summary>
    string? FindNativeId(RunLaunch launch);
}
