using System.Text;
using Microsoft.Playwright;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

/// <summary>A person's flows in Chromium against a real <c>runway serve</c>: submit, watch, fetch, cancel, run again.</summary>
[Collection(BrowserTestGroup.Name)]
public sealed class RunFlowBrowserTests(Browser browser) : IAsyncLifetime
{
    private static readonly byte[] Book = Encoding.UTF8.GetBytes(
        "The quick brown fox jumps over the lazy dog.\nThe dog sleeps; the fox runs far away.\nA fox, a dog, and the end.\n");

    public async ValueTask InitializeAsync() => await browser.StartAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// A run page that follows its log keeps a request open: wait for the document, not for every load. The
    /// first submission of a suite on two busy cores can take a while: 30 s, as for a run's end.
    /// </summary>
    private static readonly PageWaitForURLOptions RunPageLoaded = new() { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 30_000 };

    private static ILocator State(IPage page) => page.Locator("#run-state");

    /// <summary>
    /// Submits the form's first "Submit run" and waits for a run page other than <paramref name="previous"/>;
    /// when none comes, the failure says where the browser is and what the page said, not only that it waited.
    /// </summary>
    private static async Task SubmitAsync(IPage page, string? previous = null)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit run" }).First.ClickAsync();
        try
        {
            await page.WaitForURLAsync(u => u.Contains("/runs/", StringComparison.Ordinal) && u != previous, RunPageLoaded);
        }
        catch (TimeoutException e)
        {
            var said = await page.Locator(".error, .problem, [role=alert]").AllInnerTextsAsync();
            throw new TimeoutException($"no run page after Submit run: the browser is at {page.Url}, the page says: {string.Join(" | ", said)}", e);
        }
    }

    /// <summary>Marks the window: if the page reloads, the mark is gone.</summary>
    private static async Task MarkAsync(IPage page) => await page.EvaluateAsync("() => { window.runwayMark = 42; }");

    private static async Task AssertNotReloadedAsync(IPage page) =>
        Assert.Equal(42, await page.EvaluateAsync<int?>("() => window.runwayMark ?? null"));

    [Fact]
    public async Task Wordstats_ThroughTheForm_WithAFileUploadedOnTheSpot_SucceedsWithPreviewAndDownload()
    {
        var user = await browser.NewUserAsync("ana");
        await using var tab = await browser.SignedInAsync(user);
        var page = tab.Page;

        await page.GotoAsync("/pipelines");
        await Browser.ScreenshotsAsync(page, "pipelines");
        await page.GetByRole(AriaRole.Link, new() { Name = "Run Word statistics" }).ClickAsync();
        await page.WaitForURLAsync(u => u.EndsWith("/pipelines/wordstats", StringComparison.Ordinal));
        await page.GetByLabel("or upload one now").SetInputFilesAsync(new FilePayload { Name = "book.txt", MimeType = "text/plain", Buffer = Book });
        await page.GetByLabel("min_length").FillAsync("3");
        await page.GetByLabel("lowercase").CheckAsync();
        await Assertions.Expect(page.Locator("#cmd-runway")).ToContainTextAsync("runway submit wordstats input=@book.txt min_length=3 lowercase=true");
        await Browser.ScreenshotsAsync(page, "pipeline-form");
        await SubmitAsync(page);
        await MarkAsync(page);
        await Assertions.Expect(State(page)).ToHaveTextAsync("succeeded", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#log")).ToContainTextAsync("most frequent words");
        var plot = page.GetByAltText("lengths.svg, an output of this run");
        await Assertions.Expect(plot).ToBeVisibleAsync();
        await Eventually.TrueAsync(async () => await plot.EvaluateAsync<int>("img => img.naturalWidth") > 0, TimeSpan.FromSeconds(10), "the plot to load");
        await Assertions.Expect(page.Locator("table.data").First).ToContainTextAsync("count");
        await AssertNotReloadedAsync(page);
        await Browser.ScreenshotsAsync(page, "run-succeeded");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Browser.ScreenshotDirectory, "readme-run.png") });

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Download counts.tsv" }).ClickAsync());
        var downloaded = await File.ReadAllBytesAsync(await download.PathAsync(), TestContext.Current.CancellationToken);
        var runId = page.Url.Split("/runs/")[1];
        using var api = browser.Server.CreateClient();
        var expected = await api.GetByteArrayAsync($"/api/v1/runs/{runId}/outputs/counts.tsv", TestContext.Current.CancellationToken);
        Assert.Equal(expected, downloaded);
        Assert.StartsWith("word\tcount\nthe\t", Encoding.UTF8.GetString(downloaded), StringComparison.Ordinal);
        tab.AssertNoErrors();
    }

    [Fact]
    public async Task SleepingRun_StreamsItsLog_AndTurnsSucceeded_WithoutAReload()
    {
        var user = await browser.NewUserAsync("ben");
        await using var tab = await browser.SignedInAsync(user);
        var page = tab.Page;

        await page.GotoAsync("/pipelines/sleep");
        await page.GetByLabel("seconds").FillAsync("3");
        await SubmitAsync(page);
        await MarkAsync(page);

        await Assertions.Expect(page.Locator("#log")).ToContainTextAsync("sleeping 3 s", new() { Timeout = 20_000 });
        await Assertions.Expect(State(page)).ToHaveTextAsync("running");
        await Browser.ScreenshotsAsync(page, "run-running");
        await Assertions.Expect(State(page)).ToHaveTextAsync("succeeded", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#log")).ToContainTextAsync("done");
        await Assertions.Expect(page.Locator("#exit-code")).ToHaveTextAsync("0");
        await AssertNotReloadedAsync(page);
        tab.AssertNoErrors();
    }

    [Fact]
    public async Task BadValues_AndBadJson_ShowTheServersFieldMessages()
    {
        var user = await browser.NewUserAsync("cho");
        await using var tab = await browser.SignedInAsync(user);
        var page = tab.Page;

        await page.GotoAsync("/pipelines/wordstats");
        await page.GetByLabel("min_length").FillAsync("500");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit run" }).First.ClickAsync();

        await Assertions.Expect(page.Locator("#p-min_length-error")).ToHaveTextAsync("must be at most 100");
        await Assertions.Expect(page.Locator("#p-input-error")).ToContainTextAsync("required");
        await Assertions.Expect(page.GetByLabel("min_length")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(page.GetByLabel("min_length")).ToHaveValueAsync("500");
        await Browser.ScreenshotsAsync(page, "pipeline-form-errors");

        await page.GetByRole(AriaRole.Tab, new() { Name = "JSON" }).ClickAsync();
        var json = page.GetByLabel("Parameters as JSON");
        await json.FillAsync("{\"min_length\": ");
        await Assertions.Expect(page.Locator("#json-status")).ToContainTextAsync("Not valid JSON");
        await json.FillAsync("{\"min_length\": 0, \"top\": \"many\", \"input\": \"f_00000000000000000000000000\"}");
        await Assertions.Expect(page.Locator("#json-status")).ToHaveTextAsync("Valid JSON");
        await page.Locator("#panel-json").GetByRole(AriaRole.Button, new() { Name = "Submit run" }).ClickAsync();

        var problem = page.Locator("#form-problem");
        await Assertions.Expect(problem).ToContainTextAsync("params.min_length must be at least 1");
        await Assertions.Expect(problem).ToContainTextAsync("params.top");
        await Assertions.Expect(problem).ToContainTextAsync("params.input");
        await Browser.ScreenshotsAsync(page, "pipeline-json-errors");
        await json.FillAsync("[1, 2]");
        await page.Locator("#panel-json").GetByRole(AriaRole.Button, new() { Name = "Submit run" }).ClickAsync();
        await Assertions.Expect(page.Locator("#json-status")).ToContainTextAsync("must be a JSON object");
        tab.AssertNoErrors(e => e.Contains("status of 422", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SleepingRun_IsCanceled_AndRunAgain_OpensTheFormFilledIn()
    {
        var user = await browser.NewUserAsync("dee");
        await using var tab = await browser.SignedInAsync(user);
        var page = tab.Page;

        await page.GotoAsync("/pipelines/sleep");
        await page.GetByLabel("seconds").FillAsync("300");
        await page.GetByText("Name and tags (optional)").First.ClickAsync();
        await page.Locator("#run-name-f").FillAsync("long nap");
        await page.Locator("#run-tags-f").FillAsync("project=m31");
        await SubmitAsync(page);
        var first = page.Url;
        await Assertions.Expect(State(page)).ToHaveTextAsync("running", new() { Timeout = 20_000 });

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel run" }).ClickAsync();
        await Assertions.Expect(State(page)).ToHaveTextAsync("canceled", new() { Timeout = 20_000 });
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel run" })).ToHaveCountAsync(0);
        await Browser.ScreenshotsAsync(page, "run-canceled");

        await page.GetByRole(AriaRole.Link, new() { Name = "Run again" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("seconds")).ToHaveValueAsync("300");
        await Assertions.Expect(page.Locator("#run-name-f")).ToHaveValueAsync("long nap");
        await Assertions.Expect(page.Locator("#run-tags-f")).ToHaveValueAsync("project=m31");
        await page.GetByLabel("seconds").FillAsync("0");
        await SubmitAsync(page, first);
        await Assertions.Expect(State(page)).ToHaveTextAsync("succeeded", new() { Timeout = 30_000 });

        await page.GotoAsync("/?tag=project:m31");
        await Assertions.Expect(page.Locator("table.runs tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator(".state-counts .badge.canceled .count")).ToHaveTextAsync("1");
        await Browser.ScreenshotsAsync(page, "runs");
        tab.AssertNoErrors();
    }

    [Fact]
    public async Task SecondUser_SeesNoneOfTheFirstUsersRuns()
    {
        var owner = await browser.NewUserAsync("eve");
        var other = await browser.NewUserAsync("fay");
        string runUrl;
        await using (var tab = await browser.SignedInAsync(owner))
        {
            await tab.Page.GotoAsync("/pipelines/hello");
            await tab.Page.GetByLabel("name", new() { Exact = true }).FillAsync("eve's secret run");
            await SubmitAsync(tab.Page);
            runUrl = tab.Page.Url;
        }

        await using var second = await browser.SignedInAsync(other);
        await Assertions.Expect(second.Page.GetByText("No runs yet")).ToBeVisibleAsync();
        var response = await second.Page.GotoAsync(runUrl);
        Assert.Equal(404, response?.Status);
        var api = await second.Page.GotoAsync(runUrl.Replace("/runs/", "/api/v1/runs/", StringComparison.Ordinal));
        Assert.Equal(404, api?.Status);
        var admin = await second.Page.GotoAsync("/admin");
        Assert.Equal(403, admin?.Status);
    }

    [Fact]
    public async Task RunNamedLikeAScript_ShowsAsText()
    {
        var user = await browser.NewUserAsync("gus");
        await using var tab = await browser.SignedInAsync(user);
        var page = tab.Page;
        var dialogs = 0;
        page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };
        const string name = "<script>alert('x')</script><img src=x onerror=alert(1)>";

        await page.GotoAsync("/pipelines/hello");
        await page.GetByText("Name and tags (optional)").First.ClickAsync();
        await page.Locator("#run-name-f").FillAsync(name);
        await page.GetByLabel("name", new() { Exact = true }).FillAsync(name);
        await SubmitAsync(page);
        await Assertions.Expect(State(page)).ToHaveTextAsync("succeeded", new() { Timeout = 30_000 });

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync(name);
        await Assertions.Expect(page.Locator("#log")).ToContainTextAsync("Hello, <script>");
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("table.runs")).ToContainTextAsync(name);
        Assert.Equal(0, dialogs);
        Assert.Equal(0, await page.Locator("main script, main img[src=x]").CountAsync());
        tab.AssertNoErrors();
    }
}
