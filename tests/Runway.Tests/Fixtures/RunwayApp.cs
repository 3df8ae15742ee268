using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Runway.Tests.Fixtures;

/// <summary>
/// The real server in process, on a fresh data directory (SQLite file) and the repository's example
/// pipelines, or a pipelines directory of the test's own. One per test.
/// </summary>
public sealed class RunwayApp(string? pipelinesDirectory = null, int concurrency = 2) : WebApplicationFactory<Program>
{
    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("runway-test-").FullName;

    public string PipelinesDirectory { get; } = pipelinesDirectory ?? Repository.PipelinesDirectory;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Runway:DataDir", DataDirectory);
        builder.UseSetting("Runway:Pipelines", PipelinesDirectory);
        builder.UseSetting("Runway:Concurrency", concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Runway:StopGrace", "00:00:02");
        builder.UseSetting("Runway:MaxUploadBytes", "1048576");
    }

    public static async Task<JsonElement> SubmitAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/runs", body, Json, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"submit answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Polls the run until it is in a final state, or fails the test at the deadline.</summary>
    public static async Task<JsonElement> WaitFinalAsync(HttpClient client, string id, TimeSpan? timeout = null)
    {
        JsonElement run = default;
        await Eventually.TrueAsync(async () =>
        {
            run = await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", TestContext.Current.CancellationToken);
            return run.GetProperty("state").GetString() is not ("queued" or "running");
        }, timeout ?? TimeSpan.FromSeconds(30), $"run {id} to finish");
        return run;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A run process may still hold a file; the temp directory is reclaimed later.
        }
    }
}
