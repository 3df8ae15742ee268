using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Runway.Bench;

/// <summary>A run as the benchmark reads it from the API.</summary>
internal sealed record RunView(
    string Id, string State, string? NativeId, DateTimeOffset SubmittedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt);

internal sealed record RunPage(IReadOnlyList<RunView> Runs, string? NextCursor);

/// <summary>What the benchmark reads of an accounting answer (GET /api/v1/admin/usage, /api/v1/me/usage).</summary>
internal sealed record UsageView(IReadOnlyList<UsageRowView> Rows);

internal sealed record UsageRowView(long Runs);

/// <summary>
/// The load generator's HTTP side: one HttpClient over a SocketsHttpHandler that keeps its connections
/// (one per concurrent client), with the bearer token of --token / RUNWAY_TOKEN on every request.
/// </summary>
internal sealed class ApiClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");
    private readonly HttpClient http;

    public ApiClient(string baseUrl, string? token, int connections)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            MaxConnectionsPerServer = connections,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        http = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(1) };
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>A submission body, encoded once and reused by every request of a phase.</summary>
    public static byte[] Body(string pipeline, string paramsJson = "{}", int priority = 0) =>
        Encoding.UTF8.GetBytes($$"""{"pipeline":"{{pipeline}}","params":{{paramsJson}},"priority":{{priority}}}""");

    /// <summary>POST /api/v1/runs; returns the new run's id, and throws unless the answer is 201.</summary>
    public Task<string> SubmitAsync(byte[] body, CancellationToken ct) => CreateAsync("/api/v1/runs", body, ct);

    /// <summary>POST /api/v1/batches; returns the batch's id, and throws unless the answer is 201.</summary>
    public Task<string> SubmitBatchAsync(byte[] body, CancellationToken ct) => CreateAsync("/api/v1/batches", body, ct);

    private async Task<string> CreateAsync(string path, byte[] body, CancellationToken ct)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = JsonType;
        using var response = await http.PostAsync(path, content, ct);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new HttpRequestException($"POST {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
        return document.RootElement.GetProperty("id").GetString() ?? throw new HttpRequestException("no id in the answer");
    }

    /// <summary>
    /// The seconds the server's runtime has spent compiling methods since it started (System.Runtime's
    /// <c>dotnet.jit.compilation.time</c> on <c>GET /metrics</c>), or null where metrics are off.
    /// </summary>
    public async Task<double?> JitSecondsAsync(CancellationToken ct)
    {
        using var response = await http.GetAsync("/metrics", ct);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }
        const string name = "dotnet_jit_compilation_time_seconds_total";
        foreach (var line in (await response.Content.ReadAsStringAsync(ct)).Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal)
                && double.TryParse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                return seconds;
            }
        }
        return null;
    }

    public Task<RunView> GetAsync(string id, CancellationToken ct) => ReadAsync<RunView>($"/api/v1/runs/{id}", ct);

    public Task<RunPage> ListAsync(string query, CancellationToken ct) => ReadAsync<RunPage>($"/api/v1/runs?{query}", ct);

    /// <summary>A POST without a body (drain a node); throws unless the answer is a success.</summary>
    public async Task PostAsync(string path, CancellationToken ct)
    {
        using var response = await http.PostAsync(path, null, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"POST {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }
    }

    public async Task CancelAsync(string id, CancellationToken ct)
    {
        using var response = await http.PostAsync($"/api/v1/runs/{id}/cancel", null, ct);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Cancels every queued or running run of the caller's (POST /api/v1/runs/cancel with {}), then waits until none is left.</summary>
    public async Task CancelAllAsync(TimeSpan limit, CancellationToken ct)
    {
        using (var content = new ByteArrayContent("{}"u8.ToArray()))
        {
            content.Headers.ContentType = JsonType;
            using var response = await http.PostAsync("/api/v1/runs/cancel", content, ct);
            response.EnsureSuccessStatusCode();
        }
        await Load.UntilAsync(async () => (await ListAsync("state=queued,running&limit=1", ct)).Runs.Count == 0,
            TimeSpan.FromMilliseconds(100), limit, "the canceled runs to stop", ct);
    }

    public async Task<T> ReadAsync<T>(string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        return await JsonSerializer.DeserializeAsync<T>(stream, Json, ct) ?? throw new HttpRequestException($"GET {path}: empty answer");
    }

    /// <summary>A personal token of admin, made with its password over Basic auth (POST /api/v1/tokens).</summary>
    public static async Task<string> AdminTokenAsync(string baseUrl, string password, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + password)));
        using var content = new StringContent("""{"name":"bench"}""", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("/api/v1/tokens", content, ct);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new HttpRequestException($"making a token answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
        return document.RootElement.GetProperty("token").GetString() ?? throw new HttpRequestException("no token in the answer");
    }

    public void Dispose() => http.Dispose();
}
