using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

/// <summary>The admin pages in Chromium: users added, signed in, disabled; OAuth clients; the audit trail; the queue view.</summary>
[Collection(BrowserTestGroup.Name)]
public sealed class AdminBrowserTests(Browser browser) : IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await browser.StartAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Admin_AddsAUser_WhoSignsIn_ThenDisablesThem_AndTheyCannot()
    {
        var admin = await browser.NewUserAsync("boss", role: "admin");
        await using var tab = await browser.SignedInAsync(admin);
        var page = tab.Page;
        var name = $"newbie{Guid.NewGuid():N}"[..14];

        await page.GotoAsync("/admin/users");
        await page.GetByLabel("User name").FillAsync(name);
        await page.GetByLabel("Groups").FillAsync("lab-a lab-b");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add user" }).ClickAsync();
        var password = await page.Locator("#generated-password").InputValueAsync();
        Assert.True(password.Length >= 12, password);
        await Assertions.Expect(page.Locator("#users")).ToContainTextAsync(name);
        await Browser.ScreenshotsAsync(page, "admin-users");

        await using (var newcomer = await browser.NewPageAsync())
        {
            await SignInAsync(newcomer.Page, name, password);
            await newcomer.Page.WaitForURLAsync(u => !u.Contains("/login", StringComparison.Ordinal));
            await newcomer.Page.GotoAsync("/account");
            await Assertions.Expect(newcomer.Page.Locator("#me-groups")).ToContainTextAsync("lab-a");

            await page.GetByRole(AriaRole.Link, new() { Name = name }).ClickAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Disable user" }).ClickAsync();
            await Assertions.Expect(page.Locator("#user-done")).ToContainTextAsync("Disabled");
            await Browser.ScreenshotsAsync(page, "admin-user");

            // Their session ends at once, and the password no longer signs them in.
            await newcomer.Page.ReloadAsync();
            Assert.Contains("/login", newcomer.Page.Url, StringComparison.Ordinal);
            await SignInAsync(newcomer.Page, name, password);
            await Assertions.Expect(newcomer.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Wrong user name or password");
            newcomer.AssertNoErrors(e => e.Contains("status of 401", StringComparison.Ordinal));
        }

        await page.GotoAsync($"/admin/audit?actor={admin}");
        await Assertions.Expect(page.Locator("#audit")).ToContainTextAsync("user.create");
        await Assertions.Expect(page.Locator("#audit")).ToContainTextAsync("user.disable");
        await Browser.ScreenshotsAsync(page, "admin-audit");
        await page.GotoAsync($"/admin/audit?actor={admin}&since=2000-01-01T00:00&until=2000-01-02T00:00");
        await Assertions.Expect(page.GetByText("No entry matches these filters")).ToBeVisibleAsync();
        tab.AssertNoErrors();
    }

    [Fact]
    public async Task Admin_AddsAnOAuthClient_SeesItsSecretOnce_AndRevokesIt()
    {
        var admin = await browser.NewUserAsync("chief", role: "admin");
        await using var tab = await browser.SignedInAsync(admin);
        var page = tab.Page;

        await page.GotoAsync("/admin/clients");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("nightly <sync>");
        await page.GetByLabel("Acts for user").FillAsync(admin);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add client" }).ClickAsync();
        var clientId = (await page.Locator("#client-id").TextContentAsync())!;
        var secret = await page.Locator("#client-secret").InputValueAsync();
        Assert.StartsWith("rwcs_", secret, StringComparison.Ordinal);
        await Browser.ScreenshotsAsync(page, "admin-clients");

        using var http = browser.Server.CreateClient();
        http.DefaultRequestHeaders.Authorization = null;
        using (var token = await http.PostAsync("/oauth/token", Form(clientId, secret), Ct))
        {
            Assert.True(token.IsSuccessStatusCode, await token.Content.ReadAsStringAsync(Ct));
        }
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke nightly <sync>" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Revoked {clientId}");
        using var refused = await http.PostAsync("/oauth/token", Form(clientId, secret), Ct);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        tab.AssertNoErrors();
    }

    [Fact]
    public async Task QueueView_CountsAQueuedRun_PerUser()
    {
        var admin = await browser.NewUserAsync("ops", role: "admin");
        var user = await browser.NewUserAsync("busy");
        using var api = browser.Server.CreateClient();
        api.DefaultRequestHeaders.Authorization = RunwayApp.Basic(user, RunwayApp.PasswordOf(user));
        // One more long run than the server runs at once: at least one of them waits in the queue.
        var runs = new List<string>();
        for (var i = 0; i <= browser.Server.Concurrency; i++)
        {
            using var submitted = await api.PostAsJsonAsync("/api/v1/runs", new { pipeline = "sleep", @params = new { seconds = 300 } }, Ct);
            Assert.True(submitted.IsSuccessStatusCode, await submitted.Content.ReadAsStringAsync(Ct));
            runs.Add((await submitted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!);
        }
        try
        {
            await using var tab = await browser.SignedInAsync(admin);
            var page = tab.Page;
            await page.GotoAsync("/admin");
            var row = page.Locator("#by-user tbody tr", new() { HasText = user });
            await Assertions.Expect(row).ToHaveCountAsync(1);
            var cells = (await row.Locator("td").AllTextContentsAsync()).Select(Number).ToList();
            Assert.Equal(runs.Count, cells[0] + cells[1]);
            Assert.True(cells[0] >= 1, $"queued: {cells[0]}");
            Assert.True(Number(await page.Locator("#queued-count").TextContentAsync()) >= 1);
            await Assertions.Expect(page.Locator("#by-pipeline")).ToContainTextAsync("sleep");
            await Assertions.Expect(page.Locator("#oldest-queued")).Not.ToHaveTextAsync("—");
            await Browser.ScreenshotsAsync(page, "admin-queue");
            tab.AssertNoErrors();
        }
        finally
        {
            foreach (var id in runs)
            {
                using var canceled = await api.PostAsync($"/api/v1/runs/{id}/cancel", null, Ct);
            }
        }
    }

    private static int Number(string? text) => int.Parse(text ?? "", System.Globalization.CultureInfo.InvariantCulture);

    private static async Task SignInAsync(IPage page, string username, string password)
    {
        await page.GotoAsync("/login");
        await page.GetByLabel("User name").FillAsync(username);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    private static FormUrlEncodedContent Form(string clientId, string secret) => new(new Dictionary<string, string>
    {
        ["grant_type"] = "client_credentials",
        ["client_id"] = clientId,
        ["client_secret"] = secret,
    });
}
