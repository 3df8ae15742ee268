using System.Net;
using System.Net.Sockets;
using Runway.Cli;

namespace Runway.Tests.Cli;

public class RunwayClientTests
{
    private static readonly Uri Server = new("http://runway.test/");

    [Fact]
    public async Task Upload_StreamsTheFileAsMultipartFieldFile()
    {
        var path = Path.GetTempFileName();
        var bytes = new byte[300_000];
        new Random(7).NextBytes(bytes);
        await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);
        HttpContent? part = null;
        long? requestLength = null;
        byte[]? received = null;
        var server = new FakeServer().On(HttpMethod.Post, "/api/v1/files", async request =>
        {
            var form = Assert.IsType<MultipartFormDataContent>(request.Content);
            requestLength = form.Headers.ContentLength;
            part = Assert.Single(form);
            received = await part.ReadAsByteArrayAsync();
            return FakeServer.Json("""{"id":"f_01JD0000000000000000000000","name":"book.txt","size":300000,"sha256":"ab","owner":"ana","created_at":"2026-11-24T07:00:00Z"}""", HttpStatusCode.Created);
        });
        var reports = new List<long>();
        using var client = new RunwayClient(Server, null, server);

        var reply = await client.UploadAsync(path, "book.txt", new SyncProgress(reports.Add), TestContext.Current.CancellationToken);

        Assert.Equal("f_01JD0000000000000000000000", reply.Value.Id);
        Assert.IsType<StreamContent>(part);
        Assert.Equal("file", part!.Headers.ContentDisposition!.Name!.Trim('"'));
        Assert.Equal("book.txt", part.Headers.ContentDisposition.FileName!.Trim('"'));
        Assert.NotNull(requestLength); // a known length: sent as it is read, not buffered to be measured
        Assert.Equal(bytes, received);
        Assert.True(reports.Count > 1, "progress is reported as the file is read, chunk by chunk");
        Assert.Equal(bytes.Length, reports[^1]);
        File.Delete(path);
    }

    [Fact]
    public async Task Send_ThrowsWithProblemDetails_WhenServerRejects()
    {
        var server = new FakeServer().On(HttpMethod.Get, "/api/v1/runs/X", _ => FakeServer.Problem(
            HttpStatusCode.UnprocessableEntity,
            """{"type":"about:blank","title":"Invalid parameters","status":422,"errors":{"min_length":["must be at least 1"]}}"""));
        using var client = new RunwayClient(Server, null, server);

        var error = await Assert.ThrowsAsync<RunwayApiException>(() => client.GetRunAsync("X", TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, error.Status);
        Assert.Equal("Invalid parameters", error.Problem.Title);
        Assert.Equal(["must be at least 1"], error.Problem.Errors!["min_length"]);
    }

    [Fact]
    public async Task Send_KeepsTheBody_WhenErrorIsNotProblemJson()
    {
        var server = new FakeServer().On(HttpMethod.Get, "/api/v1/pipelines", _ =>
            new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("<html>upstream down</html>"), ReasonPhrase = "Bad Gateway" });
        using var client = new RunwayClient(Server, null, server);

        var error = await Assert.ThrowsAsync<RunwayApiException>(() => client.GetPipelinesAsync(TestContext.Current.CancellationToken));

        Assert.Equal("Bad Gateway", error.Problem.Title);
        Assert.Equal("<html>upstream down</html>", error.Problem.Detail);
    }

    [Fact]
    public async Task Send_AddsBearerToken_WhenGiven()
    {
        var server = new FakeServer().OnJson(HttpMethod.Get, "/api/v1/pipelines", """{"pipelines":[]}""");
        using var client = new RunwayClient(Server, "s3cret", server);

        await client.GetPipelinesAsync(TestContext.Current.CancellationToken);

        Assert.Equal("Bearer s3cret", server.Requests.Single().Headers["Authorization"]);
    }

    [Fact]
    public async Task Cli_SaysServerIsUnreachable_WhenConnectionIsRefused()
    {
        // A port that was just free and is now closed: connecting to it is refused.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var host = new CliHost(stdout, stderr, false, _ => null, () => new SocketsHttpHandler(), TimeProvider.System);

        var code = await Runway.Cli.Cli.RunAsync(["status", "01JD", "--server", $"http://127.0.0.1:{port}"], host, TestContext.Current.CancellationToken);

        Assert.Equal(1, code);
        Assert.Equal($"runway: cannot reach the server at http://127.0.0.1:{port}/ (is `runway serve` running?)\n", stderr.ToString().ReplaceLineEndings("\n"));
        Assert.Empty(stdout.ToString());
    }

    /// <summary><see cref="Progress{T}"/> posts to the thread pool; tests need the reports in order, at once.</summary>
    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        private readonly Lock _gate = new();

        public void Report(long value)
        {
            lock (_gate)
            {
                report(value);
            }
        }
    }
}
