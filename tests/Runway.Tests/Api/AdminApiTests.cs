using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>The admin API's rules that now live in UserAdmin and AuditQuery, shared with the admin pages.</summary>
public sealed class AdminApiTests : IAsyncLifetime
{
    private readonly RunwayApp app = new();
    private HttpClient admin = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await app.EnsureUserAsync("ana");
        admin = app.CreateAdminClient();
    }

    [Fact]
    public async Task UpdateUser_RefusesAGroupThatIsNotAName()
    {
        using var body = new StringContent("""{"groups": ["lab a", "<b>"]}""", Encoding.UTF8, "application/json");
        using var response = await admin.PatchAsync("/api/v1/admin/users/ana", body, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(problem.GetProperty("errors").TryGetProperty("groups", out _), problem.ToString());
    }

    [Fact]
    public async Task Audit_TimeRange_KeepsOnlyTheEntriesInside()
    {
        var before = TimeProvider.System.GetUtcNow();
        await app.EnsureUserAsync("ben");
        var after = TimeProvider.System.GetUtcNow();

        var inside = await EntriesAsync($"since={Iso(before)}&until={Iso(after.AddSeconds(1))}&action=user.create");
        Assert.Equal(["ben"], inside);
        Assert.Empty(await EntriesAsync($"until={Iso(before)}&action=user.create&target=ben"));
        Assert.Empty(await EntriesAsync($"since={Iso(after.AddSeconds(1))}&action=user.create"));
        using var backwards = await admin.GetAsync($"/api/v1/admin/audit?since={Iso(after)}&until={Iso(before)}", Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, backwards.StatusCode);
    }

    private async Task<List<string?>> EntriesAsync(string query)
    {
        var page = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/admin/audit?{query}", Ct);
        return page.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("target").GetString()).ToList();
    }

    private static string Iso(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O", CultureInfo.InvariantCulture));

    public async ValueTask DisposeAsync()
    {
        admin.Dispose();
        await app.DisposeAsync();
    }
}
