using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runway.Cli;

/// <summary>The typed client of Runway's HTTP API. Errors surface as <see cref="RunwayApiException"/> with the server's problem details.</summary>
internal sealed class RunwayClient : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient _http;

    public RunwayClient(Uri server, string? token, HttpMessageHandler handler)
    {
        // Streams (logs --follow, downloads, uploads) last as long as they must; Ctrl+C is the limit.
        _http = new HttpClient(handler, disposeHandler: true) { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("runway-cli", typeof(RunwayClient).Assembly.GetName().Version?.ToString(3)));
        if (!string.IsNullOrEmpty(token))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public Uri Server => _http.BaseAddress!;

    public Task<Reply<PipelineList>> GetPipelinesAsync(CancellationToken ct) =>
        SendAsync<PipelineList>(new(HttpMethod.Get, "api/v1/pipelines"), ct);

    public Task<Reply<PipelineInfo>> GetPipelineAsync(string name, CancellationToken ct, string? version = null) =>
        SendAsync<PipelineInfo>(new(HttpMethod.Get, $"api/v1/pipelines/{Uri.EscapeDataString(name)}"
            + (version is null ? "" : $"?version={Uri.EscapeDataString(version)}")), ct);

    public Task<Reply<RunInfo>> SubmitAsync(SubmitRequest submit, string? idempotencyKey, CancellationToken ct)
    {
        // Serialized up front so the request has a Content-Length: small, and friendlier to proxies than chunked.
        var body = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(submit, Json));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/runs") { Content = body };
        if (!string.IsNullOrEmpty(idempotencyKey))
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return SendAsync<RunInfo>(request, ct);
    }

    public Task<Reply<RunPage>> ListRunsAsync(RunQuery query, string? cursor, CancellationToken ct)
    {
        var parts = new List<string>();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                parts.Add($"{key}={Uri.EscapeDataString(value)}");
            }
        }
        Add("state", query.State);
        Add("pipeline", query.Pipeline);
        Add("owner", query.Owner);
        foreach (var tag in query.Tags ?? [])
        {
            Add("tag", tag);
        }
        Add("limit", query.Limit?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("cursor", cursor);
        var path = parts.Count == 0 ? "api/v1/runs" : "api/v1/runs?" + string.Join('&', parts);
        return SendAsync<RunPage>(new(HttpMethod.Get, path), ct);
    }

    public Task<Reply<RunInfo>> GetRunAsync(string id, CancellationToken ct) =>
        SendAsync<RunInfo>(new(HttpMethod.Get, RunPath(id)), ct);

    public Task<Reply<RunInfo>> CancelAsync(string id, CancellationToken ct) =>
        SendAsync<RunInfo>(new(HttpMethod.Post, RunPath(id) + "/cancel"), ct);

    public Task<Reply<RunInfo>> ResubmitAsync(string id, string? pipelineVersion, CancellationToken ct) =>
        SendAsync<RunInfo>(new(HttpMethod.Post, RunPath(id) + "/resubmit") { Content = JsonBody(new { pipeline_version = pipelineVersion }) }, ct);

    public Task<Reply<CancelResult>> CancelManyAsync(CancelFilter filter, CancellationToken ct) =>
        SendAsync<CancelResult>(new(HttpMethod.Post, "api/v1/runs/cancel") { Content = JsonBody(filter) }, ct);

    private static ByteArrayContent JsonBody<T>(T value)
    {
        var body = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, Json));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return body;
    }

    public Task<Reply<RunInfo>> PurgeRunFilesAsync(string id, CancellationToken ct) =>
        SendAsync<RunInfo>(new(HttpMethod.Delete, RunPath(id) + "/files"), ct);

    public Task<Reply<RetentionInfo>> RetentionAsync(bool dryRun, CancellationToken ct) =>
        SendAsync<RetentionInfo>(dryRun ? new(HttpMethod.Get, "api/v1/admin/retention/preview") : new(HttpMethod.Post, "api/v1/admin/retention/sweep"), ct);

    public Task<Reply<NodeList>> GetNodesAsync(CancellationToken ct) =>
        SendAsync<NodeList>(new(HttpMethod.Get, "api/v1/admin/nodes"), ct);

    /// <summary>Accounting: everyone's (<paramref name="all"/>, admins) or the caller's own.</summary>
    public Task<Reply<UsageReport>> GetUsageAsync(bool all, string? from, string? to, string? groupBy, CancellationToken ct)
    {
        var query = string.Join('&', new[] { ("from", from), ("to", to), ("group_by", groupBy) }
            .Where(p => p.Item2 is not null).Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));
        return SendAsync<UsageReport>(new(HttpMethod.Get, (all ? "api/v1/admin/usage" : "api/v1/me/usage") + (query.Length > 0 ? "?" + query : "")), ct);
    }

    public Task<Reply<NodeInfo>> SetDrainingAsync(string name, bool draining, CancellationToken ct) =>
        SendAsync<NodeInfo>(new(HttpMethod.Post, $"api/v1/admin/nodes/{Uri.EscapeDataString(name)}/{(draining ? "drain" : "undrain")}"), ct);

    public Task<Reply<OutputList>> GetOutputsAsync(string id, CancellationToken ct) =>
        SendAsync<OutputList>(new(HttpMethod.Get, RunPath(id) + "/outputs"), ct);

    /// <summary>The log as it arrives; with <paramref name="follow"/> the server keeps it open until the run ends.</summary>
    public Task<HttpResponseMessage> OpenLogAsync(string id, bool stderr, bool follow, CancellationToken ct) =>
        OpenAsync($"{RunPath(id)}/log?stream={(stderr ? "stderr" : "stdout")}{(follow ? "&follow=true" : "")}", ct);

    public Task<HttpResponseMessage> OpenOutputAsync(string id, string path, CancellationToken ct) =>
        OpenAsync($"{RunPath(id)}/outputs/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}", ct);

    public Task<HttpResponseMessage> OpenArchiveAsync(string id, CancellationToken ct) =>
        OpenAsync(RunPath(id) + "/archive", ct);

    /// <summary>The caller's own files with these bytes (<c>GET /api/v1/files?sha256=</c>), newest first.</summary>
    public Task<Reply<FileList>> FindFilesAsync(string sha256, CancellationToken ct) =>
        SendAsync<FileList>(new(HttpMethod.Get, $"api/v1/files?sha256={sha256}&limit=1"), ct);

    /// <summary>Streams the file from disk: it is never read whole into memory.</summary>
    public async Task<Reply<UploadedFile>> UploadAsync(string path, string? name, IProgress<long>? progress, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        using var body = new StreamContent(new ProgressStream(file, progress), 81920);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var form = new MultipartFormDataContent { { body, "file", name ?? Path.GetFileName(path) } };
        return await SendAsync<UploadedFile>(new(HttpMethod.Post, "api/v1/files") { Content = form }, ct);
    }

    /// <summary>POST /api/v1/batches as multipart: the pipeline and the sheet file, streamed from disk.</summary>
    public async Task<Reply<BatchInfo>> SubmitBatchAsync(string pipeline, string rowsPath, string? name, CancellationToken ct)
    {
        await using var file = new FileStream(rowsPath, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        using var rows = new StreamContent(file, 81920);
        rows.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var form = new MultipartFormDataContent { { new StringContent(pipeline), "pipeline" }, { rows, "rows", Path.GetFileName(rowsPath) } };
        if (name is not null)
        {
            form.Add(new StringContent(name), "name");
        }
        return await SendAsync<BatchInfo>(new(HttpMethod.Post, "api/v1/batches") { Content = form }, ct);
    }

    public Task<Reply<BatchInfo>> GetBatchAsync(string id, CancellationToken ct) =>
        SendAsync<BatchInfo>(new(HttpMethod.Get, BatchPath(id)), ct);

    public Task<Reply<BatchInfo>> CancelBatchAsync(string id, CancellationToken ct) =>
        SendAsync<BatchInfo>(new(HttpMethod.Post, BatchPath(id) + "/cancel"), ct);

    public Task<Reply<BatchPage>> ListBatchesAsync(string? cursor, CancellationToken ct) =>
        SendAsync<BatchPage>(new(HttpMethod.Get, "api/v1/batches" + (cursor is null ? "" : $"?cursor={Uri.EscapeDataString(cursor)}")), ct);

    public Task<HttpResponseMessage> OpenBatchArchiveAsync(string id, CancellationToken ct) =>
        OpenAsync(BatchPath(id) + "/archive", ct);

    /// <summary>Makes a personal token; <paramref name="credentials"/> (Basic, at login) replaces the client's own token for this call.</summary>
    public Task<Reply<CreatedToken>> CreateTokenAsync(string name, int? expiresInDays, AuthenticationHeaderValue? credentials, CancellationToken ct)
    {
        var body = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new { name, expires_in_days = expiresInDays }, Json));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/tokens") { Content = body };
        request.Headers.Authorization = credentials ?? _http.DefaultRequestHeaders.Authorization;
        return SendAsync<CreatedToken>(request, ct);
    }

    public Task<Reply<MeInfo>> GetMeAsync(CancellationToken ct) => SendAsync<MeInfo>(new(HttpMethod.Get, "api/v1/me"), ct);

    public Task<Reply<ScheduleInfo>> CreateScheduleAsync(JsonObject schedule, CancellationToken ct) =>
        SendAsync<ScheduleInfo>(new(HttpMethod.Post, "api/v1/schedules") { Content = JsonBody(schedule) }, ct);

    public Task<Reply<ScheduleList>> ListSchedulesAsync(CancellationToken ct) => SendAsync<ScheduleList>(new(HttpMethod.Get, "api/v1/schedules"), ct);

    public Task<Reply<ScheduleInfo>> UpdateScheduleAsync(string id, JsonObject changes, CancellationToken ct) =>
        SendAsync<ScheduleInfo>(new(HttpMethod.Patch, $"api/v1/schedules/{Uri.EscapeDataString(id)}") { Content = JsonBody(changes) }, ct);

    public async Task DeleteScheduleAsync(string id, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"api/v1/schedules/{Uri.EscapeDataString(id)}");
        using var response = await _http.SendAsync(request, ct);
        await ThrowIfFailedAsync(response, ct);
    }

    public async Task RevokeTokenAsync(string id, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"api/v1/tokens/{Uri.EscapeDataString(id)}");
        using var response = await _http.SendAsync(request, ct);
        await ThrowIfFailedAsync(response, ct);
    }

    public void Dispose() => _http.Dispose();

    private static string RunPath(string id) => $"api/v1/runs/{Uri.EscapeDataString(id)}";

    private static string BatchPath(string id) => $"api/v1/batches/{Uri.EscapeDataString(id)}";

    private async Task<Reply<T>> SendAsync<T>(HttpRequestMessage request, CancellationToken ct)
    {
        using (request)
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            await ThrowIfFailedAsync(response, ct);
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            var json = await JsonNode.ParseAsync(stream, cancellationToken: ct) ?? throw new JsonException("empty reply");
            var value = json.Deserialize<T>(Json) ?? throw new JsonException("empty reply");
            return new Reply<T>(value, json);
        }
    }

    private async Task<HttpResponseMessage> OpenAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        try
        {
            await ThrowIfFailedAsync(response, ct);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private static async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var text = await response.Content.ReadAsStringAsync(ct);
        ProblemInfo? problem = null;
        try
        {
            problem = string.IsNullOrWhiteSpace(text) ? null : JsonSerializer.Deserialize<ProblemInfo>(text, Json);
        }
        catch (JsonException)
        {
            // Not problem details (a proxy's HTML page, say): show the start of the body instead.
        }
        problem ??= new ProblemInfo(
            Title: response.ReasonPhrase ?? $"HTTP {(int)response.StatusCode}",
            Detail: string.IsNullOrWhiteSpace(text) ? null : text.Trim()[..Math.Min(text.Trim().Length, 300)]);
        if (problem.Title is null && problem.Detail is null)
        {
            problem = problem with { Title = response.ReasonPhrase ?? $"HTTP {(int)response.StatusCode}" };
        }
        throw new RunwayApiException(response.StatusCode, problem);
    }
}
