using System.Net;
using Microsoft.Playwright;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

/// <summary>The Account page in Chromium: who I am, and personal API tokens made and revoked.</summary>
[Collection(BrowserTestGroup.Name)]
public sealed class AccountBrowserTests(Browser browser) : IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await browser.StartAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task Token_IsShownOnce_Works_AndOnceRevokedGets401()
    {
        var user = await browser.NewUserAsync("tia");
        await using var tab = await browser.SignedInAsync(user);
        var page = tab.Page;
        var ct = TestContext.Current.CancellationToken;

        await page.GotoAsync("/account");
        await Assertions.Expect(page.Locator("#me-username")).ToHaveTextAsync(user);
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("laptop <b>script</b>");
        await page.GetByLabel("runs:write").UncheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();

        var secret = await page.Locator("#new-token-secret").InputValueAsync();
        Assert.StartsWith("rwt_", secret, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copy" })).ToBeVisibleAsync();
        var row = page.Locator("table.tokens tbody tr", new() { HasText = "laptop <b>script</b>" });
        await Assertions.Expect(row).ToContainTextAsync("runs:read");
        await Assertions.Expect(row).Not.ToContainTextAsync("runs:write");
        await Browser.ScreenshotsAsync(page, "account");

        using var api = browser.Server.CreateClient();
        api.DefaultRequestHeaders.Authorization = RunwayApp.Bearer(secret);
        using (var me = await api.GetAsync("/api/v1/me", ct))
        {
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        }

        await page.GotoAsync("/account");
        await Assertions.Expect(page.Locator("#new-token-secret")).ToHaveCountAsync(0); // shown once
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke laptop <b>script</b>" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Revoked");
        await Assertions.Expect(row).ToContainTextAsync("revoked");

        using var after = await api.GetAsync("/api/v1/me", ct);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        tab.AssertNoErrors();
    }
}
