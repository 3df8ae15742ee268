using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Runway.Runs;
using Runway.Tests.Fakes;

namespace Runway.Tests.Execution.Limits;

/// <summary><c>network: false</c> (the default) gives a run a network namespace of its own, with only its own loopback.</summary>
public sealed class NetworkTests
{
    [Theory]
    [MemberData(nameof(LimitsWorld.IsolatedModes), MemberType = typeof(LimitsWorld))]
    public async Task Run_CannotReachTheHostsListener_WithoutNetwork(string mode)
    {
        using var world = new LimitsWorld(mode);
        using var listener = Listen(out var port);

        var (code, stderr) = await ConnectAsync(world, port, network: false);

        Assert.NotEqual(0, code);
        Assert.Contains("refused", stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(LimitsWorld.IsolatedModes), MemberType = typeof(LimitsWorld))]
    public async Task Run_ReachesTheHostsListener_WithNetwork(string mode)
    {
        using var world = new LimitsWorld(mode);
        using var listener = Listen(out var port);

        var (code, stderr) = await ConnectAsync(world, port, network: true);

        Assert.True(code == 0, stderr);
    }

    [Theory]
    [MemberData(nameof(LimitsWorld.IsolatedModes), MemberType = typeof(LimitsWorld))]
    public async Task Run_HasItsOwnLoopback_WithoutNetwork(string mode)
    {
        using var world = new LimitsWorld(mode);
        // A listener of the run's own, on its own 127.0.0.1: loopback is up in its namespace.
        var run = world.Launch(new RunSpec
        {
            Argv = ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9; echo connected"],
        });

        await Poll.CompletesAsync((await world.StartAsync(run)).Exited);

        // Nothing listens on port 9 in the run's namespace: refused, not "Network is unreachable" as with loopback down.
        Assert.Contains("refused", LimitsWorld.Read(run, "stderr.log"), StringComparison.OrdinalIgnoreCase);
    }

    private static TcpListener Listen(out int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        port = ((IPEndPoint)listener.LocalEndpoint).Port;
        return listener;
    }

    private static async Task<(int? Code, string Stderr)> ConnectAsync(LimitsWorld world, int port, bool network)
    {
        var run = world.Launch(new RunSpec
        {
            Argv = ["/bin/bash", "-c", $"exec 3<>/dev/tcp/127.0.0.1/{port.ToString(CultureInfo.InvariantCulture)}"],
            Network = network,
        });
        var exit = await Poll.CompletesAsync((await world.StartAsync(run)).Exited);
        return (exit.ExitCode, LimitsWorld.Read(run, "stderr.log"));
    }
}
