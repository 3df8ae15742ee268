using System.Text;

namespace Runway.Tests.Cli;

public sealed class DownloadTests : IDisposable
{
    private const string Id = "01JD000000000000000000RUN1";
    private readonly string _dir = Directory.CreateTempSubdirectory("runway-dl-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Download_WritesEveryOutput_AndRefusesPathsOutsideTheDirectory()
    {
        var server = new FakeServer()
            .OnJson(HttpMethod.Get, $"/api/v1/runs/{Id}/outputs",
                """{"outputs":[{"path":"counts.tsv","size":4},{"path":"plots/lengths.svg","size":5},{"path":"../evil.sh","size":1},{"path":"/etc/evil","size":1}]}""")
            .On(HttpMethod.Get, $"/api/v1/runs/{Id}/outputs/counts.tsv", _ => FakeServer.Bytes("a\t1\n"u8.ToArray()))
            .On(HttpMethod.Get, $"/api/v1/runs/{Id}/outputs/plots/lengths.svg", _ => FakeServer.Bytes("<svg>"u8.ToArray()));
        var target = Path.Combine(_dir, "out");

        var run = await CliRun.RunAsync(server, "download", Id, "--output", target);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("a\t1\n", await File.ReadAllTextAsync(Path.Combine(target, "counts.tsv"), TestContext.Current.CancellationToken));
        Assert.Equal("<svg>", await File.ReadAllTextAsync(Path.Combine(target, "plots", "lengths.svg"), TestContext.Current.CancellationToken));
        Assert.Contains("skipped '../evil.sh'", run.Error, StringComparison.Ordinal);
        Assert.Contains("skipped '/etc/evil'", run.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "evil.sh")));
        Assert.DoesNotContain(server.Requests, r => r.PathAndQuery.Contains("evil", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(target, "*.part", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Download_SaysSo_WhenTheServerCutTheList()
    {
        var server = new FakeServer()
            .OnJson(HttpMethod.Get, $"/api/v1/runs/{Id}/outputs", """{"outputs":[{"path":"a.txt","size":1}],"truncated":true}""")
            .On(HttpMethod.Get, $"/api/v1/runs/{Id}/outputs/a.txt", _ => FakeServer.Bytes("a"u8.ToArray()));

        var run = await CliRun.RunAsync(server, "download", Id, "--output", Path.Combine(_dir, "out"));

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("more outputs than the server lists", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Download_OnePath_GoesToItsBaseName_InTheOutputDirectory()
    {
        var server = new FakeServer().On(HttpMethod.Get, $"/api/v1/runs/{Id}/outputs/plots/my%20plot.svg", _ => FakeServer.Bytes("<svg/>"u8.ToArray()));

        var run = await CliRun.RunAsync(server, "download", Id, "plots/my plot.svg", "-o", _dir);

        Assert.Equal(0, run.ExitCode);
        var written = Path.Combine(_dir, "my plot.svg");
        Assert.Equal(written + "\n", run.Out.ReplaceLineEndings("\n"));
        Assert.Equal("<svg/>", await File.ReadAllTextAsync(written, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Download_Archive_StreamsTheTarGz()
    {
        var bytes = Encoding.ASCII.GetBytes(new string('x', 200_000));
        var server = new FakeServer().On(HttpMethod.Get, $"/api/v1/runs/{Id}/archive", _ => FakeServer.Bytes(bytes, "application/gzip"));
        var target = Path.Combine(_dir, $"{Id}.tar.gz");

        var run = await CliRun.RunAsync(server, "download", Id, "--archive", "-o", _dir);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(target + "\n", run.Out.ReplaceLineEndings("\n"));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(target, TestContext.Current.CancellationToken));
    }
}
