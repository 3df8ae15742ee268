using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Runway.Tests.Cli;

/// <summary>A hand-written stand-in for the Runway server: routes by method and path, records every request with its body.</summary>
internal sealed class FakeServer : HttpMessageHandler
{
    private readonly List<(HttpMethod Method, string Path, Func<HttpRequestMessage, Task<HttpResponseMessage>> Respond)> _routes = [];

    public List<Recorded> Requests { get; } = [];

    public FakeServer On(HttpMethod method, string path, Func<HttpRequestMessage, Task<HttpResponseMessage>> respond)
    {
        _routes.Add((method, path, respond));
        return this;
    }

    public FakeServer On(HttpMethod method, string path, Func<HttpRequestMessage, HttpResponseMessage> respond) =>
        On(method, path, r => Task.FromResult(respond(r)));

    public FakeServer OnJson(HttpMethod method, string path, string json, HttpStatusCode status = HttpStatusCode.OK) =>
        On(method, path, _ => Json(json, status));

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Problem(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/problem+json") };

    public static HttpResponseMessage Bytes(byte[] bytes, string type = "application/octet-stream")
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new(type);
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }

    /// <summary>A run JSON as the server sends it; <paramref name="extra"/> fields are merged in.</summary>
    public static string Run(string id, string state, string? extra = null)
    {
        var run = new JsonObject
        {
            ["id"] = id,
            ["pipeline"] = "wordstats",
            ["pipeline_version"] = "1.2.0",
            ["name"] = null,
            ["params"] = new JsonObject(),
            ["tags"] = new JsonObject(),
            ["priority"] = 0,
            ["owner"] = "ana",
            ["state"] = state,
            ["message"] = null,
            ["exit_code"] = null,
            ["executor"] = "local",
            ["submitted_at"] = "2026-11-24T07:00:00Z",
            ["elapsed_seconds"] = 12.4,
        };
        foreach (var (key, value) in extra is null ? [] : JsonNode.Parse(extra)!.AsObject())
        {
            run[key] = value?.DeepClone();
        }
        return run.ToJsonString();
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = request.RequestUri!.AbsolutePath;
        var body = request.Content is null or MultipartFormDataContent ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Add(new Recorded(request.Method, request.RequestUri.PathAndQuery, body, request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value))));
        foreach (var route in _routes)
        {
            if (route.Method == request.Method && route.Path == path)
            {
                return await route.Respond(request);
            }
        }
        return Problem(HttpStatusCode.NotFound, $$"""{"title":"Not Found","status":404,"detail":"no route {{path}} in the fake"}""");
    }

    internal sealed record Recorded(HttpMethod Method, string PathAndQuery, string? Body, IReadOnlyDictionary<string, string> Headers);
}
