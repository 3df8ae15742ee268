using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Runway.Tests.Fixtures;

/// <summary>
/// The built <c>runway</c> binary started as a separate process (<c>dotnet runway.dll serve</c>) on a free
/// loopback port: what a user runs, with its own data directory, killable like a crashed server.
/// </summary>
public sealed class RunwayProcess : IAsyncDisposable
{
    private Process? process;

    public RunwayProcess(string dataDirectory, string pipelinesDirectory, int concurrency = 1)
    {
        DataDirectory = dataDirectory;
        PipelinesDirectory = pipelinesDirectory;
        Concurrency = concurrency;
        Url = $"http://127.0.0.1:{FreePort()}";
    }

    public string DataDirectory { get; }
    public string PipelinesDirectory { get; }
    public int Concurrency { get; }
    public string Url { get; }
    public StringWriterLog Output { get; } = new();

    public static string RunwayDll => Path.Combine(AppContext.BaseDirectory, "runway.dll");

    public async Task StartAsync()
    {
        process = Start(["serve", "--urls", Url, "--data-dir", DataDirectory, "--pipelines", PipelinesDirectory, "--concurrency", Concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture)], Output);
        using var http = new HttpClient();
        await Eventually.TrueAsync(async () =>
        {
            if (process.HasExited)
            {
                Assert.Fail($"runway serve exited with {process.ExitCode}:\n{Output}");
            }
            try
            {
                using var response = await http.GetAsync(Url + "/readyz", TestContext.Current.CancellationToken);
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "runway serve to be ready");
    }

    /// <summary>SIGKILL: the server dies at once, as in a crash or an OOM kill; its runs' processes live on.</summary>
    public async Task KillAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: false);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Runs the client verbs of the same binary against this server.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> CliAsync(params string[] args)
    {
        var stdout = new StringWriterLog();
        using var cli = Start([.. args, "--server", Url], stdout, separateStderr: true);
        await cli.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (cli.ExitCode, stdout.Text, stdout.Errors);
    }

    private static Process Start(string[] args, StringWriterLog log, bool separateStderr = false)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(RunwayDll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["DOTNET_NOLOGO"] = "1";
        var p = new Process { StartInfo = info, EnableRaisingEvents = true };
        p.OutputDataReceived += (_, e) => log.Append(e.Data, error: false);
        p.ErrorDataReceived += (_, e) => log.Append(e.Data, error: separateStderr);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process?.Dispose();
    }
}

/// <summary>Collects a child's output lines from its event threads.</summary>
public sealed class StringWriterLog
{
    private readonly System.Text.StringBuilder stdout = new();
    private readonly System.Text.StringBuilder stderr = new();
    private readonly Lock gate = new();

    public string Text
    {
        get { lock (gate) { return stdout.ToString(); } }
    }

    public string Errors
    {
        get { lock (gate) { return stderr.ToString(); } }
    }

    public void Append(string? line, bool error)
    {
        if (line is null)
        {
            return;
        }
        lock (gate)
        {
            (error ? stderr : stdout).AppendLine(line);
        }
    }

    public override string ToString() => Text + Errors;
}
