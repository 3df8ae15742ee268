using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Server;

/// <summary>
/// <c>GET /metrics</c> of the built server after a known sequence (runs that succeed, fail and are canceled
/// while queued, an upload), read as Prometheus reads it: the exposition text parsed line by line.
/// </summary>
public sealed partial class MetricsTests : IAsyncLifetime
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("runway-metrics-").FullName;
    private readonly string pipelinesDirectory = Directory.CreateTempSubdirectory("runway-metrics-pipes-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        File.WriteAllText(Path.Combine(pipelinesDirectory, "ok.yaml"), "name: ok\nversion: \"1\"\ncommand: [/bin/true]\n");
        File.WriteAllText(Path.Combine(pipelinesDirectory, "bad.yaml"), "name: bad\nversion: \"1\"\ncommand: [/bin/sh, -c, 'exit 3']\n");
        File.WriteAllText(Path.Combine(pipelinesDirectory, "nap.yaml"), "name: nap\nversion: \"1\"\ncommand: [/bin/sleep, \"60\"]\n");
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(pipelinesDirectory, recursive: true);
        Directory.Delete(dataDirectory, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Metrics_AreServedOnlyOnTheirOwnPort_AndThatPortServesNothingElse_WhenMetricsPortIsSet()
    {
        var port = RunwayProcess.FreePort();
        await using var server = new RunwayProcess(dataDirectory, pipelinesDirectory, concurrency: 1)
        {
            Environment = { ["Runway__Metrics__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture), ["Runway__Metrics__Anonymous"] = "true" },
        };
        await server.StartAsync();
        using var api = server.CreateClient();
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using var scrape = await metrics.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Contains("runway_queue_depth", await scrape.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        foreach (var path in (string[])["/metrics", "/METRICS", "/metrics/"])
        {
            using var onApi = await api.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.NotFound, onApi.StatusCode);
        }
        foreach (var path in (string[])["/api/v1/me", "/readyz", "/", "/login"])
        {
            using var other = await metrics.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        }
        using var me = await api.GetAsync("/api/v1/me", Ct);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task Metrics_CountWhatHappened_AndNeedTheAdminScope()
    {
        await using var server = new RunwayProcess(dataDirectory, pipelinesDirectory, concurrency: 1)
        {
            Environment = { ["Runway__Metrics__SampleInterval"] = "00:00:00.200" },
        };
        await server.StartAsync();
        using var http = server.CreateClient();
        var ok1 = await SubmitAsync(http, "ok");
        await WaitForAsync(http, ok1, "succeeded");
        var ok2 = await SubmitAsync(http, "ok");
        await WaitForAsync(http, ok2, "succeeded");
        var bad = await SubmitAsync(http, "bad");
        await WaitForAsync(http, bad, "failed");
        var nap = await SubmitAsync(http, "nap");
        await WaitForAsync(http, nap, "running");
        var waiting = await SubmitAsync(http, "ok");
        var waitingToo = await SubmitAsync(http, "ok");
        using var upload = new MultipartFormDataContent { { new ByteArrayContent(new byte[1234]), "file", "data.bin" } };
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("/api/v1/files", upload, Ct)).StatusCode);

        // The gauges come from the sampler, on its own clock: wait until it has seen the queue and the upload.
        var during = "";
        await Eventually.TrueAsync(async () =>
        {
            during = await ScrapeAsync(http);
            return Value(during, "runway_queue_depth") == 2 && Value(during, "runway_runs_active", ("executor", "local")) == 1
                && Value(during, "runway_files_size_bytes") == 1234;
        }, TimeSpan.FromSeconds(15), "the gauges to see the queued run, the running one and the upload");
        Assert.Equal(1, Value(during, "runway_files"));
        Assert.True(Value(during, "runway_queue_oldest_age_seconds") > 0);

        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync($"/api/v1/runs/{waiting}/cancel", null, Ct)).StatusCode);
        // A queued run ends when canceled, alone or in bulk: each counts as finished, canceled.
        using var bulk = await http.PostAsJsonAsync("/api/v1/runs/cancel", new { pipeline = "ok", state = "queued" }, Ct);
        Assert.Equal(1, (await bulk.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("canceled").GetInt32());
        await WaitForAsync(http, waitingToo, "canceled");
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync($"/api/v1/runs/{nap}/cancel", null, Ct)).StatusCode);
        await WaitForAsync(http, nap, "canceled");
        // A run's end is counted just after it is stored: wait for the last one's count, not only its state.
        var text = "";
        await Eventually.TrueAsync(async () =>
        {
            text = await ScrapeAsync(http);
            return Value(text, "runway_runs_finished_total", ("pipeline", "nap"), ("state", "canceled")) == 1;
        }, TimeSpan.FromSeconds(15), "the canceled run to be counted");

        Assert.Equal(4, Value(text, "runway_runs_submitted_total", ("pipeline", "ok")));
        Assert.Equal(1, Value(text, "runway_runs_submitted_total", ("pipeline", "bad")));
        Assert.Equal(2, Value(text, "runway_runs_finished_total", ("pipeline", "ok"), ("executor", "local"), ("state", "succeeded")));
        Assert.Equal(2, Value(text, "runway_runs_finished_total", ("pipeline", "ok"), ("executor", "local"), ("state", "canceled")));
        Assert.Equal(1, Value(text, "runway_runs_finished_total", ("pipeline", "bad"), ("executor", "local"), ("state", "failed")));
        Assert.Equal(1, Value(text, "runway_runs_finished_total", ("pipeline", "nap"), ("executor", "local"), ("state", "canceled")));
        Assert.Equal(2, Value(text, "runway_run_duration_seconds_count", ("pipeline", "ok"), ("state", "succeeded")));
        Assert.Equal(4, Value(text, "runway_run_queue_wait_seconds_count", ("executor", "local")));
        Assert.Equal(1, Value(text, "runway_uploads_total"));
        Assert.Equal(1234, Value(text, "runway_uploads_size_bytes_total"));
        Assert.Contains("http_server_request_duration_seconds", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_", text, StringComparison.Ordinal);

        using var anonymous = new HttpClient { BaseAddress = new Uri(server.Url) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics", Ct)).StatusCode);
    }

    private static async Task<string> SubmitAsync(HttpClient http, string pipeline)
    {
        using var response = await http.PostAsJsonAsync("/api/v1/runs", new { pipeline, @params = new { } }, Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("id").GetString()!;
    }

    private static Task WaitForAsync(HttpClient http, string id, string state) => Eventually.TrueAsync(
        async () => (await http.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct)).GetProperty("state").GetString() == state,
        TimeSpan.FromSeconds(30), $"run {id} to be {state}");

    private static Task<string> ScrapeAsync(HttpClient http) => http.GetStringAsync("/metrics", Ct);

    /// <summary>The sum of the samples of <paramref name="name"/> whose labels include all of <paramref name="labels"/>; 0 when none.</summary>
    private static double Value(string exposition, string name, params (string Key, string Value)[] labels) => exposition
        .Split('\n')
        .Select(line => Sample().Match(line))
        .Where(m => m.Success && m.Groups["name"].Value == name)
        .Where(m => labels.All(l => m.Groups["labels"].Value.Contains($"{l.Key}=\"{l.Value}\"", StringComparison.Ordinal)))
        .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)")]
    private static partial Regex Sample();
}
