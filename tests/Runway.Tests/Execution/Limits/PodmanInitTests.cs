using Runway.Execution;
using Runway.Execution.Local;
using Runway.Runs;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Execution.Limits;

/// <summary>
/// podman without the init its --init runs (catatonit) is told apart at load, not by each run's failure. The file
/// system is a set of paths here: podman 4.3 is installed on this machine with catatonit, which ContainerTests runs.
/// </summary>
public sealed class PodmanInitTests
{
    private static Func<string, bool> Only(params string[] paths) => paths.Contains;

    [Fact]
    public void WithoutCatatonit_PodmanIsUnusable_SayingWhatToInstall()
    {
        var why = PodmanInit.Missing(Only("/usr/bin/podman"), configured: null, searchPath: "/usr/local/bin:/usr/bin:/bin");

        Assert.NotNull(why);
        Assert.Contains("catatonit", why, StringComparison.Ordinal);
        Assert.Contains("apt-get install catatonit", why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PodmanInit.DefaultPath)]
    [InlineData("/usr/local/libexec/podman/catatonit")]
    [InlineData("/usr/bin/catatonit")]
    public void CatatonitWherePodmanLooks_IsEnough(string path)
    {
        Assert.Null(PodmanInit.Missing(Only(path), configured: null, searchPath: "/usr/bin:/bin"));
    }

    [Fact]
    public void AConfiguredInitPath_IsTheOnlyOneThatCounts()
    {
        Assert.Null(PodmanInit.Missing(Only("/opt/tini"), configured: "/opt/tini", searchPath: null));

        var why = PodmanInit.Missing(Only(PodmanInit.DefaultPath), configured: "/opt/tini", searchPath: null);

        Assert.NotNull(why);
        Assert.Contains("/opt/tini", why, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfiguredPath_IsTheLastUncommentedSetting_AcrossTheFiles()
    {
        const string shipped = "[containers]\n#init_path = \"/usr/libexec/podman/catatonit\"\n";
        const string site = "[containers]\n  init_path = \"/opt/first\"\n";
        const string dropIn = "[containers]\ninit_path='/opt/second'\n";

        Assert.Null(PodmanInit.ConfiguredPath([shipped]));
        Assert.Equal("/opt/first", PodmanInit.ConfiguredPath([shipped, site]));
        Assert.Equal("/opt/second", PodmanInit.ConfiguredPath([shipped, site, dropIn]));
    }

    [Fact]
    public void AnUnusablePodman_RefusesThePipeline_AndTheStart_Naming_WhatIsMissing()
    {
        var podman = new ContainerEngine("podman", "/usr/bin/podman") { Unusable = "podman cannot run containers on this node: catatonit…" };
        var explicitly = new ContainerSpec { Image = "busybox", Engine = "podman" };
        var either = new ContainerSpec { Image = "busybox" };

        Assert.Equal("container.engine: " + podman.Unusable, ContainerEngine.Missing(explicitly, [podman]));
        Assert.Equal("container: " + podman.Unusable, ContainerEngine.Missing(either, [podman]));
        var error = Assert.Throws<ExecutorStartException>(() => ContainerEngine.For(either, [podman]));
        Assert.Equal(podman.Unusable, error.Message);
    }

    [Fact]
    public void AnUnusablePodman_GivesWayToAnotherEngine_WhenThePipelineNamesNone()
    {
        var podman = new ContainerEngine("podman", "/usr/bin/podman") { Unusable = "no catatonit" };
        var docker = new ContainerEngine("docker", "/usr/bin/docker");
        var either = new ContainerSpec { Image = "busybox" };

        Assert.Null(ContainerEngine.Missing(either, [podman, docker]));
        Assert.Same(docker, ContainerEngine.For(either, [podman, docker]));
        Assert.NotNull(ContainerEngine.Missing(new ContainerSpec { Image = "busybox", Engine = "podman" }, [podman, docker]));
    }

    [Fact]
    public void ThisMachinesPodman_IsUsable_WhereCatatonitIsInstalled()
    {
        if (!File.Exists("/usr/bin/podman") || !File.Exists(PodmanInit.DefaultPath))
        {
            Requires.Skip("podman with catatonit is not installed here (apt-get install podman catatonit)");
        }

        Assert.Null(PodmanInit.MissingHere());
        Assert.Null(ContainerEngine.Installed.Single(e => e.Name == "podman").Unusable);
    }
}
