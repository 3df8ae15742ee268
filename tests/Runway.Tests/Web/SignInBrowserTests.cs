using Microsoft.Playwright;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

[Collection(BrowserTestGroup.Name)]
public sealed class SignInBrowserTests(Browser browser) : IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await browser.StartAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task AnonymousVisit_SignsIn_AndComesBack()
    {
        var user = await browser.NewUserAsync("signin");
        await using var tab = await browser.NewPageAsync();
        var page = tab.Page;

        await page.GotoAsync("/?state=running");
        Assert.Contains("/login?ReturnUrl=", page.Url, StringComparison.Ordinal);
        await Browser.ScreenshotsAsync(page, "login");
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByLabel("Password").FillAsync("wrong password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Wrong user name or password");
        await Browser.ScreenshotsAsync(page, "login-error");
        await page.GetByLabel("Password").FillAsync(RunwayApp.PasswordOf(user));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await browser.SignedInToAsync(page, u => u == browser.Url + "/?state=running");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Runs" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync(u => u.Contains("/login", StringComparison.Ordinal));
        // The wrong password answered 401, which Chromium logs; nothing else may have gone wrong.
        tab.AssertNoErrors(e => e.Contains("status of 401", StringComparison.Ordinal));
    }
}
