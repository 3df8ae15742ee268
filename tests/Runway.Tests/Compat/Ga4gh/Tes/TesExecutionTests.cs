using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Execution.Local;
using Runway.Tests.Execution.Limits;
using Runway.Tests.Fixtures;
using static Runway.Tests.Compat.Ga4gh.Tes.TesWorld;

// Request bodies written inline, as a client would send them: each array is built once per test (CA1861 is for hot paths).
#pragma warning disable CA1861

namespace Runway.Tests.Compat.Ga4gh.Tes;

/// <summary>
/// The compliance suite's jobs that run executors (create_task_functional, create_task_ignore_error,
/// create_task_inputs, create_task_outputs, cancel_task_functional), in podman with the busybox image the container
/// tests build offline (<see cref="ContainerTests"/>): skipped without podman, failed under CI.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TesExecutionTests : IAsyncLifetime
{
    private const string Image = ContainerTests.Image;
    private readonly RunwayApp app;
    private HttpClient ana = null!;

    public TesExecutionTests()
    {
        if (ContainerTests.Built.Value is { } why)
        {
            Requires.Skip(why);
        }
        app = App();
    }

    public async ValueTask InitializeAsync() => ana = await UserAsync(app, "ana");

    public async ValueTask DisposeAsync()
    {
        ana?.Dispose();
        if (app is not null)
        {
            await app.DisposeAsync();
        }
    }

    // create_task_functional.yml, create_task_inputs.yml, create_task_outputs.yml, get_task_full.yml
    [Fact]
    public async Task Executors_RunInOrder_WithStdioPathsWorkdirAndEnv_AndOutputsBecomeFiles()
    {
        var fileId = await UploadAsync("from an upload\n");
        var hostile = "a b; touch /pwned $(id) `id`";
        var id = await CreateAsync(ana, new
        {
            name = "functional",
            inputs = new object[]
            {
                new { path = "/data/inline.txt", content = "inline line\n" },
                new { path = "/data/uploaded.txt", url = $"runway://files/{fileId}" },
            },
            outputs = new object[]
            {
                new { path = "/out/copy.txt", url = "s3://ignored/copy.txt", type = "FILE" },
                new { path = "/results", url = "s3://ignored/results/", type = "DIRECTORY" },
                new { path = "/vol/*.log", path_prefix = "/vol", url = "s3://ignored/logs/" },
            },
            volumes = new[] { "/vol" },
            executors = new object[]
            {
                new { image = Image, command = new[] { "cat" }, stdin = "/data/inline.txt", stdout = "/out/copy.txt" },
                new { image = Image, command = new[] { "sh", "-c", "exit 3" }, ignore_error = true },
                new
                {
                    image = Image, command = new[] { "sh", "-c", "pwd; echo \"$GREETING\"; printf '%s' \"$1\" > /results/arg.txt; cat /data/uploaded.txt > /vol/a.log; echo err >&2", "sh", hostile },
                    workdir = "/results", env = new Dictionary<string, string> { ["GREETING"] = "hello from TES" },
                },
            },
        });

        var task = await WaitFinalAsync(ana, id, TimeSpan.FromSeconds(120));

        Assert.Equal("COMPLETE", task.GetProperty("state").GetString());
        var log = task.GetProperty("logs")[0];
        var executors = log.GetProperty("logs").EnumerateArray().ToList();
        Assert.Equal([0, 3, 0], executors.Select(e => e.GetProperty("exit_code").GetInt32()));
        Assert.Equal("inline line\n", executors[0].GetProperty("stdout").GetString()); // its stdout path's content
        Assert.Equal("/results\nhello from TES\n", executors[2].GetProperty("stdout").GetString());
        Assert.Equal("err\n", executors[2].GetProperty("stderr").GetString());
        Assert.True(log.TryGetProperty("start_time", out _) && log.TryGetProperty("end_time", out _));
        var outputs = log.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("path").GetString()!);
        Assert.Equal(["/out/copy.txt", "/results/arg.txt", "/vol/a.log"], outputs.Keys.Order());
        Assert.Equal("inline line\n", await DownloadAsync(outputs["/out/copy.txt"]));
        Assert.Equal(hostile, await DownloadAsync(outputs["/results/arg.txt"]));
        Assert.Equal("from an upload\n", await DownloadAsync(outputs["/vol/a.log"]));
        Assert.Equal(hostile.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), outputs["/results/arg.txt"].GetProperty("size_bytes").GetString());
        // Shown again, the outputs are the same files, not new copies.
        var again = await GetAsync(ana, $"/ga4gh/tes/v1/tasks/{id}?view=BASIC");
        Assert.Equal(outputs["/out/copy.txt"].GetProperty("url").GetString(),
            again.GetProperty("logs")[0].GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("path").GetString() == "/out/copy.txt").GetProperty("url").GetString());
        var run = await GetAsync(ana, $"/api/v1/runs/{id}");
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
    }

    // create_task_ignore_error.yml: without ignore_error the first failure ends the task.
    [Fact]
    public async Task FailingExecutor_EndsTheTaskInExecutorError_AndLaterOnesDoNotRun()
    {
        var id = await CreateAsync(ana, new
        {
            executors = new object[]
            {
                new { image = Image, command = new[] { "sh", "-c", "exit 7" } },
                new { image = Image, command = new[] { "echo", "never" } },
            },
        });

        var task = await WaitFinalAsync(ana, id, TimeSpan.FromSeconds(120));

        Assert.Equal("EXECUTOR_ERROR", task.GetProperty("state").GetString());
        var executor = Assert.Single(task.GetProperty("logs")[0].GetProperty("logs").EnumerateArray());
        Assert.Equal(7, executor.GetProperty("exit_code").GetInt32());
    }

    // cancel_task_functional.yml
    [Fact]
    public async Task Cancel_StopsTheRunningContainer_AndTheTaskEndsCanceled()
    {
        var id = await CreateAsync(ana, new { executors = new[] { new { image = Image, command = new[] { "sleep", "300" } } } });
        await Eventually.TrueAsync(async () => (await GetAsync(ana, $"/v1/tasks/{id}")).GetProperty("state").GetString() == "RUNNING"
            && File.Exists(Path.Combine(app.DataDirectory, "runs", id, "tes", "log", "0.json")), TimeSpan.FromSeconds(60), "the executor to start");

        using var cancel = await ana.PostAsync($"/v1/tasks/{id}:cancel", null, Ct);
        var task = await WaitFinalAsync(ana, id, TimeSpan.FromSeconds(60));

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("CANCELED", task.GetProperty("state").GetString());
        Assert.False(ContainerExists(id));
    }

    [Fact]
    public async Task ALinkLeftByAnExecutor_IsNotFollowedByTheNextOnesStdout_NorByOutputs()
    {
        var secret = Path.Combine(app.DataDirectory, "host-secret.txt");
        await File.WriteAllTextAsync(secret, "host secret\n", Ct);
        var id = await CreateAsync(ana, new
        {
            outputs = new[] { new { path = "/work/leak", url = "x" } },
            volumes = new[] { "/work" },
            executors = new object[]
            {
                new { image = Image, command = new[] { "sh", "-c", $"ln -s {secret} /work/leak; ln -s {secret} /work/out" } },
                new { image = Image, command = new[] { "echo", "overwrite" }, stdout = "/work/out" },
            },
        });

        var task = await WaitFinalAsync(ana, id, TimeSpan.FromSeconds(120));

        Assert.Equal("host secret\n", await File.ReadAllTextAsync(secret, Ct));
        Assert.Empty(task.GetProperty("logs")[0].GetProperty("outputs").EnumerateArray());
        Assert.NotEqual("COMPLETE", task.GetProperty("state").GetString());
    }

    private async Task<string> UploadAsync(string text)
    {
        using var upload = new MultipartFormDataContent { { new StringContent(text), "file", "upload.txt" } };
        using var response = await ana.PostAsync("/api/v1/files", upload, Ct);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
    }

    private async Task<string> DownloadAsync(JsonElement output)
    {
        var url = output.GetProperty("url").GetString()!;
        Assert.StartsWith("runway://files/", url, StringComparison.Ordinal);
        return await ana.GetStringAsync($"/api/v1/files/{url["runway://files/".Length..]}", Ct);
    }

    private static bool ContainerExists(string runId)
    {
        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/podman") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in (string[])["container", "exists", ContainerEngine.ContainerName(runId)])
        {
            start.ArgumentList.Add(argument);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode == 0;
    }
}
