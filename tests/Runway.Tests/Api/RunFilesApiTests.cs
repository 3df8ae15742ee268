using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>
/// A run may leave anything in its directory. These runs are made by a real pipeline, then the test plants
/// what a hostile or careless command could: links out and in loops, FIFOs, hard links, deep trees.
/// Every request gets a deadline: blocking or spinning fails the test instead of hanging it.
/// </summary>
public sealed class RunFilesApiTests : IAsyncLifetime
{
    private readonly PlantedRuns runs = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => runs.InitializeAsync();

    public ValueTask DisposeAsync() => runs.DisposeAsync();

    [Fact]
    public async Task Outputs_LeaveOutLinksAndWhatLiesBehindThem()
    {
        var (id, directory) = await runs.FinishedRunAsync("sleep");
        Directory.CreateSymbolicLink(Path.Combine(directory, "etc"), "/etc");
        File.CreateSymbolicLink(Path.Combine(directory, "passwd"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(directory, "alias.txt"), "result.txt");
        await File.WriteAllTextAsync(Path.Combine(directory, "result.txt"), "42\n", Ct);

        var listing = await PlantedRuns.WithinDeadlineAsync(t => runs.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}/outputs", t));

        Assert.Equal(["result.txt"], PlantedRuns.Paths(listing));
        Assert.False(listing.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task Outputs_Finish_WhenLinksLoop()
    {
        var (id, directory) = await runs.FinishedRunAsync("sleep");
        File.CreateSymbolicLink(Path.Combine(directory, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(directory, "b"), "a");
        Directory.CreateDirectory(Path.Combine(directory, "sub"));
        Directory.CreateSymbolicLink(Path.Combine(directory, "sub", "parent"), "..");
        Directory.CreateSymbolicLink(Path.Combine(directory, "self"), ".");
        await File.WriteAllTextAsync(Path.Combine(directory, "sub", "result.txt"), "42\n", Ct);

        var listing = await PlantedRuns.WithinDeadlineAsync(t => runs.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}/outputs", t));

        Assert.Equal(["sub/result.txt"], PlantedRuns.Paths(listing));
    }

    [Fact]
    public async Task Outputs_SayTheyWereCut_WhenTheTreeIsTooDeep()
    {
        var (id, directory) = await runs.FinishedRunAsync("sleep");
        var deep = Path.Combine([directory, .. Enumerable.Repeat("d", 100)]);
        Directory.CreateDirectory(deep);
        await File.WriteAllTextAsync(Path.Combine(deep, "bottom.txt"), "x", Ct);
        await File.WriteAllTextAsync(Path.Combine(directory, "top.txt"), "x", Ct);

        var listing = await PlantedRuns.WithinDeadlineAsync(t => runs.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}/outputs", t));

        Assert.Equal(["top.txt"], PlantedRuns.Paths(listing));
        Assert.True(listing.GetProperty("truncated").GetBoolean());
    }

    [Theory]
    [InlineData("passwd")]          // a link to a file outside
    [InlineData("etc/passwd")]      // a file behind a link to a directory outside
    [InlineData("alias.txt")]       // a link to an output: the output is fetched by its own name
    [InlineData("fifo")]            // opening a FIFO for reading would wait for a writer forever
    [InlineData("a")]               // a link loop
    public async Task Output_Answers404_ForLinksAndSpecialFiles(string path)
    {
        var (id, directory) = await runs.FinishedRunAsync("sleep");
        Directory.CreateSymbolicLink(Path.Combine(directory, "etc"), "/etc");
        File.CreateSymbolicLink(Path.Combine(directory, "passwd"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(directory, "alias.txt"), "result.txt");
        File.CreateSymbolicLink(Path.Combine(directory, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(directory, "b"), "a");
        await File.WriteAllTextAsync(Path.Combine(directory, "result.txt"), "42\n", Ct);
        runs.MakeFifo(Path.Combine(directory, "fifo"));

        using var response = await PlantedRuns.WithinDeadlineAsync(t => runs.Client.GetAsync($"/api/v1/runs/{id}/outputs/{path}", t));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("root:", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pid")]
    [InlineData("pid_start")]
    [InlineData("exit_code")]
    [InlineData("not-declared.txt")]
    [InlineData("tmp/scratch.txt")]
    [InlineData("inputs/input/words.txt")]
    public async Task Output_Answers404_ForFilesThatAreNotOutputsLogsOrTheScript(string path)
    {
        var (id, directory) = await runs.FinishedRunAsync("checksum", new { input = await runs.UploadAsync("words.txt") });
        await File.WriteAllTextAsync(Path.Combine(directory, "not-declared.txt"), "x", Ct);
        Directory.CreateDirectory(Path.Combine(directory, "tmp"));
        await File.WriteAllTextAsync(Path.Combine(directory, "tmp", "scratch.txt"), "x", Ct);
        Assert.True(File.Exists(Path.Combine(directory, path)), $"the run left no {path}");

        using var response = await PlantedRuns.WithinDeadlineAsync(t => runs.Client.GetAsync($"/api/v1/runs/{id}/outputs/{path}", t));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("checksum.txt")]
    [InlineData("run.sh")]
    [InlineData("stdout.log")]
    public async Task Output_ServesDeclaredOutputsLogsAndTheScript(string path)
    {
        var (id, directory) = await runs.FinishedRunAsync("checksum", new { input = await runs.UploadAsync("words.txt") });
        if (path == "run.sh" && !File.Exists(Path.Combine(directory, path)))
        {
            // Started by the supervisor, which needs no script: as the chain's sh wrapper leaves it.
            await File.WriteAllTextAsync(Path.Combine(directory, path), "# Runway run wrapper\n", Ct);
        }

        var bytes = await PlantedRuns.WithinDeadlineAsync(t => runs.Client.GetByteArrayAsync($"/api/v1/runs/{id}/outputs/{path}", t));

        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(directory, path), Ct), bytes);
    }

    [Fact]
    public async Task Files_LeaveOutAHardLinkToSomeoneElsesFile()
    {
        if (Environment.UserName != "root")
        {
            Requires.Skip("giving a file to another owner needs root");
        }
        var (id, directory) = await runs.FinishedRunAsync("sleep");
        using var outside = new Fakes.TempDirectory();
        var secret = outside.Combine("secret.txt");
        await File.WriteAllTextAsync(secret, "not the run's to read\n", Ct);
        PlantedRuns.Run("chown", "4242:4242", secret);
        Assert.True(Posix.Link(secret, Path.Combine(directory, "linked.txt")));

        var listing = await PlantedRuns.WithinDeadlineAsync(t => runs.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}/outputs", t));
        using var download = await PlantedRuns.WithinDeadlineAsync(t => runs.Client.GetAsync($"/api/v1/runs/{id}/outputs/linked.txt", t));
        var archive = await runs.ArchiveAsync(id);

        Assert.DoesNotContain("linked.txt", PlantedRuns.Paths(listing));
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
        Assert.DoesNotContain($"{id}/linked.txt", archive.Select(e => e.Name));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Log_ServesNothingBehindALink(bool follow)
    {
        var (id, directory) = await runs.FinishedRunAsync("sleep");
        File.Delete(Path.Combine(directory, "stdout.log"));
        File.CreateSymbolicLink(Path.Combine(directory, "stdout.log"), "/etc/passwd");

        var log = await PlantedRuns.WithinDeadlineAsync(t => runs.Client.GetStringAsync($"/api/v1/runs/{id}/log?follow={follow}", t));

        Assert.DoesNotContain("root:", log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Log_DoesNotWait_OnAFifo(bool follow)
    {
        var (id, directory) = await runs.FinishedRunAsync("sleep");
        File.Delete(Path.Combine(directory, "stderr.log"));
        runs.MakeFifo(Path.Combine(directory, "stderr.log"));

        var log = await PlantedRuns.WithinDeadlineAsync(t => runs.Client.GetStringAsync($"/api/v1/runs/{id}/log?stream=stderr&follow={follow}", t));

        Assert.Equal("", log);
    }
}
