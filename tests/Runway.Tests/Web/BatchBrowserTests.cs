using Microsoft.Playwright;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

/// <summary>Issue 14 in Chromium: a sheet uploaded on the pipeline page becomes a batch, whose page shows its state, counts and runs.</summary>
[Collection(BrowserTestGroup.Name)]
public sealed class BatchBrowserTests(Browser browser) : IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await browser.StartAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task SheetUpload_MakesABatch_WhosePageShowsItsRuns()
    {
        var user = await browser.NewUserAsync("bea");
        await using var tab = await browser.SignedInAsync(user);
        var page = tab.Page;

        await page.GotoAsync("/pipelines/hello");
        await Assertions.Expect(page.Locator("#sheet-upload a[href$='template.csv']")).ToBeVisibleAsync();
        await page.Locator("#sheet-rows").SetInputFilesAsync(new FilePayload { Name = "people.csv", MimeType = "text/csv", Buffer = "name,shout\nAda,false\nGrace,true\n"u8.ToArray() });
        await page.Locator("#sheet-name").FillAsync("people");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit batch" }).ClickAsync();

        await page.WaitForURLAsync(url => url.Contains("/batches/b_", StringComparison.Ordinal));
        await Assertions.Expect(page.Locator("#batch-state")).ToHaveTextAsync("succeeded", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#batch-counts")).ToContainTextAsync("succeeded");
        await Assertions.Expect(page.Locator("table.runs tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("table.runs")).ToContainTextAsync("Grace");
        await Browser.ScreenshotsAsync(page, "batch");

        var id = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        await page.GetByRole(AriaRole.Link, new() { Name = "In the runs list" }).ClickAsync();
        await Assertions.Expect(page.Locator("#f-batch")).ToHaveValueAsync(id);
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("people"); // each run carries the batch's name
        tab.AssertNoErrors();
    }

    [Fact]
    public async Task BadSheet_ShowsEachProblem_AndQueuesNothing()
    {
        var user = await browser.NewUserAsync("ben");
        await using var tab = await browser.SignedInAsync(user);
        var page = tab.Page;

        await page.GotoAsync("/pipelines/hello");
        await page.Locator("#sheet-rows").SetInputFilesAsync(new FilePayload { Name = "bad.csv", MimeType = "text/csv", Buffer = "name,shout,colour\nAda,perhaps,red\n"u8.ToArray() });
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit batch" }).ClickAsync();

        var problems = page.Locator("#sheet-problems");
        await Assertions.Expect(problems).ToContainTextAsync("colour");
        await Assertions.Expect(problems).ToContainTextAsync("perhaps");
        await Browser.ScreenshotsAsync(page, "batch-problems");
        tab.AssertNoErrors(message => message.Contains("422", StringComparison.Ordinal));
    }
}
