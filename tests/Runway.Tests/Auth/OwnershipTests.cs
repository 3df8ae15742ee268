using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Auth;

public sealed class OwnershipTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lists_ShowOwnRuns_AndAnAdminEveryones()
    {
        await using var app = new RunwayApp();
        using var ana = await app.CreateUserClientAsync("ana");
        using var bob = await app.CreateUserClientAsync("bob");
        using var admin = app.CreateAdminClient();
        var anas = (await RunwayApp.SubmitAsync(ana, new { pipeline = "hello" })).GetProperty("id").GetString();
        var bobs = (await RunwayApp.SubmitAsync(bob, new { pipeline = "hello" })).GetProperty("id").GetString();

        var anaSees = await IdsAsync(ana, "/api/v1/runs");
        var anaAsksForBob = await IdsAsync(ana, "/api/v1/runs?owner=bob");
        var adminSees = await IdsAsync(admin, "/api/v1/runs");

        Assert.Equal([anas], anaSees);
        Assert.Empty(anaAsksForBob);
        Assert.Equal([bobs, anas], adminSees);
    }

    [Fact]
    public async Task RestrictedPipeline_IsInvisibleAndUnrunnable_OutsideItsGroups()
    {
        using var pipelines = new Fakes.TempDirectory();
        await File.WriteAllTextAsync(Path.Combine(pipelines.Path, "secret.yaml"), """
            name: secret
            version: "1"
            allowed_groups: [lab]
            command: [/bin/true]
            """, Ct);
        await File.WriteAllTextAsync(Path.Combine(pipelines.Path, "open.yaml"), "name: open\nversion: \"1\"\ncommand: [/bin/true]\n", Ct);
        await using var app = new RunwayApp(pipelines.Path);
        await app.EnsureUserAsync("lea", groups: ["lab"]);
        using var member = await app.CreateUserClientAsync("lea");
        using var outsider = await app.CreateUserClientAsync("bob");
        using var admin = app.CreateAdminClient();

        var memberSees = await NamesAsync(member);
        var outsiderSees = await NamesAsync(outsider);
        var adminSees = await NamesAsync(admin);
        using var outsiderGets = await outsider.GetAsync("/api/v1/pipelines/secret", Ct);
        using var outsiderRuns = await outsider.PostAsJsonAsync("/api/v1/runs", new { pipeline = "secret" }, RunwayApp.Json, Ct);
        using var memberRuns = await member.PostAsJsonAsync("/api/v1/runs", new { pipeline = "secret" }, RunwayApp.Json, Ct);

        Assert.Equal(["open", "secret"], memberSees);
        Assert.Equal(["open"], outsiderSees);
        Assert.Equal(["open", "secret"], adminSees);
        Assert.Equal(HttpStatusCode.NotFound, outsiderGets.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, outsiderRuns.StatusCode);
        Assert.Equal(HttpStatusCode.Created, memberRuns.StatusCode);
    }

    [Fact]
    public async Task AuditTrail_RecordsSubmitCancelDownloadAndAdministration()
    {
        await using var app = new RunwayApp();
        using var ana = await app.CreateUserClientAsync("ana");
        var id = (await RunwayApp.SubmitAsync(ana, new { pipeline = "hello" })).GetProperty("id").GetString()!;
        await RunwayApp.WaitFinalAsync(ana, id);
        (await ana.GetAsync($"/api/v1/runs/{id}/outputs/greeting.txt", Ct)).EnsureSuccessStatusCode();
        (await ana.PostAsync($"/api/v1/runs/{id}/cancel", null, Ct)).EnsureSuccessStatusCode();
        using var admin = app.CreateAdminClient();

        var audit = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/audit?limit=100", Ct);
        var entries = audit.GetProperty("entries").EnumerateArray()
            .Select(e => $"{e.GetProperty("actor").GetString()} {e.GetProperty("action").GetString()} {e.GetProperty("target").GetString()}").ToList();

        Assert.Contains("admin user.create ana", entries);
        Assert.Contains($"ana run.submit {id}", entries);
        Assert.Contains($"ana run.download {id}/greeting.txt", entries);
        Assert.Contains($"ana run.cancel {id}", entries);
        Assert.Contains(entries, e => e.StartsWith("ana token.create tok_", StringComparison.Ordinal));
    }

    private static async Task<List<string?>> IdsAsync(HttpClient client, string path) =>
        (await client.GetFromJsonAsync<JsonElement>(path, Ct)).GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();

    private static async Task<List<string?>> NamesAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/pipelines", Ct)).GetProperty("pipelines").EnumerateArray()
            .Select(p => p.GetProperty("name").GetString()).Order().ToList();
}
