using Microsoft.Playwright;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

/// <summary>Issue 15 in Chromium: the Schedules page lists, creates, pauses, resumes and deletes schedules, and shows their runs.</summary>
[Collection(BrowserTestGroup.Name)]
public sealed class SchedulesBrowserTests(Browser browser) : IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await browser.StartAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task SchedulesPage_CreatesPausesResumesAndDeletes_AndShowsTheRuns()
    {
        var user = await browser.NewUserAsync("sia");
        await using var tab = await browser.SignedInAsync(user);
        var page = tab.Page;

        await page.GotoAsync("/");
        await page.GetByRole(AriaRole.Link, new() { Name = "Schedules" }).ClickAsync();
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("No schedules yet.");

        // A wrong cron is refused with the API's own reason, and nothing is made.
        await page.Locator("#s-name").FillAsync("every two seconds");
        await page.Locator("#s-pipeline").SelectOptionAsync("hello");
        await page.Locator("#s-params").FillAsync("""{"name": "Ada"}""");
        await page.Locator("#s-cron").FillAsync("*/2 * * *");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create schedule" }).ClickAsync();
        await Assertions.Expect(page.Locator("#s-cron-error")).ToContainTextAsync("5 fields");
        await Assertions.Expect(page.Locator("#s-name")).ToHaveValueAsync("every two seconds");

        await page.Locator("#s-cron").FillAsync("*/2 * * * * *");
        await page.Locator("#s-timezone").FillAsync("Europe/Berlin");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create schedule" }).ClickAsync();
        await Assertions.Expect(page.Locator("#schedules-done")).ToContainTextAsync("Created s_");
        var row = page.Locator("table.schedules tbody tr");
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Assertions.Expect(row).ToContainTextAsync("every two seconds");
        await Assertions.Expect(row).ToContainTextAsync("Europe/Berlin");
        await Assertions.Expect(row.Locator(".enabled")).ToHaveTextAsync("yes");
        await Assertions.Expect(row.Locator(".next div")).ToHaveCountAsync(3);

        // Its runs appear with their states as it fires (the page is reloaded, as a person would).
        await Eventually.TrueAsync(async () =>
        {
            await page.ReloadAsync();
            return await row.Locator(".last .badge").CountAsync() >= 2;
        }, TimeSpan.FromSeconds(30), "two runs of the schedule on its page");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pause every two seconds" }).ClickAsync();
        await Assertions.Expect(row.Locator(".enabled")).ToHaveTextAsync("paused");
        await Assertions.Expect(row.Locator(".next div")).ToHaveCountAsync(0);
        await Browser.ScreenshotsAsync(page, "schedules");

        await page.GetByRole(AriaRole.Button, new() { Name = "Resume every two seconds" }).ClickAsync();
        await Assertions.Expect(row.Locator(".enabled")).ToHaveTextAsync("yes");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete every two seconds" }).ClickAsync();
        await Assertions.Expect(page.Locator("#schedules-done")).ToContainTextAsync("Deleted s_");
        await Assertions.Expect(row).ToHaveCountAsync(0);
        tab.AssertNoErrors(message => message.Contains("422", StringComparison.Ordinal));
    }
}
