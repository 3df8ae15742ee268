using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>Input a Client should not send still gets a 4xx problem that names what was wrong, never a 500.</summary>
public sealed class BadInputTests : UserClientTest
{
    [Theory]
    [InlineData("""{"pipeline": "hello", "params": {"name": "\ud800"}}""")]
    [InlineData("""{"pipeline": "hello", "params": {"name": "a\udc00b"}}""")]
    [InlineData("""{"pipeline": "hello", "name": "\ud800"}""")]
    [InlineData("""{"pipeline": "hello", "tags": {"k": "\ud800"}}""")]
    [InlineData("""{"pipeline": "\ud800"}""")]
    public async Task Submit_Answers4xxProblem_WhenStringHasALoneSurrogate(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/api/v1/runs", content, Ct);

        await AssertProblemAsync(response, 400, 422);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("{\"pipeline\": \"hello\", \"params\": {\"name\": \"", "\"}}")]
    [InlineData("{\"pipeline\": \"hello\", \"name\": \"", "\"}")]
    [InlineData("{\"pipeline\": \"hello\", \"tags\": {\"k\": \"", "\"}}")]
    public async Task Submit_Answers4xxProblem_WhenStringIsNotUtf8(string before, string after)
    {
        byte[] bytes = [.. Encoding.UTF8.GetBytes(before), 0xff, 0xfe, 0xc3, .. Encoding.UTF8.GetBytes(after)];
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await Client.PostAsync("/api/v1/runs", content, Ct);

        await AssertProblemAsync(response, 400, 422);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("""{"pipeline": "hello", "priority": "high"}""", "priority")]
    [InlineData("""{"pipeline": "hello", "priority": 1e100}""", "priority")]
    [InlineData("""{"pipeline": "hello", "tags": {"k": 1}}""", "tags")]
    [InlineData("""{"pipeline": "hello", "tags": [1]}""", "tags")]
    [InlineData("""{"pipeline": "hello", "params": [1]}""", "params")]
    [InlineData("""{"pipeline": "hello", "name": {}}""", "name")]
    public async Task Submit_NamesTheFieldNotDotNetTypes_WhenAValueHasTheWrongType(string body, string field)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/api/v1/runs", content, Ct);

        var problem = await AssertProblemAsync(response, 400);
        var text = problem.ToString();
        Assert.Contains(field, text, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Runway.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("SubmitRunRequest", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_Answers400Problem_WhenTheMultipartBodyIsTruncated()
    {
        const string head = "--cut\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nsome bytes and then nothing";
        using var content = new ByteArrayContent(Encoding.ASCII.GetBytes(head));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=cut");
        using var response = await Client.PostAsync("/api/v1/files", content, Ct);

        await AssertProblemAsync(response, 400);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(App.DataDirectory, "files")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(App.DataDirectory, "tmp")));
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Upload_StoresNoLoneSurrogate_WhenTheFileNameIsNotUtf8()
    {
        // %ED%A0%80 is a UTF-16 surrogate encoded as if it were a character; PostgreSQL refuses such text.
        const string body = "--cut\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''%ED%A0%80%FF.txt\r\n\r\nbytes\r\n--cut--\r\n";
        using var content = new ByteArrayContent(Encoding.ASCII.GetBytes(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=cut");
        using var response = await Client.PostAsync("/api/v1/files", content, Ct);

        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True((int)response.StatusCode is 201 or 400 or 422, $"answered {(int)response.StatusCode}: {text}");
        if (response.StatusCode == HttpStatusCode.Created)
        {
            Assert.DoesNotContain(JsonDocument.Parse(text).RootElement.GetProperty("name").GetString()!, char.IsSurrogate);
        }
    }

    [Fact]
    public async Task Upload_Answers400Problem_WhenTheHeadersOfAPartAreCut()
    {
        using var content = new ByteArrayContent(Encoding.ASCII.GetBytes("--cut\r\nContent-Disposition: form-da"));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=cut");
        using var response = await Client.PostAsync("/api/v1/files", content, Ct);

        await AssertProblemAsync(response, 400);
    }

    [Theory]
    [InlineData("POST", "/api/v1/runs", "{\"pipeline\": ", "application/json", 400)]
    [InlineData("GET", "/api/v1/nothing-here", null, null, 404)]
    [InlineData("DELETE", "/api/v1/runs", null, null, 405)]
    [InlineData("POST", "/api/v1/files", "hello", "text/plain", 415)]
    [InlineData("POST", "/api/v1/runs", "{\"pipeline\": \"sleep\", \"params\": {\"seconds\": -1}}", "application/json", 422)]
    public async Task Problems_CarryTypeTitleAndStatus(string method, string url, string? body, string? contentType, int status)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, contentType!);
        }
        using var response = await Client.SendAsync(request, Ct);

        await AssertProblemAsync(response, status);
    }

    [Fact]
    public async Task Problems_CarryTypeTitleAndStatus_WhenTheUploadIsTooLarge()
    {
        using var content = new MultipartFormDataContent();
        content.Add(new ByteArrayContent(new byte[2 * 1024 * 1024]), "file", "big.bin");
        using var response = await Client.PostAsync("/api/v1/files", content, Ct);

        await AssertProblemAsync(response, 413);
    }

    [Fact]
    public async Task Problems_CarryTypeTitleAndStatus_WhenLoginsAreThrottled()
    {
        await using var strict = new RunwayApp(settings: new Dictionary<string, string>
        {
            ["Runway:Auth:FailedLoginsPerUser"] = "2",
            ["Runway:Auth:FailedLoginsPerAddress"] = "2",
        });
        using var anonymous = strict.CreateClient();
        anonymous.DefaultRequestHeaders.Authorization = RunwayApp.Basic("admin", "wrong");
        HttpResponseMessage? last = null;
        for (var i = 0; i < 10 && last?.StatusCode != HttpStatusCode.TooManyRequests; i++)
        {
            last?.Dispose();
            last = await anonymous.GetAsync("/api/v1/runs", Ct);
        }

        using var response = last!;
        await AssertProblemAsync(response, 429);
    }

    /// <summary>An RFC 9457 body: problem+json with type, title and status (the status the response has).</summary>
    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, params int[] statuses)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(statuses.Contains((int)response.StatusCode), $"answered {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.True(problem.TryGetProperty("type", out var type) && type.GetString() is { Length: > 0 }, $"no type: {text}");
        Assert.True(problem.TryGetProperty("title", out var title) && title.GetString() is { Length: > 0 }, $"no title: {text}");
        Assert.True(problem.TryGetProperty("status", out var status) && status.GetInt32() == (int)response.StatusCode, $"no status: {text}");
        return problem;
    }

    private async Task AssertStillServingAsync()
    {
        using var response = await Client.GetAsync("/api/v1/pipelines", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var runs = await Client.GetFromJsonAsync<JsonElement>("/api/v1/runs", Ct);
        Assert.Equal(JsonValueKind.Array, runs.GetProperty("runs").ValueKind);
    }
}
