using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Runway.Tests.Fixtures;

/// <summary>
/// The built <c>runway</c> binary started as a separate process (<c>dotnet runway.dll serve</c>) on a free
/// loopback port: what a user runs, with its own data directory, killable like a crashed server.
/// </summary>
public sealed class RunwayProcess : IAsyncDisposable
{
    private Process? process;

    /// <param name="adminPassword">RUNWAY_ADMIN_PASSWORD for the first start; null lets the server generate and print one.</param>
    /// <param name="command"><c>serve</c>, or <c>worker</c> (no API: no token is made).</param>
    public RunwayProcess(string dataDirectory, string pipelinesDirectory, int concurrency = 1, string? adminPassword = RunwayApp.AdminPassword, string command = "serve")
    {
        Command = command;
        AdminPassword = adminPassword;
        DataDirectory = dataDirectory;
        PipelinesDirectory = pipelinesDirectory;
        Concurrency = concurrency;
        Url = $"http://127.0.0.1:{FreePort()}";
    }

    public string Command { get; }

    /// <summary>More flags for the server (--database, --node, --Runway:Nodes:LeaseTimeout=…).</summary>
    public List<string> Arguments { get; } = [];

    public int? ProcessId => process?.Id;

    public string DataDirectory { get; }
    public string PipelinesDirectory { get; }
    public int Concurrency { get; }
    public string Url { get; }
    public StringWriterLog Output { get; } = new();
    public string? AdminPassword { get; }

    /// <summary>More environment variables for the server (HOME, to see what it writes there).</summary>
    public Dictionary<string, string> Environment { get; } = [];

    /// <summary>A personal token of the admin, made through the API once the server is ready; the CLI gets it as RUNWAY_TOKEN.</summary>
    public string? Token { get; private set; }

    public static string RunwayDll => Path.Combine(AppContext.BaseDirectory, "runway.dll");

    public async Task StartAsync()
    {
        var environment = new Dictionary<string, string> { ["Runway__Auth__PasswordIterations"] = "1000" };
        if (AdminPassword is not null)
        {
            environment["RUNWAY_ADMIN_PASSWORD"] = AdminPassword;
        }
        foreach (var (key, value) in Environment)
        {
            environment[key] = value;
        }
        process = Start([Command, .. Arguments, "--urls", Url, "--data-dir", DataDirectory, "--pipelines", PipelinesDirectory, "--concurrency", Concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture)], Output, environment);
        using var http = new HttpClient();
        await Eventually.TrueAsync(async () =>
        {
            if (process.HasExited)
            {
                Assert.Fail($"runway {Command} exited with {process.ExitCode}:\n{Output}");
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
        }, TimeSpan.FromSeconds(60), $"runway {Command} to be ready");
        if (AdminPassword is not null && Command == "serve")
        {
            http.DefaultRequestHeaders.Authorization = RunwayApp.Basic("admin", AdminPassword);
            using var created = await http.PostAsJsonAsync(Url + "/api/v1/tokens", new { name = "tests" }, TestContext.Current.CancellationToken);
            var body = await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
            Assert.True(created.IsSuccessStatusCode, body.ToString());
            Token = body.GetProperty("token").GetString();
        }
    }

    /// <summary>An HTTP client of this server that sends <see cref="Token"/>.</summary>
    public HttpClient CreateClient()
    {
        var client = new HttpClient { BaseAddress = new Uri(Url) };
        if (Token is not null)
        {
            client.DefaultRequestHeaders.Authorization = RunwayApp.Bearer(Token);
        }
        return client;
    }

    /// <summary>SIGTERM, as systemd stops a service: the server shuts down cleanly; its runs' processes live on.</summary>
    public async Task StopAsync()
    {
        if (process is { HasExited: false })
        {
            Posix.Signal(process.Id, Posix.SigTerm);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
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
        var environment = Token is null ? [] : new Dictionary<string, string> { ["RUNWAY_TOKEN"] = Token };
        using var cli = Start([.. args, "--server", Url], stdout, environment, separateStderr: true);
        await cli.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (cli.ExitCode, stdout.Text, stdout.Errors);
    }

    private static Process Start(string[] args, StringWriterLog log, Dictionary<string, string> environment, bool separateStderr = false)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(RunwayDll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["DOTNET_NOLOGO"] = "1";
        // The CLI must not pick up the login of whoever runs the tests.
        info.Environment["XDG_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "runway-test-no-config");
        info.Environment.Remove("RUNWAY_TOKEN");
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        var p = new Process { StartInfo = info, EnableRaisingEvents = true };
        p.OutputDataReceived += (_, e) => log.Append(e.Data, error: false);
        p.ErrorDataReceived += (_, e) => log.Append(e.Data, error: separateStderr);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process?.Dispose();
        RemoveNodeCgroups();
    }

    /// <summary>
    /// The cgroup folders of the killed server's node, which a stopped one removes itself: each one left is one more
    /// group the kernel walks on every CPU-quota write of later runs on this machine. Runs still running keep theirs.
    /// </summary>
    private void RemoveNodeCgroups()
    {
        // The node's name: --node when the test gave one (several nodes share a data directory), else its node-id file.
        var given = Arguments.IndexOf("--node") is var at and >= 0 && at + 1 < Arguments.Count ? Arguments[at + 1] : null;
        var id = Path.Combine(DataDirectory, Runway.NodeIdentity.IdFile);
        if ((given ?? (File.Exists(id) ? File.ReadAllText(id).Trim() : null)) is { Length: > 0 } node)
        {
            Runway.Execution.Local.RunCgroups.Probe(pidsLimit: 1, node).Dispose();
            LeftCgroups.Remember(node);
        }
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
