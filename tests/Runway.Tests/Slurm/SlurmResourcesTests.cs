using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Slurm;

public sealed class SlurmResourcesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Resources_ReachSbatch_WithThePipelinesSlurmSettings()
    {
        await using var app = SlurmWorld.App();
        using var client = await app.CreateUserClientAsync();
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-resources" })).GetProperty("id").GetString()!;
        var job = await SlurmWorld.WaitForJobAsync(client, id);

        var shown = SlurmWorld.Scontrol(job);

        Assert.Equal($"runway-{id}", shown["JobName"]);
        Assert.Equal(id, shown["Comment"]);
        Assert.Equal("2", shown["CPUs/Task"]);
        Assert.Equal("100M", shown["MinMemoryNode"]);
        Assert.Equal("00:10:00", shown["TimeLimit"]);
        Assert.Equal("debug", shown["Partition"]);
        Assert.Equal("7", shown["Nice"]);
        Assert.Equal(Path.Combine(app.DataDirectory, "runs", id), shown["WorkDir"]);
        Assert.Equal(Path.Combine(app.DataDirectory, "runs", id, "stdout.log"), shown["StdOut"]);
        Assert.Equal(Path.Combine(app.DataDirectory, "runs", id, "stderr.log"), shown["StdErr"]);
        using var cancel = await client.PostAsync($"/api/v1/runs/{id}/cancel", null, Ct);
        await RunwayApp.WaitFinalAsync(client, id, SlurmWorld.RunTimeout);
    }

    [Fact]
    public async Task Submit_Answers422NamingTheLimit_WhenThePipelineAsksMoreThanSlurmAllows()
    {
        // No Slurm needed: the limit is checked at submission, before any node sees the run.
        var settings = SlurmWorld.Settings(slurm: false);
        settings["Runway:Slurm:Limits:MaxCpus"] = "1";
        settings["Runway:Slurm:Limits:MaxTime"] = "00:05:00";
        await using var app = new RunwayApp(SlurmWorld.PipelinesDirectory, settings: settings);
        using var client = await app.CreateUserClientAsync();

        using var response = await client.PostAsJsonAsync("/api/v1/runs", new { pipeline = "slurm-resources" }, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(422, problem.GetProperty("status").GetInt32());
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("cpus 2 is more than the slurm executor allows (1, Runway:Slurm:Limits:MaxCpus)", detail, StringComparison.Ordinal);
        Assert.Contains("time_limit 10m is more than the slurm executor allows (5m, Runway:Slurm:Limits:MaxTime)", detail, StringComparison.Ordinal);
        var runs = await client.GetFromJsonAsync<JsonElement>("/api/v1/runs", Ct);
        Assert.Equal(0, runs.GetProperty("runs").GetArrayLength());
    }
}
