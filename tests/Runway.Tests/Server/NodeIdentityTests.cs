using Microsoft.Extensions.DependencyInjection;
using Runway.Runs;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Server;

/// <summary>A node keeps its name across restarts and host names, and no two live servers share one.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class NodeIdentityTests
{
    [Fact]
    public async Task Node_IsAnIdKeptInTheDataDirectory_NotTheHostName()
    {
        await using var app = new RunwayApp();
        using var client = app.CreateClient();

        var node = app.Services.GetRequiredService<SchedulerOptions>().Node;

        var file = Path.Combine(app.DataDirectory, NodeIdentity.IdFile);
        Assert.Equal(File.ReadAllText(file).Trim(), node);
        Assert.NotEqual(Environment.MachineName, node);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }

    [Fact]
    public async Task Node_IsTheKeptId_WhenTheDataDirectoryComesBackUnderAnotherHostName()
    {
        await using var app = new RunwayApp();
        // What a server that ran here before, on whatever host, left behind.
        File.WriteAllText(Path.Combine(app.DataDirectory, NodeIdentity.IdFile), "node-from-before\n");
        using var client = app.CreateClient();

        Assert.Equal("node-from-before", app.Services.GetRequiredService<SchedulerOptions>().Node);
    }

    [Fact]
    public async Task Node_IsTheGivenName_WhenSet()
    {
        await using var app = new RunwayApp(settings: new Dictionary<string, string> { ["Runway:Node"] = "worker-7" });
        using var client = app.CreateClient();

        Assert.Equal("worker-7", app.Services.GetRequiredService<SchedulerOptions>().Node);
    }

    [Fact]
    public async Task Serve_Refuses_WhenAnotherLiveServerUsesTheDataDirectory()
    {
        await using var first = new RunwayApp();
        using var client = first.CreateClient();
        await using var second = new RunwayApp(settings: new Dictionary<string, string> { ["Runway:DataDir"] = first.DataDirectory });

        var refused = Record.Exception(() => second.CreateClient());

        Assert.NotNull(refused);
        Assert.Contains("another Runway server is running on the data directory", Messages(refused), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_Refuses_WhenAnotherLiveServerSharingTheDatabaseHasTheSameName()
    {
        using var shared = new TempDirectory();
        var database = Path.Combine(shared.Path, "shared.db");
        await using var first = new RunwayApp(settings: new Dictionary<string, string> { ["Runway:Node"] = "worker-1", ["Runway:Database"] = database });
        using var client = first.CreateClient();
        await using var second = new RunwayApp(settings: new Dictionary<string, string> { ["Runway:Node"] = "worker-1", ["Runway:Database"] = database });

        var refused = Record.Exception(() => second.CreateClient());

        Assert.NotNull(refused);
        Assert.Contains("another live Runway server is node 'worker-1'", Messages(refused), StringComparison.Ordinal);
    }

    [Fact]
    public void Acquire_TakesOver_WhenThePreviousHolderIsGone()
    {
        using var temp = new TempDirectory();
        var first = NodeIdentity.Acquire(null, temp.Path);
        Assert.Throws<NodeInUseException>(() => NodeIdentity.Acquire(null, temp.Path));

        first.Dispose(); // as the kernel does when the process dies
        using var again = NodeIdentity.Acquire(null, temp.Path);

        Assert.Equal(first.Name, again.Name);
    }

    private static string Messages(Exception e) => e.InnerException is null ? e.Message : $"{e.Message}\n{Messages(e.InnerException)}";
}
