using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Runway.Data;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>
/// <c>DELETE /api/v1/runs/{id}/files</c> through HTTP: the record stays and says when, the file endpoints answer 410, an
/// active run is refused with 409; and the admin's retention endpoints (a dry run and a sweep now).
/// </summary>
public sealed class RunPurgeTests : IAsyncLifetime
{
    private readonly RunwayApp app = new(settings: new Dictionary<string, string> { ["Runway:Retention:RunFilesDays"] = "7" });
    private HttpClient ana = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => ana = await app.CreateUserClientAsync("ana");

    public async ValueTask DisposeAsync()
    {
        ana.Dispose();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Purge_RemovesTheFiles_KeepsTheRecord_AndTheFileEndpointsAnswerGone()
    {
        var id = await FinishedHelloAsync();
        var directory = Path.Combine(app.DataDirectory, "runs", id);
        Assert.True(Directory.Exists(directory));

        using var purge = await ana.DeleteAsync($"/api/v1/runs/{id}/files", Ct);
        var purged = await purge.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        Assert.False(Directory.Exists(directory));
        var run = await ana.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct);
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.String, run.GetProperty("files_purged_at").ValueKind);
        Assert.Equal(purged.GetProperty("files_purged_at").GetString(), run.GetProperty("files_purged_at").GetString());
        Assert.Equal(0, run.GetProperty("files_bytes").GetInt64());
        foreach (var path in new[] { "log", "log?stream=stderr", "outputs", "outputs/greeting.txt", "archive" })
        {
            using var gone = await ana.GetAsync($"/api/v1/runs/{id}/{path}", Ct);
            Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
            Assert.Equal("application/problem+json", gone.Content.Headers.ContentType?.MediaType);
            var problem = await gone.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Contains("purged", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        // Again: nothing more to do, the same answer.
        using var again = await ana.DeleteAsync($"/api/v1/runs/{id}/files", Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<RunwayDb>>().CreateDbContextAsync(Ct);
        Assert.Equal(1, await db.AuditEntries.CountAsync(a => a.Action == "run.purge_files" && a.Target == id && a.Actor == "ana", Ct));
    }

    [Fact]
    public async Task Purge_OfAnActiveRun_Is409_AndTouchesNothing()
    {
        var run = await RunwayApp.SubmitAsync(ana, new { pipeline = "sleep", @params = new { seconds = 30 } });
        var id = run.GetProperty("id").GetString()!;
        var directory = Path.Combine(app.DataDirectory, "runs", id);
        await Eventually.TrueAsync(() => Task.FromResult(Directory.Exists(directory)), TimeSpan.FromSeconds(30), "the run directory");

        using var purge = await ana.DeleteAsync($"/api/v1/runs/{id}/files", Ct);

        Assert.Equal(HttpStatusCode.Conflict, purge.StatusCode);
        Assert.Equal("application/problem+json", purge.Content.Headers.ContentType?.MediaType);
        Assert.True(Directory.Exists(directory));
        using var cancel = await ana.PostAsync($"/api/v1/runs/{id}/cancel", null, Ct);
        await RunwayApp.WaitFinalAsync(ana, id);
    }

    [Fact]
    public async Task Purge_OfSomeoneElsesRun_IsNotFound()
    {
        var id = await FinishedHelloAsync();
        using var bob = await app.CreateUserClientAsync("bob");

        using var purge = await bob.DeleteAsync($"/api/v1/runs/{id}/files", Ct);

        Assert.Equal(HttpStatusCode.NotFound, purge.StatusCode);
        Assert.True(Directory.Exists(Path.Combine(app.DataDirectory, "runs", id)));
    }

    [Fact]
    public async Task Retention_PreviewListsWhatASweepThenRemoves()
    {
        var old = await FinishedHelloAsync();
        var young = await FinishedHelloAsync();
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<RunwayDb>>().CreateDbContextAsync(Ct))
        {
            var longAgo = TimeProvider.System.GetUtcNow().AddDays(-8);
            await db.Runs.Where(r => r.Id == old).ExecuteUpdateAsync(s => s.SetProperty(r => r.FinishedAt, longAgo), Ct);
        }
        using var admin = app.CreateAdminClient();

        var preview = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/retention/preview", Ct);

        Assert.True(preview.GetProperty("dry_run").GetBoolean());
        Assert.Equal([old], preview.GetProperty("run_files").EnumerateArray().Select(i => i.GetProperty("id").GetString()).ToList());
        Assert.True(Directory.Exists(Path.Combine(app.DataDirectory, "runs", old)));

        using var swept = await admin.PostAsync("/api/v1/admin/retention/sweep", null, Ct);
        var report = await swept.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(HttpStatusCode.OK, swept.StatusCode);
        Assert.Equal([old], report.GetProperty("run_files").EnumerateArray().Select(i => i.GetProperty("id").GetString()).ToList());
        Assert.True(report.GetProperty("freed_bytes").GetInt64() > 0);
        Assert.False(Directory.Exists(Path.Combine(app.DataDirectory, "runs", old)));
        Assert.True(Directory.Exists(Path.Combine(app.DataDirectory, "runs", young)));
        var audit = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/audit?action=retention.run_files", Ct);
        Assert.Equal(old, Assert.Single(audit.GetProperty("entries").EnumerateArray()).GetProperty("target").GetString());
    }

    private async Task<string> FinishedHelloAsync()
    {
        var run = await RunwayApp.SubmitAsync(ana, new { pipeline = "hello" });
        var id = run.GetProperty("id").GetString()!;
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(ana, id)).GetProperty("state").GetString());
        // Its size is measured once it ended (off the scheduler's loop): wait for it, so the test sees the settled run.
        await Eventually.TrueAsync(async () =>
            (await ana.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct)).GetProperty("files_bytes").ValueKind == JsonValueKind.Number,
            TimeSpan.FromSeconds(30), $"run {id}'s size");
        return id;
    }
}
