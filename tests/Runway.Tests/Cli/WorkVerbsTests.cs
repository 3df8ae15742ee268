using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Cli;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Cli;

/// <summary>
/// <c>runway resubmit</c>, <c>runway cancel --all</c> and <c>runway schedules …</c> against the real server in process:
/// the CLI's HTTP goes to the test server's handler, with the user's token as <c>RUNWAY_TOKEN</c> would give it.
/// </summary>
public sealed class WorkVerbsTests : UserClientTest
{
    private async Task<CliRun> RunAsync(params string[] args) => await RunAsAsync(await App.CreateTokenAsync("ana"), args);

    private async Task<CliRun> RunAsAsync(string token, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var host = new CliHost(stdout, stderr, ErrorIsTerminal: false,
            Environment: name => name switch { "RUNWAY_SERVER" => "http://localhost", "RUNWAY_TOKEN" => token, _ => null },
            Handler: () => App.Server.CreateHandler(),
            Clock: TimeProvider.System);
        var code = await Runway.Cli.Cli.RunAsync(args, host, Ct);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Resubmit_MakesANewRunWithTheSameParams_LinkedToTheOld()
    {
        var old = (await RunwayApp.SubmitAsync(Client, new { pipeline = "hello", @params = new { name = "again" } })).GetProperty("id").GetString()!;
        await RunwayApp.WaitFinalAsync(Client, old);

        var run = await RunAsync("resubmit", old);

        Assert.True(run.ExitCode == 0, run.Error);
        var id = run.Out.Trim();
        Assert.NotEqual(old, id);
        var resubmitted = await Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct);
        Assert.Equal(old, resubmitted.GetProperty("resubmitted_from").GetString());
        Assert.Equal("again", resubmitted.GetProperty("params").GetProperty("name").GetString());
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(Client, id)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Resubmit_FailsWithTheServersReason_WhenTheRunIsNotTheCallers()
    {
        using var bob = await App.CreateUserClientAsync("bob");
        var bobs = (await RunwayApp.SubmitAsync(bob, new { pipeline = "hello" })).GetProperty("id").GetString()!;

        var run = await RunAsync("resubmit", bobs);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Equal("", run.Out);
        Assert.Contains(bobs, run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancelAll_CancelsTheMatchingActiveRunsOfTheCallerOnly()
    {
        // A finished run that matches is left as it is (first: the sleeps below fill both slots).
        var hello = (await RunwayApp.SubmitAsync(Client, new { pipeline = "hello", tags = new { batch = "a" } })).GetProperty("id").GetString()!;
        await RunwayApp.WaitFinalAsync(Client, hello);
        var a = new[] { await SleepAsync(Client, "a"), await SleepAsync(Client, "a") };
        var b = await SleepAsync(Client, "b");
        using var bob = await App.CreateUserClientAsync("bob");
        var bobs = await SleepAsync(bob, "a");

        var narrow = await RunAsync("cancel", "--all", "--pipeline", "sleep", "--tag", "batch=a");
        var afterNarrow = await StateAsync(Client, b);
        var rest = await RunAsync("cancel", "--all");

        Assert.True(narrow.ExitCode == 0, narrow.Error);
        Assert.StartsWith("2 runs canceled (", narrow.Out, StringComparison.Ordinal);
        Assert.Contains(afterNarrow, (string[])["queued", "running"]);
        Assert.True(rest.ExitCode == 0, rest.Error);
        Assert.StartsWith("1 runs canceled (", rest.Out, StringComparison.Ordinal);
        foreach (var id in a.Append(b))
        {
            Assert.Equal("canceled", (await RunwayApp.WaitFinalAsync(Client, id)).GetProperty("state").GetString());
        }
        Assert.Equal("succeeded", await StateAsync(Client, hello));
        Assert.Contains(await StateAsync(bob, bobs), (string[])["queued", "running"]);
        Assert.NotEqual(0, (await RunAsync("cancel", "--pipeline", "sleep")).ExitCode);
    }

    [Fact]
    public async Task Schedules_AddListPauseResumeDelete()
    {
        var added = await RunAsync("schedules", "add", "nightly", "hello", "name=Ana", "--cron", "0 3 * * *", "--timezone", "Europe/Berlin", "--catch-up", "none", "--overlap", "skip");
        Assert.True(added.ExitCode == 0, added.Error);
        var id = added.Out.Split(' ')[0];
        Assert.Matches(@"^s_\S+ next at \d{4}-\d\d-\d\d \d\d:00:00\n$", added.Out.ReplaceLineEndings("\n"));
        var stored = await Client.GetFromJsonAsync<JsonElement>($"/api/v1/schedules/{id}", Ct);
        Assert.Equal("Ana", stored.GetProperty("params").GetProperty("name").GetString());
        Assert.Equal(("none", "skip"), (stored.GetProperty("catch_up").GetString(), stored.GetProperty("overlap").GetString()));

        var list = await RunAsync("schedules", "list");
        var paused = await RunAsync("schedules", "pause", id);
        var listPaused = await RunAsync("schedules", "list");
        var resumed = await RunAsync("schedules", "resume", id);
        var deleted = await RunAsync("schedules", "delete", id);
        var listAfter = await RunAsync("schedules", "list");

        var row = Assert.Single(list.Out.ReplaceLineEndings("\n").Split('\n'), l => l.StartsWith(id, StringComparison.Ordinal));
        Assert.Matches(@"nightly\s+hello\s+0 3 \* \* \*\s+Europe/Berlin\s+\d{4}-", row);
        Assert.Equal($"{id} paused\n", paused.Out.ReplaceLineEndings("\n"));
        Assert.Contains(listPaused.Out.Split('\n'), l => l.StartsWith(id, StringComparison.Ordinal) && l.Contains(" paused", StringComparison.Ordinal));
        Assert.StartsWith($"{id} next at ", resumed.Out, StringComparison.Ordinal);
        Assert.Equal((0, ""), (deleted.ExitCode, deleted.Out));
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"/api/v1/schedules/{id}", Ct)).StatusCode);
        Assert.DoesNotContain(id, listAfter.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SchedulesAdd_FailsNamingTheField_WhenTheCronIsWrong()
    {
        var run = await RunAsync("schedules", "add", "bad", "hello", "--cron", "0 3 * *");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("cron", run.Error, StringComparison.Ordinal);
        Assert.Equal(0, (await Client.GetFromJsonAsync<JsonElement>("/api/v1/schedules", Ct)).GetProperty("schedules").GetArrayLength());
    }

    private static async Task<string> SleepAsync(HttpClient client, string batch) =>
        (await RunwayApp.SubmitAsync(client, new { pipeline = "sleep", @params = new { seconds = 60 }, tags = new { batch } })).GetProperty("id").GetString()!;

    private static async Task<string> StateAsync(HttpClient client, string id) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct)).GetProperty("state").GetString()!;
}
