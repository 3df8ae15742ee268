using System.Net;

namespace Runway.Tests.Cli;

/// <summary><c>runway batch</c>: submit a sheet, and status, cancel, download and list of batches.</summary>
public sealed class BatchVerbTests : IDisposable
{
    private const string Id = "b_01JD0000000000000000BATCH1";
    private static readonly byte[] Archive = [1, 2, 3];
    private readonly string directory = Directory.CreateTempSubdirectory("runway-batch-cli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static string Batch(string state, string counts = "\"succeeded\":2", string extra = "") =>
        $$"""{"id":"{{Id}}","name":"march","owner":"ana","state":"{{state}}","total":2,"counts":{"queued":0,{{counts}}}{{extra}}}""";

    [Fact]
    public async Task Batch_PostsThePipelineAndTheSheet_AndPrintsOnlyTheId()
    {
        var rows = Path.Combine(directory, "samples.csv");
        await File.WriteAllTextAsync(rows, "word\nalpha\nbeta\n", TestContext.Current.CancellationToken);
        string? body = null;
        var server = new FakeServer().On(HttpMethod.Post, "/api/v1/batches", async request =>
        {
            body = await request.Content!.ReadAsStringAsync(TestContext.Current.CancellationToken);
            return FakeServer.Json(Batch("running", "\"queued\":2"), HttpStatusCode.Created);
        });

        var run = await CliRun.RunAsync(server, "batch", "echo", "--rows", rows);

        Assert.Equal((0, $"{Id}\n"), (run.ExitCode, run.Out.ReplaceLineEndings("\n")));
        Assert.NotNull(body);
        Assert.Contains("name=pipeline", body, StringComparison.Ordinal);
        Assert.Contains("echo", body, StringComparison.Ordinal);
        Assert.Contains("name=rows; filename=samples.csv", body, StringComparison.Ordinal);
        Assert.Contains("word\nalpha\nbeta\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BatchWait_ExitsOne_WhenPartlyFailed_AndNamesTheFailedRuns()
    {
        var rows = Path.Combine(directory, "samples.csv");
        await File.WriteAllTextAsync(rows, "word\na\nb\n", TestContext.Current.CancellationToken);
        var server = new FakeServer()
            .OnJson(HttpMethod.Post, "/api/v1/batches", Batch("running", "\"queued\":2"), HttpStatusCode.Created)
            .OnJson(HttpMethod.Get, $"/api/v1/batches/{Id}", Batch("partly_failed", "\"succeeded\":1,\"failed\":1", ",\"failed_run_ids\":[\"01JD000000000000000000RUN2\"]"));

        var run = await CliRun.RunAsync(server, "batch", "echo", "--rows", rows, "--wait");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"{Id}\npartly_failed  succeeded 1  failed 1\nfailed: 01JD000000000000000000RUN2\n", run.Out.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task BatchStatusCancelAndList_ReachTheirEndpoints()
    {
        var server = new FakeServer()
            .OnJson(HttpMethod.Get, $"/api/v1/batches/{Id}", Batch("succeeded"))
            .OnJson(HttpMethod.Post, $"/api/v1/batches/{Id}/cancel", Batch("canceled", "\"canceled\":2"))
            .OnJson(HttpMethod.Get, "/api/v1/batches", $$"""{"batches":[{{Batch("succeeded")}}],"next_cursor":null}""");

        var status = await CliRun.RunAsync(server, "batch", "status", Id);
        var cancel = await CliRun.RunAsync(server, "batch", "cancel", Id);
        var list = await CliRun.RunAsync(server, "batch", "list");

        Assert.Equal((0, "succeeded  succeeded 2\n"), (status.ExitCode, status.Out.ReplaceLineEndings("\n")));
        Assert.Equal((0, "canceled  canceled 2\n"), (cancel.ExitCode, cancel.Out.ReplaceLineEndings("\n")));
        Assert.Contains(Id, list.Out, StringComparison.Ordinal);
        Assert.Contains("march", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BatchDownload_SavesTheArchive()
    {
        var target = Path.Combine(directory, "all.tar.gz");
        var server = new FakeServer().On(HttpMethod.Get, $"/api/v1/batches/{Id}/archive", _ => FakeServer.Bytes(Archive, "application/gzip"));

        var run = await CliRun.RunAsync(server, "batch", "download", Id, "--output", target);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(Archive, await File.ReadAllBytesAsync(target, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Batch_RefusesAMissingRowsFile_WithoutCallingTheServer()
    {
        var server = new FakeServer();

        var run = await CliRun.RunAsync(server, "batch", "echo", "--rows", Path.Combine(directory, "absent.csv"));

        Assert.Equal(2, run.ExitCode);
        Assert.Empty(server.Requests);
    }
}
