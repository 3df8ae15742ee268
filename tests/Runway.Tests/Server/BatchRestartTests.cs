using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Server;

/// <summary>A server killed while a batch runs: after the restart every run of the batch ends once, and the counts add up.</summary>
public sealed class BatchRestartTests : IAsyncLifetime
{
    private const int Rows = 12;
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("runway-batch-proc-").FullName;
    private readonly string pipelinesDirectory = Directory.CreateTempSubdirectory("runway-batch-pipes-").FullName;
    private readonly string shared = Directory.CreateTempSubdirectory("runway-batch-shared-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(shared, (UnixFileMode)0b111_111_111);
        }
        // Each run appends its row's marker, so a run executed twice (or never) is seen.
        File.WriteAllText(Path.Combine(pipelinesDirectory, "mark.yaml"), $$"""
            name: mark
            version: "1"
            parameters:
              row: {type: integer, required: true}
            command: [/bin/sh, -c, 'sleep 1; echo "$1" >> "$2/marks"', mark, "{row}", "{{shared}}"]
            """);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        foreach (var directory in (string[])[pipelinesDirectory, shared, dataDirectory])
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Kill_DuringABatch_EveryRunEndsOnce_AndTheCountsAddUp()
    {
        string id;
        await using (var server = new RunwayProcess(dataDirectory, pipelinesDirectory, concurrency: 2))
        {
            await server.StartAsync();
            using var http = server.CreateClient();
            using var response = await http.PostAsJsonAsync("/api/v1/batches", new { pipeline = "mark", rows = Enumerable.Range(1, Rows).Select(i => new { row = i }) }, Ct);
            id = (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
            await Eventually.TrueAsync(async () => (await CountsAsync(http, id)).GetProperty("succeeded").GetInt32() >= 2,
                TimeSpan.FromSeconds(60), "two runs of the batch to finish");
            await server.KillAsync();
        }

        await using var restarted = new RunwayProcess(dataDirectory, pipelinesDirectory, concurrency: 2);
        await restarted.StartAsync();
        using var http2 = restarted.CreateClient();
        JsonElement batch = default;
        await Eventually.TrueAsync(async () =>
        {
            batch = await http2.GetFromJsonAsync<JsonElement>($"/api/v1/batches/{id}", Ct);
            return batch.GetProperty("state").GetString() != "running";
        }, TimeSpan.FromSeconds(90), "the batch to finish after the restart");

        Assert.Equal("succeeded", batch.GetProperty("state").GetString());
        Assert.Equal((Rows, Rows), (batch.GetProperty("total").GetInt32(), batch.GetProperty("counts").GetProperty("succeeded").GetInt32()));
        var marks = File.ReadAllLines(Path.Combine(shared, "marks")).Select(l => int.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal(Enumerable.Range(1, Rows), marks);
    }

    private static async Task<JsonElement> CountsAsync(HttpClient http, string id) =>
        (await http.GetFromJsonAsync<JsonElement>($"/api/v1/batches/{id}", Ct)).GetProperty("counts");
}
