using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Runway.Bench;

/// <summary>
/// A real <c>runway serve</c> (<c>dotnet runway.dll serve</c>: the dotnet host runs the server in its own
/// process, so this pid is the server's) on a free loopback port. Its output is drained and only the tail kept.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly Queue<string> tail = new();

    private ServerProcess(Process process, string url)
    {
        this.process = process;
        Url = url;
    }

    /// <summary>The admin password every server of this benchmark starts with; a token made with it drives the load.</summary>
    public static readonly string AdminPassword = "bench-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));

    public string Url { get; }
    public int Pid => process.Id;

    /// <summary>Starts the server and returns once /readyz answers 200, with the time that took.</summary>
    public static async Task<(ServerProcess Server, TimeSpan Startup)> StartAsync(
        string runwayDll, string dataDir, string pipelinesDir, int concurrency, string? database, CancellationToken ct,
        IReadOnlyList<string>? settings = null, string command = "serve")
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[runwayDll, command, "--urls", url, "--data-dir", dataDir, "--pipelines", pipelinesDir,
            "--concurrency", concurrency.ToString(CultureInfo.InvariantCulture)])
        {
            info.ArgumentList.Add(a);
        }
        foreach (var setting in settings ?? [])
        {
            info.ArgumentList.Add(setting);
        }
        if (database is not null)
        {
            info.ArgumentList.Add("--database");
            info.ArgumentList.Add(database);
        }
        info.Environment["DOTNET_NOLOGO"] = "1";
        // The first start makes the admin account with this password (a fresh data directory each stage).
        info.Environment["RUNWAY_ADMIN_PASSWORD"] = AdminPassword;
        var started = Stopwatch.GetTimestamp();
        var server = new ServerProcess(new Process { StartInfo = info }, url);
        server.process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        server.process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        server.process.Start();
        server.process.BeginOutputReadLine();
        server.process.BeginErrorReadLine();
        using var http = new HttpClient();
        while (true)
        {
            if (server.process.HasExited)
            {
                throw new InvalidOperationException($"runway serve exited with {server.process.ExitCode}:\n{server.Tail}");
            }
            if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"runway serve not ready after 2 minutes:\n{server.Tail}");
            }
            try
            {
                using var response = await http.GetAsync(url + "/readyz", ct);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return (server, Stopwatch.GetElapsedTime(started));
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(5, ct);
        }
    }

    public string Tail
    {
        get
        {
            lock (tail)
            {
                return string.Join('\n', tail);
            }
        }
    }

    /// <summary>user + system CPU time of the server itself (its children's is in cutime/cstime, not counted).</summary>
    public TimeSpan CpuTime => ProcFs.CpuTime(Pid);

    public long RssBytes => ProcFs.Status(Pid, "VmRSS:");

    /// <summary>A clean stop (SIGTERM, as systemd does), then waits for the process to go.</summary>
    public async Task StopAsync()
    {
        if (!process.HasExited)
        {
            _ = ProcFs.Terminate(Pid);
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>SIGKILL, as in a crash: the process's runs live on.</summary>
    public async Task KillAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (tail)
        {
            tail.Enqueue(line);
            if (tail.Count > 40)
            {
                tail.Dequeue();
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
