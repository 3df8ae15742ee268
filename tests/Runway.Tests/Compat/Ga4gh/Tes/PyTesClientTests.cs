using System.Text.Json;
using Runway.Tests.Fixtures;
using static Runway.Tests.Compat.Ga4gh.Tes.TesWorld;

// Request bodies written inline, as a client would send them: each array is built once per test (CA1861 is for hot paths).
#pragma warning disable CA1861

namespace Runway.Tests.Compat.Ga4gh.Tes;

/// <summary>py-tes's calls, in both its wire shapes, against Runway: service-info, create, get, list with pages, wait, cancel.</summary>
public sealed class PyTesClientTests : IAsyncLifetime
{
    private readonly RunwayApp app = App();

    public async ValueTask InitializeAsync() => await app.EnsureUserAsync("ana", groups: [Group]);

    public ValueTask DisposeAsync() => app.DisposeAsync();

    /// <summary>A task as py-tes's Task(...) makes it: its defaults (type FILE) set, the Nones and empties there to be dropped.</summary>
    private static JsonElement PyTesTask(string name) => JsonSerializer.SerializeToElement(new Dictionary<string, object?>
    {
        ["name"] = name,
        ["description"] = null,
        ["inputs"] = new[] { new Dictionary<string, object?> { ["path"] = "/data/in.txt", ["content"] = "hello", ["type"] = "FILE", ["url"] = null } },
        ["outputs"] = new[] { new Dictionary<string, object?> { ["path"] = "/data/out.txt", ["url"] = "file:///tmp/out.txt", ["type"] = "FILE" } },
        ["resources"] = new Dictionary<string, object?> { ["cpu_cores"] = 1, ["ram_gb"] = null, ["zones"] = Array.Empty<string>() },
        ["executors"] = new[] { new Dictionary<string, object?> { ["image"] = MissingImage, ["command"] = new[] { "md5sum", "/data/in.txt" }, ["env"] = new Dictionary<string, string>() } },
        ["volumes"] = Array.Empty<string>(),
        ["tags"] = new Dictionary<string, string> { ["WORKFLOW_ID"] = "cwl-01234" },
        ["logs"] = null,
    });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PyTes_ListsSubmitsWatchesAndCancels(bool legacy)
    {
        using var http = app.CreateClient();
        var client = new PyTesClient(http, "ana", legacy);

        var info = await client.GetServiceInfoAsync();
        var first = await client.CreateTaskAsync(PyTesTask("py-tes 1"));
        var second = await client.CreateTaskAsync(PyTesTask("py-tes 2"));
        var basic = await client.GetTaskAsync(second);
        var page = await client.ListTasksAsync(pageSize: 1);
        var next = await client.ListTasksAsync(pageSize: 1, pageToken: page.GetProperty("next_page_token").GetString());
        await client.CancelTaskAsync(first);
        var ended = await client.WaitAsync(second, TimeSpan.FromSeconds(60));

        Assert.Equal("tes", info.GetProperty("type").GetProperty("artifact").GetString());
        Assert.Equal("py-tes 2", basic.GetProperty("name").GetString());
        Assert.Equal("cwl-01234", basic.GetProperty("tags").GetProperty("WORKFLOW_ID").GetString());
        Assert.Equal(second, page.GetProperty("tasks")[0].GetProperty("id").GetString());
        Assert.Equal(first, next.GetProperty("tasks")[0].GetProperty("id").GetString());
        Assert.Equal("SYSTEM_ERROR", ended.GetProperty("state").GetString());
    }
}
