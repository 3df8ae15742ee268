using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Runway.Auth;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Auth;

/// <summary>The credentials of the access matrix, one row each.</summary>
public enum Credential
{
    None,
    WrongPassword,
    RevokedToken,
    ExpiredToken,
    TokenLackingScope,
    OtherUsersToken,
    OwnersToken,
    AdminsToken,
}

/// <summary>
/// A server with an owner ("ana", whose run and file the matrix targets), another user ("bob") and the admin,
/// and the credentials of each row, all made through the API except the expired token, which the API
/// refuses to make and is therefore issued through <see cref="Tokens"/>, the same code the API calls.
/// </summary>
public sealed class AccessWorld(RunwayApp app)
{
    public const string Owner = "ana";
    public const string Other = "bob";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public RunwayApp App => app;
    /// <summary>The app's own node (drain, undrain).</summary>
    public string NodeName => app.Services.GetRequiredService<NodeIdentity>().Name;

    public string RunId { get; private set; } = "";
    public string FileId { get; private set; } = "";
    public string BatchId { get; private set; } = "";
    public string OwnerToken { get; private set; } = "";
    public string OtherToken { get; private set; } = "";
    public string AdminToken { get; private set; } = "";
    public string RevokedToken { get; private set; } = "";
    public string ExpiredToken { get; private set; } = "";

    public async Task BuildAsync()
    {
        OwnerToken = await app.CreateTokenAsync(Owner);
        OtherToken = await app.CreateTokenAsync(Other);
        AdminToken = await app.CreateTokenAsync("admin");
        RevokedToken = await app.CreateTokenAsync(Owner, name: "revoked");
        using (var owner = Client(OwnerToken))
        {
            var tokens = await owner.GetFromJsonAsync<JsonElement>("/api/v1/tokens", Ct);
            var revokedId = tokens.GetProperty("tokens").EnumerateArray().First(t => t.GetProperty("name").GetString() == "revoked").GetProperty("id").GetString();
            (await owner.DeleteAsync($"/api/v1/tokens/{revokedId}", Ct)).EnsureSuccessStatusCode();
            var run = await RunwayApp.SubmitAsync(owner, new { pipeline = "hello" });
            RunId = run.GetProperty("id").GetString()!;
            await RunwayApp.WaitFinalAsync(owner, RunId);
            FileId = await UploadAsync(owner);
            using var batch = await owner.PostAsJsonAsync("/api/v1/batches", new { pipeline = "hello", rows = new[] { new { name = "x" } } }, RunwayApp.Json, Ct);
            BatchId = (await batch.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
        }
        var clock = app.Services.GetRequiredService<TimeProvider>();
        (_, ExpiredToken) = await app.Services.GetRequiredService<Tokens>()
            .IssueAsync(Owner, "expired", Scopes.OfRole(Roles.User), clock.GetUtcNow().AddMinutes(-1), null, Ct);
    }

    public HttpClient Client(string? bearer)
    {
        var client = app.CreateClient();
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = RunwayApp.Bearer(bearer);
        }
        return client;
    }

    /// <summary>A token of the owner (of the admin, for admin routes) carrying every scope of its owner but <paramref name="scope"/>.</summary>
    public Task<string> TokenLackingAsync(string? scope) => scope switch
    {
        null => app.CreateTokenAsync(Owner, [Scopes.FilesRead], "narrow"),
        Scopes.Admin => app.CreateTokenAsync("admin", Scopes.All.Where(s => s != Scopes.Admin).ToList(), "no-admin"),
        _ => app.CreateTokenAsync(Owner, Scopes.OfRole(Roles.User).Where(s => s != scope).ToList(), "lacking"),
    };

    public async Task<string> FreshFileAsync()
    {
        using var owner = Client(OwnerToken);
        return await UploadAsync(owner);
    }

    /// <summary>A paused schedule of the owner's (it never fires during the test).</summary>
    public async Task<string> FreshScheduleAsync()
    {
        using var owner = Client(OwnerToken);
        using var response = await owner.PostAsJsonAsync("/api/v1/schedules", new { name = "matrix", pipeline = "hello", cron = "0 3 * * *", enabled = false }, RunwayApp.Json, Ct);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
    }

    public async Task<string> FreshTokenIdAsync()
    {
        using var owner = Client(OwnerToken);
        using var response = await owner.PostAsJsonAsync("/api/v1/tokens", new { name = "to revoke" }, RunwayApp.Json, Ct);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
    }

    public async Task<string> FreshClientIdAsync()
    {
        using var admin = Client(AdminToken);
        using var response = await admin.PostAsJsonAsync("/api/v1/admin/clients", new { name = "to revoke", owner = Owner }, RunwayApp.Json, Ct);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("client").GetProperty("client_id").GetString()!;
    }

    public static MultipartFormDataContent FileForm()
    {
        var content = new ByteArrayContent("some words to count\n"u8.ToArray());
        return new MultipartFormDataContent { { content, "file", "words.txt" } };
    }

    private static async Task<string> UploadAsync(HttpClient client)
    {
        using var form = FileForm();
        using var response = await client.PostAsync("/api/v1/files", form, Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("id").GetString()!;
    }
}
