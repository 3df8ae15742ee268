using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Runway.Data;
using Runway.Tests.Execution.Limits;
using Runway.Tests.Fixtures;
using static Runway.Tests.Compat.Ga4gh.Tes.TesWorld;

// Request bodies written inline, as a client would send them: each array is built once per test (CA1861 is for hot paths).
#pragma warning disable CA1861

namespace Runway.Tests.Compat.Ga4gh.Tes;

/// <summary>
/// A TES task's outputs are collected once when its run ends (TesOutputCollector), not at the first read: present
/// without any read, one set of files however many read at once, and collected once across a restart. In podman with
/// the busybox image the container tests build offline: skipped without podman, failed under CI.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TesOutputCollectionTests : IAsyncDisposable
{
    private const string Image = ContainerTests.Image;
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("runway-tes-outputs-").FullName;

    public TesOutputCollectionTests()
    {
        if (ContainerTests.Built.Value is { } why)
        {
            Requires.Skip(why);
        }
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }

    private RunwayApp Server() => new(settings: new Dictionary<string, string>
    {
        ["Runway:DataDir"] = dataDirectory,
        ["Runway:Tes:Enabled"] = "true",
        ["Runway:Tes:AllowedGroups:0"] = Group,
    });

    /// <summary>Two outputs written after <paramref name="delay"/> seconds.</summary>
    private static object TwoOutputs(int delay = 0) => new
    {
        outputs = new object[]
        {
            new { path = "/out/a.txt", url = "s3://ignored/a.txt" },
            new { path = "/out/b.txt", url = "s3://ignored/b.txt" },
        },
        executors = new[] { new { image = Image, command = new[] { "sh", "-c", $"sleep {delay}; echo alpha > /out/a.txt; echo beta-beta > /out/b.txt" } } },
    };

    [Fact]
    public async Task Outputs_AreCollectedWhenTheTaskEnds_WithoutAnyRead()
    {
        await using var app = Server();
        using var ana = await UserAsync(app, "ana");
        var id = await CreateAsync(ana, TwoOutputs());

        // Only Runway's own API is watched: nobody reads the TES task until its outputs are files.
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(ana, id, TimeSpan.FromSeconds(120))).GetProperty("state").GetString());
        await Eventually.TrueAsync(async () => (await FileNamesAsync(ana)).Count == 2, TimeSpan.FromSeconds(30), "the outputs to become ana's files");

        var task = await GetAsync(ana, $"/ga4gh/tes/v1/tasks/{id}?view=BASIC");
        Assert.Equal("COMPLETE", task.GetProperty("state").GetString());
        var outputs = task.GetProperty("logs")[0].GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("path").GetString()!);
        Assert.Equal("6", outputs["/out/a.txt"].GetProperty("size_bytes").GetString());
        Assert.Equal("10", outputs["/out/b.txt"].GetProperty("size_bytes").GetString());
        var fileId = outputs["/out/b.txt"].GetProperty("url").GetString()!["runway://files/".Length..];
        Assert.Equal("beta-beta\n", await ana.GetStringAsync($"/api/v1/files/{fileId}", Ct));
    }

    [Fact]
    public async Task ConcurrentReads_WhileTheTaskEnds_SeeOneSetOfFiles_AndCompleteOnlyWithItsOutputs()
    {
        await using var app = Server();
        using var ana = await UserAsync(app, "ana");
        var id = await CreateAsync(ana, TwoOutputs(delay: 1));

        var readers = await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, 4).Select(_ => WaitFinalAsync(ana, id, TimeSpan.FromSeconds(120))));

        foreach (var task in readers)
        {
            // Whoever saw COMPLETE saw the outputs with it (TES: COMPLETE means the outputs are uploaded).
            Assert.Equal("COMPLETE", task.GetProperty("state").GetString());
            Assert.Equal(2, task.GetProperty("logs")[0].GetProperty("outputs").GetArrayLength());
        }
        Assert.Single(readers.Select(t => t.GetProperty("logs")[0].GetProperty("outputs").GetRawText()).Distinct());
        Assert.Equal(["a.txt", "b.txt"], (await FileNamesAsync(ana)).Order());
    }

    [Fact]
    public async Task ARestartBetweenTheEndAndTheCollection_StillCollectsOnce()
    {
        string id;
        await using (var first = Server())
        {
            using var ana = await UserAsync(first, "ana");
            id = await CreateAsync(ana, TwoOutputs(delay: 2));
            // A collector of another node took the task and died before recording it: its lock holds for now.
            await SetLockAsync(first, id, lockedUntil: TimeProvider.System.GetUtcNow().AddHours(1));
            Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(ana, id, TimeSpan.FromSeconds(120))).GetProperty("state").GetString());

            var pending = await GetAsync(ana, $"/ga4gh/tes/v1/tasks/{id}?view=BASIC");
            Assert.Equal("RUNNING", pending.GetProperty("state").GetString());
            Assert.Empty(pending.GetProperty("logs")[0].GetProperty("outputs").EnumerateArray());
            Assert.Empty(await FileNamesAsync(ana));
        }

        await using var second = Server();
        using (var ana = await UserAsync(second, "ana"))
        {
            // The dead collector's lock passes.
            await SetLockAsync(second, id, lockedUntil: TimeProvider.System.GetUtcNow().AddSeconds(-1));
            var task = await WaitFinalAsync(ana, id, TimeSpan.FromSeconds(30), view: "BASIC");

            Assert.Equal("COMPLETE", task.GetProperty("state").GetString());
            Assert.Equal(2, task.GetProperty("logs")[0].GetProperty("outputs").GetArrayLength());
            Assert.Equal(["a.txt", "b.txt"], (await FileNamesAsync(ana)).Order());
        }
    }

    private static async Task SetLockAsync(RunwayApp app, string runId, DateTimeOffset lockedUntil)
    {
        var databases = app.Services.GetRequiredService<IDbContextFactory<RunwayDb>>();
        await using var db = await databases.CreateDbContextAsync(Ct);
        if (await db.TesOutputs.Where(o => o.RunId == runId).ExecuteUpdateAsync(s => s.SetProperty(o => o.LockedUntil, lockedUntil), Ct) == 0)
        {
            db.TesOutputs.Add(new TesOutputRecord { RunId = runId, LockedBy = "a-node-that-died", LockedUntil = lockedUntil });
            await db.SaveChangesAsync(Ct);
        }
    }

    private static async Task<List<string>> FileNamesAsync(HttpClient client)
    {
        var list = await client.GetFromJsonAsync<JsonElement>("/api/v1/files", Ct);
        return [.. list.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()!)];
    }
}
