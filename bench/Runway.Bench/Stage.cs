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
        // A stopped server leaves its runs running (the next start takes them back); none must outlive the benchmark.
        // Canceled while the server is up, they are stopped by it and their cgroups removed. The sleeps of the cancel
        // and queued phases, started just before a stop, had no process group recorded yet for the kill below to find:
        // they stayed for their hour, and their cgroup folders for good.
        try
        {
            await api.CancelAllAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException or TaskCanceledException)
        {
            Console.Error.WriteLine($"bench: could not cancel the stage's runs before stopping its server: {e.Message}");
        }
        api.Dispose();
        await server.DisposeAsync();
        await database.KillRunningAsync(CancellationToken.None);
    }
}
