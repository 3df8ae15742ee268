namespace Runway.Tests.Cli;

/// <summary><c>runway purge RUN_ID</c>, <c>runway purge --dry-run</c> and <c>runway purge</c> against a fake server.</summary>
public sealed class PurgeVerbTests
{
    private const string Id = "01JD000000000000000000RUN1";

    private const string Items = """
        "run_files":[{"id":"01JD000000000000000000RUN2","owner":"ana","bytes":4096,"since":"2026-11-01T10:00:00Z"}],
        "uploads":[{"id":"f_01JD0000000000000000000F1","owner":"bob","bytes":12,"since":"2026-10-01T10:00:00Z"}],
        "run_records":[]
        """;

    [Fact]
    public async Task PurgeRunId_DeletesTheRunsFiles_AndSaysWhen()
    {
        var server = new FakeServer().OnJson(HttpMethod.Delete, $"/api/v1/runs/{Id}/files",
            $$"""{"id":"{{Id}}","pipeline":"hello","state":"succeeded","files_bytes":0,"files_purged_at":"2026-12-03T12:00:00Z"}""");

        var run = await CliRun.RunAsync(server, "purge", Id);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal($"{Id}: files purged at 2026-12-03 12:00:00Z\n", run.Out.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task PurgeDryRun_ShowsWhatThePolicyWouldRemove()
    {
        var server = new FakeServer().OnJson(HttpMethod.Get, "/api/v1/admin/retention/preview", $$"""{"dry_run":true,{{Items}},"freed_bytes":null}""");

        var run = await CliRun.RunAsync(server, "purge", "--dry-run");

        Assert.Equal(0, run.ExitCode);
        var lines = run.Out.ReplaceLineEndings("\n").Split('\n');
        Assert.Contains(lines, l => l.StartsWith("run files", StringComparison.Ordinal) && l.Contains("RUN2", StringComparison.Ordinal) && l.Contains("4096", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("upload", StringComparison.Ordinal) && l.Contains("bob", StringComparison.Ordinal));
        Assert.Contains("2 item(s) would be removed now (dry run: nothing was removed)", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Purge_AppliesThePolicyNow()
    {
        var server = new FakeServer().OnJson(HttpMethod.Post, "/api/v1/admin/retention/sweep", $$"""{"dry_run":false,{{Items}},"freed_bytes":4108}""");

        var run = await CliRun.RunAsync(server, "purge");

        Assert.Equal(0, run.ExitCode);
        Assert.EndsWith("2 item(s) removed, 4108 bytes freed\n", run.Out.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }
}
