namespace Runway.Execution;

/// <summary>
/// An executor that can tell, from the run directory alone, whether it started a run whose native id
/// never reached the store (the server died between the start and recording it). Without it, the
/// reconciler can only assume such a run never started and queue it again.
/// </summary>
public interface IStartedRunFinder
{
    /// <summary>
    /// Said of a run that may have started, when only the backend can tell and asking it would hold up the
    /// caller (a Slurm job found by its name, the controller perhaps down): the run is attached with it as
    /// its native id, and the executor finds and records the real one itself.
    /// </summary>
    public const string AskLater = "";

    /// <summary>The native id of the run if it was started, null if not, or <see cref="AskLater"/>.</summary>
    string? FindNativeId(RunLaunch launch);
}
