using Microsoft.Data.Sqlite;
using Microsoft.Playwright;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

/// <summary>
/// Issue 14 in Chromium: the pipeline page lists its versions (the newest the default) and submits an earlier one; a run
/// that reused an earlier run's outputs links that run.
/// </summary>
[Collection(BrowserTestGroup.Name)]
public sealed class PipelineVersionsBrowserTests(Browser browser) : IAsyncLifetime
{
    /// <summary>An earlier hello, as Runway keeps a version it has seen once its file changed; with <c>cache: true</c>.</summary>
    private const string Earlier = """
        name: hello
        version: 0.9.0
        cache: true
        parameters:
          name: {type: string, default: world}
        command: [/bin/sh, -c, 'printf "Hi, %s!\n" "$1" | tee "$2/greeting.txt"', hello, "{name}", "{run_dir}"]
        outputs: [greeting.txt]
        """;

    private static readonly PageWaitForURLOptions RunPageLoaded = new() { WaitUntil = WaitUntilState.DOMContentLoaded, Timeout = 30_000 };

    public async ValueTask InitializeAsync()
    {
        await browser.StartAsync();
        // The shared server's pipelines are the repository's: the earlier version goes where Runway keeps the ones it saw.
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(browser.Server.DataDirectory, "runway.db")};Pooling=false");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT OR IGNORE INTO pipeline_versions (name, version, yaml, source_path, first_seen_at) VALUES ('hello', '0.9.0', $yaml, $path, 0)";
        insert.Parameters.AddWithValue("$yaml", Earlier);
        insert.Parameters.AddWithValue("$path", Path.Combine(Repository.PipelinesDirectory, "hello.yaml"));
        await insert.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task PipelinePage_SubmitsAnEarlierVersion_AndARepeatShowsTheRunItReused()
    {
        var user = await browser.NewUserAsync("vic");
        await using var tab = await browser.SignedInAsync(user);
        var page = tab.Page;

        await page.GotoAsync("/pipelines/hello");
        var versions = page.Locator("#versions");
        await Assertions.Expect(versions.Locator("li").First).ToContainTextAsync("1.0.0");
        await Assertions.Expect(versions.Locator("li").First).ToContainTextAsync("default");
        await Assertions.Expect(page.Locator("#older-version")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#cmd-curl")).Not.ToContainTextAsync("pipeline_version");
        await versions.GetByRole(AriaRole.Link, new() { Name = "0.9.0" }).ClickAsync();
        await Assertions.Expect(page.Locator("#older-version")).ToContainTextAsync("0.9.0");
        // The commands to copy run the version shown, as the page first draws them and as its script redraws them.
        await Assertions.Expect(page.Locator("#cmd-curl")).ToContainTextAsync("\"pipeline_version\":\"0.9.0\"");
        await Assertions.Expect(page.Locator("#cmd-runway")).ToContainTextAsync("runway submit hello --pipeline-version 0.9.0");
        await page.Locator("form[data-pipeline] [data-param='name']").FillAsync("Ada");
        await Assertions.Expect(page.Locator("#cmd-curl")).ToContainTextAsync("\"name\":\"Ada\"");
        await Assertions.Expect(page.Locator("#cmd-curl")).ToContainTextAsync("\"pipeline_version\":\"0.9.0\"");
        await Assertions.Expect(page.Locator("#cmd-runway")).ToContainTextAsync("runway submit hello --pipeline-version 0.9.0 name=Ada");
        await page.Locator("form[data-pipeline] [data-param='name']").FillAsync("world"); // the repeat below must match
        await Browser.ScreenshotsAsync(page, "pipeline-versions");

        var first = await SubmitAsync(page);
        await Assertions.Expect(page.Locator("#run-state")).ToHaveTextAsync("succeeded", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("hello 0.9.0");

        await page.GotoAsync("/pipelines/hello?version=0.9.0");
        var again = await SubmitAsync(page, first);
        await Assertions.Expect(page.Locator("#run-state")).ToHaveTextAsync("succeeded");
        await Assertions.Expect(page.Locator("#cached-from")).ToContainTextAsync(RunIdOf(first));
        await Browser.ScreenshotsAsync(page, "run-cached");
        await page.Locator("#cached-from a").ClickAsync();
        await page.WaitForURLAsync(u => u.EndsWith(RunIdOf(first), StringComparison.Ordinal), RunPageLoaded);
        Assert.NotEqual(first, again);
        tab.AssertNoErrors();
    }

    /// <summary>Submits the form and answers the run page's address (one other than <paramref name="previous"/>).</summary>
    private static async Task<string> SubmitAsync(IPage page, string? previous = null)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit run" }).First.ClickAsync();
        await page.WaitForURLAsync(u => u.Contains("/runs/", StringComparison.Ordinal) && u != previous, RunPageLoaded);
        return page.Url;
    }

    private static string RunIdOf(string url) => url[(url.LastIndexOf('/') + 1)..];
}
