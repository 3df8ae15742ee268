namespace Runway.Bench;

/// <summary>A running server on its own data directory, with a client for it; disposing stops the server.</summary>
internal sealed class Stage(string dataDir, ServerProcess server, ApiClient api, TimeSpan startup, Seeder database) : IAsyncDisposable
{
    public string DataDir => dataDir;
    public ServerProcess Server => server;
    public ApiClient Api => api;
    public TimeSpan Startup => startup;

    public async ValueTask DisposeAsync()
    {
        api.Dispose();
        await server.DisposeAsync();
        // A stopped server leaves its runs running (the next start takes them back); none must outlive the benchmark.
        await database.KillRunningAsync(CancellationToken.None);
    }
}
