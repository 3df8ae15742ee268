using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Runway.Tests.Fixtures;

/// <summary>
/// A real SMTP server for the test: Debian's python3-aiosmtpd (<c>python3 -m aiosmtpd -n -l 127.0.0.1:PORT</c>), whose
/// debugging handler prints each message it receives on its standard output, which this keeps.
/// </summary>
public sealed class SmtpServer : IAsyncDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly Process process;
    private readonly System.Text.StringBuilder output = new();

    public int Port { get; }

    private SmtpServer(Process process, int port) => (this.process, Port) = (process, port);

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public static async Task<SmtpServer> StartAsync()
    {
        if (!File.Exists(Python) || !Directory.Exists("/usr/lib/python3/dist-packages/aiosmtpd"))
        {
            Requires.Skip("SMTP server not available: no aiosmtpd for /usr/bin/python3 (apt-get install python3-aiosmtpd)");
        }
        var port = FreePort();
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["-u", "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Debugging", "-l", $"127.0.0.1:{port}"])
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        var server = new SmtpServer(process, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await Eventually.TrueAsync(async () =>
        {
            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
                return true;
            }
            catch (SocketException)
            {
                return process.HasExited ? throw new InvalidOperationException($"aiosmtpd exited: {server.Output}") : false;
            }
        }, TimeSpan.FromSeconds(20), "aiosmtpd to listen");
        return server;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
        process.Dispose();
    }
}
