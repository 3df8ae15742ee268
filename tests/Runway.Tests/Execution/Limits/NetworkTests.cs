using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Runway.Runs;
using Runway.Tests.Fakes;

namespace Runway.Tests.Execution.Limits;

/// <summary>
/// <c>network: false</c> (the default) gives a run a network namespace with only a loopback: its own, or, started by a
/// root supervisor, the one kept for its owner's runs.
/// </summary>
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

    [Theory]
    [InlineData("alice", true)]
    [InlineData("bob", false)]
    public async Task Runs_ShareALoopback_OnlyWithTheirOwnersOtherRuns(string secondOwner, bool reaches)
    {
        using var world = new LimitsWorld("supervisor");
        var port = Random.Shared.Next(20_000, 60_000).ToString(CultureInfo.InvariantCulture);
        // The first run listens on its namespace's 127.0.0.1 and says so in its directory.
        var server = world.Launch(new RunSpec
        {
            Argv = ["/usr/bin/perl", "-MIO::Socket::INET", "-e",
                $"alarm 20; $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => {port}, Listen => 1, ReuseAddr => 1) or die \"listen: $!\"; "
                + "open my $f, '>', 'listening' or die; close $f; $c = $s->accept or die; print \"accepted\\n\";"],
        }, owner: "alice");
        var serving = await world.StartAsync(server);
        await Poll.UntilAsync(() => File.Exists(Path.Combine(server.RunDirectory, "listening")) || serving.Exited.IsCompleted, "the listening run");
        Assert.False(serving.Exited.IsCompleted, LimitsWorld.Read(server, "stderr.log"));

        var client = world.Launch(new RunSpec { Argv = ["/bin/bash", "-c", $"exec 3<>/dev/tcp/127.0.0.1/{port}"] }, owner: secondOwner);
        var exit = await Poll.CompletesAsync((await world.StartAsync(client)).Exited);

        if (reaches)
        {
            Assert.True(exit.ExitCode == 0, LimitsWorld.Read(client, "stderr.log"));
            Assert.Equal(0, (await Poll.CompletesAsync(serving.Exited)).ExitCode);
        }
        else
        {
            // Another owner's runs have a loopback of their own: nothing listens there.
            Assert.NotEqual(0, exit.ExitCode);
            Assert.Contains("refused", LimitsWorld.Read(client, "stderr.log"), StringComparison.OrdinalIgnoreCase);
            await world.Executor.StopAsync(serving, TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task OwnedRun_CannotReachTheHostsListener_WithoutNetwork()
    {
        using var world = new LimitsWorld("supervisor");
        using var listener = Listen(out var port);
        var run = world.Launch(new RunSpec { Argv = ["/bin/bash", "-c", $"exec 3<>/dev/tcp/127.0.0.1/{port.ToString(CultureInfo.InvariantCulture)}"] }, owner: "alice");

        var exit = await Poll.CompletesAsync((await world.StartAsync(run)).Exited);

        Assert.NotEqual(0, exit.ExitCode);
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
