using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>Every list pages with <c>limit</c> and <c>next_cursor</c>, as runs do, instead of stopping silently.</summary>
public sealed class ListPagingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Follows next_cursor from the first page to the last, with <paramref name="limit"/> items a page.</summary>
    private static async Task<List<List<string>>> PagesAsync(HttpClient client, string path, string member, string key, int limit)
    {
        var pages = new List<List<string>>();
        string? cursor = null;
        do
        {
            var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
            var url = $"{path}{separator}limit={limit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var page = await client.GetFromJsonAsync<JsonElement>(url, Ct);
            pages.Add(page.GetProperty(member).EnumerateArray().Select(e => e.GetProperty(key).GetString()!).ToList());
            cursor = page.GetProperty("next_cursor").GetString();
            Assert.True(pages.Count < 10, "the cursor never ends");
        }
        while (cursor is not null);
        return pages;
    }

    private static async Task UploadAsync(HttpClient client, string name)
    {
        using var body = new ByteArrayContent("x"u8.ToArray());
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var form = new MultipartFormDataContent { { body, "file", name } };
        using var response = await client.PostAsync("/api/v1/files", form, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Files_ArePagedWithACursor_NewestFirst()
    {
        await using var app = new RunwayApp();
        using var client = await app.CreateUserClientAsync("ana");
        foreach (var name in (string[])["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"])
        {
            await UploadAsync(client, name);
        }

        var pages = await PagesAsync(client, "/api/v1/files", "files", "name", 2);

        Assert.Equal([["e.txt", "d.txt"], ["c.txt", "b.txt"], ["a.txt"]], pages);
    }

    [Fact]
    public async Task Tokens_ArePagedWithACursor()
    {
        await using var app = new RunwayApp();
        await app.EnsureUserAsync("ana");
        for (var i = 0; i < 4; i++)
        {
            await app.CreateTokenAsync("ana", name: $"t{i}");
        }
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = RunwayApp.Basic("ana", RunwayApp.PasswordOf("ana"));

        var pages = await PagesAsync(client, "/api/v1/tokens", "tokens", "name", 3);

        Assert.Equal([["t3", "t2", "t1"], ["t0"]], pages);
    }

    [Fact]
    public async Task AdminLists_ArePagedWithACursor()
    {
        await using var app = new RunwayApp();
        foreach (var name in (string[])["ana", "bob", "cyd"])
        {
            await app.EnsureUserAsync(name);
        }
        using var admin = app.CreateAdminClient();
        for (var i = 0; i < 3; i++)
        {
            using var added = await admin.PostAsJsonAsync("/api/v1/admin/clients", new { name = $"c{i}", owner = "ana" }, RunwayApp.Json, Ct);
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        var users = await PagesAsync(admin, "/api/v1/admin/users", "users", "username", 2);
        var audit = await PagesAsync(admin, "/api/v1/admin/audit?action=user.create", "entries", "target", 2);
        var clients = await PagesAsync(admin, "/api/v1/admin/clients", "clients", "name", 2);

        Assert.Equal([["admin", "ana"], ["bob", "cyd"]], users);
        Assert.Equal([["cyd", "bob"], ["ana"]], audit);
        Assert.Equal(["c0", "c1", "c2"], clients.SelectMany(p => p).Order(StringComparer.Ordinal));
        Assert.Equal([2, 1], clients.Select(p => p.Count));
    }

    [Theory]
    [InlineData("/api/v1/files?cursor=not-a-cursor")]
    [InlineData("/api/v1/tokens?limit=0")]
    [InlineData("/api/v1/admin/users?cursor=%00")]
    [InlineData("/api/v1/admin/clients?limit=100000")]
    [InlineData("/api/v1/admin/audit?cursor=bm9wZQ")]
    public async Task BadPagingParameters_Answer422(string path)
    {
        await using var app = new RunwayApp();
        using var admin = app.CreateAdminClient();

        using var response = await admin.GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
    }
}
