using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Runway.Execution;
using Runway.Execution.Local;
using Runway.Runs;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Execution.Limits;

/// <summary>
/// Runs in a podman image built here with no registry (Debian's busybox-static in a rootfs, podman import), as
/// root with the podman configuration of the README (.ci/run writes it). Skipped, or failed under CI, without.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ContainerTests : IDisposable
{
    internal const string Image = "localhost/runway-test-busybox:1";
    internal static readonly Lazy<string?> Built = new(BuildImage);
    private readonly TempDirectory temp = new();
    private readonly LocalExecutor executor;

    public ContainerTests()
    {
        if (Built.Value is { } why)
        {
            Requires.Skip(why);
        }
        executor = new LocalExecutor(TimeProvider.System, NullLogger<LocalExecutor>.Instance);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        executor?.Dispose();
        temp.Dispose();
    }

    [Fact]
    public async Task Run_WritesItsOutputs_AndGetsAMetacharacterParameterAsOneArgument()
    {
        var hostile = "a b; touch pwned $(id) `id` \"q\" 'x' | > *";
        var launch = Launch(["sh", "-c", "printf '%s' \"$1\" > out.txt; pwd > where.txt; echo \"$GREETING\"", "sh", hostile],
            environment: new Dictionary<string, string> { ["GREETING"] = "hello from the image" });

        var exit = await Poll.CompletesAsync((await executor.StartAsync(launch, Ct)).Exited, TimeSpan.FromSeconds(60));

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(hostile, File.ReadAllText(Path.Combine(launch.RunDirectory, "out.txt")));
        Assert.Equal(launch.RunDirectory + "\n", File.ReadAllText(Path.Combine(launch.RunDirectory, "where.txt")));
        Assert.Equal("hello from the image\n", File.ReadAllText(Path.Combine(launch.RunDirectory, RunFiles.Stdout)));
        Assert.False(File.Exists(Path.Combine(launch.RunDirectory, "pwned")));
    }

    [Fact]
    public async Task Run_CannotReachTheHostsListener_WithoutNetwork()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        // busybox nc: the host's 127.0.0.1 is not the container's.
        var launch = Launch(["sh", "-c", $"echo hi | nc -w 2 127.0.0.1 {port} && echo connected"]);

        var exit = await Poll.CompletesAsync((await executor.StartAsync(launch, Ct)).Exited, TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, exit.ExitCode);
        Assert.DoesNotContain("connected", File.ReadAllText(Path.Combine(launch.RunDirectory, RunFiles.Stdout)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MemoryHog_EndsFailed_OutOfItsMemoryLimit_AsAPlainRunDoes()
    {
        var launch = Launch(["sh", "-c", "dd if=/dev/zero of=/dev/null bs=200M count=1"]);
        File.WriteAllText(Path.Combine(launch.RunDirectory, ContainerEngine.OomMarker), ""); // an earlier attempt's: not this one's verdict
        var small = Launch(["sh", "-c", "kill -9 $$"]);
        File.WriteAllText(Path.Combine(small.RunDirectory, ContainerEngine.OomMarker), "");

        var exit = await Poll.CompletesAsync((await executor.StartAsync(launch, Ct)).Exited, TimeSpan.FromSeconds(60));
        var killed = await Poll.CompletesAsync((await executor.StartAsync(small, Ct)).Exited, TimeSpan.FromSeconds(60));

        Assert.Equal(137, exit.ExitCode);
        Assert.Equal(RunState.Failed, exit.Verdict);
        Assert.StartsWith("ran out of its memory limit of 64 MiB", exit.Message, StringComparison.Ordinal);
        Assert.Null(killed.Message); // a SIGKILL that was no OOM is not called one
    }

    [Fact]
    public async Task Cancel_StopsTheContainer()
    {
        var launch = Launch(["sleep", "300"]);
        var handle = await executor.StartAsync(launch, Ct);
        await Poll.UntilAsync(() => ContainerExists(launch.RunId), "the container to run", TimeSpan.FromSeconds(60));

        await executor.StopAsync(handle, TimeSpan.FromSeconds(2), Ct);
        var exit = await Poll.CompletesAsync(handle.Exited, TimeSpan.FromSeconds(30));

        Assert.Equal(RunState.Canceled, RunOutcome.Final(launch.RunId, exit, StopCause.Canceled, null).To);
        Assert.False(ContainerExists(launch.RunId));
    }

    [Fact]
    public async Task MissingImage_FailsTheStartSayingSo()
    {
        var launch = Launch(["true"], image: "localhost/runway-no-such-image:1");

        var error = await Assert.ThrowsAsync<ExecutorStartException>(() => executor.StartAsync(launch, Ct));

        Assert.Contains("localhost/runway-no-such-image:1 is not on this node", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingEngine_FailsTheStartSayingSo()
    {
        if (ContainerEngine.Installed.Any(e => e.Name == "apptainer"))
        {
            Assert.Skip("apptainer is installed here");
        }
        var launch = Launch(["true"], engine: "apptainer");

        var error = await Assert.ThrowsAsync<ExecutorStartException>(() => executor.StartAsync(launch, Ct));

        Assert.Equal("the container engine apptainer is not installed on this node", error.Message);
    }

    private RunLaunch Launch(string[] argv, string image = Image, string engine = "podman", IReadOnlyDictionary<string, string>? environment = null)
    {
        var id = Ids.NewRunId(TimeProvider.System);
        var directory = Directory.CreateDirectory(temp.Combine(id)).FullName;
        return new RunLaunch(id, directory, new RunSpec
        {
            Argv = argv,
            Environment = environment ?? new Dictionary<string, string>(),
            Container = new ContainerSpec { Image = image, Engine = engine },
            Resources = new PipelineResources { Cpus = 0.5, MemoryMb = 64 },
        });
    }

    [Fact]
    public async Task TimeLimit_StopsTheContainer_AndMissingImage_EndsSystemError_ThroughTheServer()
    {
        var pipelines = Directory.CreateTempSubdirectory("runway-containers-").FullName;
        File.SetUnixFileMode(pipelines, (UnixFileMode)0b111_101_101);
        File.WriteAllText(Path.Combine(pipelines, "slow.yaml"), $"name: slow\nversion: '1'\ntime_limit: 3s\ncontainer: {{image: {Image}, engine: podman}}\ncommand: [sleep, '300']\n");
        File.WriteAllText(Path.Combine(pipelines, "gone.yaml"), "name: gone\nversion: '1'\ncontainer: {image: localhost/runway-no-such-image:1}\ncommand: ['true']\n");
        File.WriteAllText(Path.Combine(pipelines, "docker.yaml"), "name: docker\nversion: '1'\ncontainer: {image: x, engine: docker}\ncommand: ['true']\n");
        await using var app = new RunwayApp(pipelines);
        using var client = await app.CreateUserClientAsync();

        var slow = (await RunwayApp.SubmitAsync(client, new { pipeline = "slow" })).GetProperty("id").GetString()!;
        var gone = (await RunwayApp.SubmitAsync(client, new { pipeline = "gone" })).GetProperty("id").GetString()!;

        var timedOut = await RunwayApp.WaitFinalAsync(client, slow, TimeSpan.FromSeconds(60));
        Assert.Equal("timed_out", timedOut.GetProperty("state").GetString());
        Assert.False(ContainerExists(slow));
        var missing = await RunwayApp.WaitFinalAsync(client, gone, TimeSpan.FromSeconds(60));
        Assert.Equal("system_error", missing.GetProperty("state").GetString());
        Assert.Contains("localhost/runway-no-such-image:1 is not on this node", missing.GetProperty("message").GetString(), StringComparison.Ordinal);
        if (!ContainerEngine.Installed.Any(e => e.Name == "docker"))
        {
            var catalog = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Runway.Pipelines.PipelineCatalog>(app.Services);
            Assert.Contains("container.engine: docker is not installed on this node", catalog.Errors.Values.Single(), StringComparison.Ordinal);
        }
        Directory.Delete(pipelines, recursive: true);
    }

    private static bool ContainerExists(string runId) => Podman("container", "exists", ContainerEngine.ContainerName(runId)).Code == 0;

    /// <summary>The test image, once per test process; null when built, else why it could not be.</summary>
    private static string? BuildImage()
    {
        if (!File.Exists("/usr/bin/podman") || !File.Exists("/bin/busybox"))
        {
            return "podman or busybox-static is not installed (apt-get install podman runc busybox-static; README, \"Containers\")";
        }
        if (PosixIo.EffectiveUserId() != 0)
        {
            return "the container tests run podman as root";
        }
        if (Podman("image", "exists", Image).Code == 0)
        {
            return null;
        }
        using var work = new TempDirectory();
        var bin = Directory.CreateDirectory(work.Combine("rootfs/bin")).FullName;
        File.Copy("/bin/busybox", Path.Combine(bin, "busybox"));
        foreach (var applet in (string[])["sh", "echo", "cat", "sleep", "printf", "pwd", "nc", "true", "touch", "id"])
        {
            File.CreateSymbolicLink(Path.Combine(bin, applet), "busybox");
        }
        var tar = Run("/bin/tar", "-C", work.Combine("rootfs"), "-cf", work.Combine("rootfs.tar"), ".");
        var imported = tar.Code == 0 ? Podman("import", work.Combine("rootfs.tar"), Image) : tar;
        if (imported.Code != 0)
        {
            return $"could not build the test image: {imported.Errors}";
        }
        // The podman configuration this machine kind needs (README, "Containers"): without it every run fails.
        var probe = Podman("run", "--rm", "--network", "none", Image, "true");
        return probe.Code == 0 ? null : $"podman cannot run a container here (see the README's podman configuration): {probe.Errors}";
    }

    private static (int Code, string Errors) Podman(params string[] arguments) => Run("/usr/bin/podman", arguments);

    private static (int Code, string Errors) Run(string program, params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync(Ct);
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, errors);
    }
}
