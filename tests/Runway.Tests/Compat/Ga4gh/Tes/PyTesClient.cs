using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Compat.Ga4gh.Tes;

/// <summary>
/// py-tes's HTTPClient (ohsu-comp-bio/py-tes, tes/client.py) as it puts requests on the wire, reproduced exactly:
/// PyPI is not a registry this project may use, so the client is re-expressed rather than installed. Two shapes:
/// 1.x (<c>/ga4gh/tes/v1</c>; <c>Content-type: application/json</c> on every request, bodies or not; user and password
/// as HTTP Basic) and 0.x (<c>/v1</c>; its JSON posted with requests' <c>data=</c>, so with no Content-Type at all;
/// service-info at <c>/v1/tasks/service-info</c>). Bodies are <c>Task.as_json()</c>: <c>as_dict(drop_empty=True)</c>.
/// </summary>
public sealed class PyTesClient(HttpClient http, string user, bool legacy = false)
{
    private string Base => legacy ? "/v1" : "/ga4gh/tes/v1";

    public async Task<JsonElement> GetServiceInfoAsync() => await SendAsync(HttpMethod.Get, legacy ? "/v1/tasks/service-info" : $"{Base}/service-info");

    public async Task<string> CreateTaskAsync(JsonElement task) =>
        (await SendAsync(HttpMethod.Post, $"{Base}/tasks", DropEmpty(task))).GetProperty("id").GetString()!;

    public async Task<JsonElement> GetTaskAsync(string id, string view = "BASIC") => await SendAsync(HttpMethod.Get, $"{Base}/tasks/{id}?view={view}");

    public async Task CancelTaskAsync(string id) => await SendAsync(HttpMethod.Post, $"{Base}/tasks/{id}:cancel");

    /// <summary>ListTasksRequest(view, page_size, page_token, name_prefix=None, project=None).as_dict(): the Nones dropped.</summary>
    public async Task<JsonElement> ListTasksAsync(string view = "MINIMAL", int? pageSize = null, string? pageToken = null)
    {
        var query = new List<string> { $"view={view}" };
        if (pageSize is { } size)
        {
            query.Add($"page_size={size}");
        }
        if (pageToken is not null)
        {
            query.Add($"page_token={Uri.EscapeDataString(pageToken)}");
        }
        return await SendAsync(HttpMethod.Get, $"{Base}/tasks?{string.Join('&', query)}");
    }

    /// <summary>wait(): get_task(id, "MINIMAL") until the state is none of QUEUED, RUNNING, INITIALIZING.</summary>
    public async Task<JsonElement> WaitAsync(string id, TimeSpan timeout)
    {
        JsonElement task = default;
        await Eventually.TrueAsync(async () =>
        {
            task = await GetTaskAsync(id, "MINIMAL");
            return task.GetProperty("state").GetString() is not ("QUEUED" or "RUNNING" or "INITIALIZING");
        }, timeout, $"py-tes wait({id})");
        return task;
    }

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, string? data = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = RunwayApp.Basic(user, RunwayApp.PasswordOf(user));
        if (data is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(data));
        }
        if (!legacy)
        {
            // requests sends the header it is given, on a GET too: a body-less request then carries it as well.
            request.Content ??= new ByteArrayContent([]);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        // raise_for_status: any status of 400 or more is an error.
        Assert.True((int)response.StatusCode < 400, $"py-tes {method} {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>as_dict(drop_empty=True): None, empty lists and empty dicts are left out, at every level.</summary>
    private static string DropEmpty(JsonElement element)
    {
        static object? Strip(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Object => e.EnumerateObject().Select(p => (p.Name, Value: Strip(p.Value)))
                .Where(p => p.Value is not null && p.Value is not ICollection<object?> { Count: 0 } && p.Value is not IDictionary<string, object?> { Count: 0 })
                .ToDictionary(p => p.Name, p => p.Value),
            JsonValueKind.Array => e.EnumerateArray().Select(Strip).ToList(),
            JsonValueKind.Null => null,
            _ => e.Clone(),
        };
        return JsonSerializer.Serialize(Strip(element));
    }
}
