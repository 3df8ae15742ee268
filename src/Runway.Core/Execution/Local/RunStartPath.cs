namespace Runway.Execution.Local;

/// <summary>
/// How this node starts local runs, chosen once at start (wire names for /readyz: supervisor, chain): through
/// <see cref="RunSupervisor"/> when it is built and passes its probe, else through the isolation chain of
/// <see cref="RunIsolation"/> and the sh wrapper, as before it existed.
/// </summary>
public sealed class RunStartPath : IDisposable
{
    private RunStartPath(RunSupervisor? supervisor, string detail)
    {
        Supervisor = supervisor;
        Detail = detail;
    }

    public RunSupervisor? Supervisor { get; }

    public string WireName => Supervisor is null ? "chain" : "supervisor";

    /// <summary>Why this path: for the chain, why the supervisor is not used.</summary>
    public string Detail { get; }

    public static RunStartPath Choose(string dataDirectory, RunIsolation isolation)
    {
        var supervisor = RunSupervisor.Start(dataDirectory, isolation, out var detail);
        return new RunStartPath(supervisor, detail);
    }

    public void Dispose() => Supervisor?.Dispose();
}
