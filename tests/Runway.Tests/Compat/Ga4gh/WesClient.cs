using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Runway.Tests.Compat.Ga4gh;

/// <summary>
/// A WES client that sends what wes-client's <c>WESClient.run</c> sends (common-workflow-language/workflow-service,
/// wes_client/util.py, build_wes_request, posted with Python requests' <c>files=</c>): every part is a file part, a
/// plain field's filename being its own name, with no Content-Type; attachments carry their relative path as the
/// filename. The other calls are its plain GETs and POSTs with the auth header.
/// </summary>
public sealed class WesClient(HttpClient http)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public HttpClient Http => http;

    public static byte[] Body(string boundary, IEnumerable<(string Name, string FileName, byte[] Content)> parts)
    {
        using var body = new MemoryStream();
        foreach (var (name, fileName, content) in parts)
        {
            body.Write(Encoding.UTF8.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{fileName}\"\r\n\r\n"));
            body.Write(content);
            body.Write("\r\n"u8);
        }
        body.Write(Encoding.UTF8.GetBytes($"--{boundary}--\r\n"));
        return body.ToArray();
    }

    /// <summary>build_wes_request's parts in its order: params, type, version, url, then the attachments.</summary>
    public async Task<HttpResponseMessage> RunAsync(
        string workflowUrl, object workflowParams, string workflowType = "RUNWAY", string workflowTypeVersion = "",
        IReadOnlyDictionary<string, byte[]>? attachments = null, object? tags = null)
    {
        var parts = new List<(string, string, byte[])>
        {
            ("workflow_params", "workflow_params", Encoding.UTF8.GetBytes(workflowParams as string ?? JsonSerializer.Serialize(workflowParams))),
            ("workflow_type", "workflow_type", Encoding.UTF8.GetBytes(workflowType)),
            ("workflow_type_version", "workflow_type_version", Encoding.UTF8.GetBytes(workflowTypeVersion)),
            ("workflow_url", "workflow_url", Encoding.UTF8.GetBytes(workflowUrl)),
        };
        if (tags is not null)
        {
            parts.Add(("tags", "tags", Encoding.UTF8.GetBytes(JsonSerializer.Serialize(tags))));
        }
        foreach (var (name, bytes) in attachments ?? new Dictionary<string, byte[]>())
        {
            parts.Add(("workflow_attachment", name, bytes));
        }
        var boundary = Guid.NewGuid().ToString("N");
        var content = new ByteArrayContent(Body(boundary, parts));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        return await http.PostAsync("/ga4gh/wes/v1/runs", content, Ct);
    }

    /// <summary>wes_reponse: anything but 200 is an error.</summary>
    public async Task<string> SubmitAsync(string workflowUrl, object workflowParams, IReadOnlyDictionary<string, byte[]>? attachments = null, object? tags = null)
    {
        using var response = await RunAsync(workflowUrl, workflowParams, attachments: attachments, tags: tags);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, $"POST /runs answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("run_id").GetString()!;
    }

    public async Task<JsonElement> GetAsync(string path) => await http.GetFromJsonAsync<JsonElement>($"/ga4gh/wes/v1{path}", Ct);

    public async Task<string> StateAsync(string runId) => (await GetAsync($"/runs/{runId}/status")).GetProperty("state").GetString()!;
}
