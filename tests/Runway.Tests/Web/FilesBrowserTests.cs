using System.Net;
using System.Security.Cryptography;
using Microsoft.Playwright;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

/// <summary>The Files page in Chromium: upload with progress, the checksum, delete; another user sees none of it.</summary>
[Collection(BrowserTestGroup.Name)]
public sealed class FilesBrowserTests(Browser browser) : IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await browser.StartAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static byte[] Data(int size)
    {
        var bytes = new byte[size];
        new Random(7).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task Upload_ShowsTheSha256OfTheBytes_AndDelete_RemovesTheFile()
    {
        var user = await browser.NewUserAsync("uma");
        await using var tab = await browser.SignedInAsync(user);
        var page = tab.Page;
        var bytes = Data(3 * 1024 * 1024 + 17);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));

        await page.GotoAsync("/files");
        await Assertions.Expect(page.GetByText("No files yet")).ToBeVisibleAsync();
        await page.GetByLabel("File", new() { Exact = true }).SetInputFilesAsync(new FilePayload { Name = "<img src=x onerror=alert(1)>.bin", MimeType = "application/octet-stream", Buffer = bytes });
        // The script sends the form with XMLHttpRequest, so the progress bar shows before the page moves on.
        var sent = page.WaitForRequestAsync(r => r.Method == "POST" && r.Url.EndsWith("/files", StringComparison.Ordinal) && r.ResourceType == "xhr");
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync();
        await sent;

        await Assertions.Expect(page.Locator("#uploaded-sha256")).ToHaveTextAsync(sha256, new() { Timeout = 30_000 });
        var row = page.Locator("table.files tbody tr").First;
        await Assertions.Expect(row).ToContainTextAsync("<img src=x onerror=alert(1)>.bin");
        await Assertions.Expect(row).ToContainTextAsync(sha256);
        await Assertions.Expect(row).ToContainTextAsync("3.0 MB");
        Assert.Equal(0, await page.Locator("main img[src=x]").CountAsync()); // the name is text, not markup
        await Browser.ScreenshotsAsync(page, "files");

        var download = await page.RunAndWaitForDownloadAsync(() => row.GetByRole(AriaRole.Link).ClickAsync());
        Assert.Equal(bytes, await File.ReadAllBytesAsync(await download.PathAsync(), TestContext.Current.CancellationToken));
        var id = (await row.Locator(".mono").First.TextContentAsync())!.Trim();

        await row.GetByRole(AriaRole.Button, new() { Name = "Delete <img src=x onerror=alert(1)>.bin" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Deleted {id}");
        await Assertions.Expect(page.Locator("table.files")).ToHaveCountAsync(0);
        using var api = browser.Server.CreateClient();
        using var gone = await api.GetAsync($"/api/v1/files/{id}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        tab.AssertNoErrors();
    }

    [Fact]
    public async Task SecondUser_SeesNoneOfTheFirstUsersFiles_AndGetsA403PageAtAdmin()
    {
        var owner = await browser.NewUserAsync("vic");
        var other = await browser.NewUserAsync("wes");
        await using (var tab = await browser.SignedInAsync(owner))
        {
            await tab.Page.GotoAsync("/files");
            await tab.Page.GetByLabel("File", new() { Exact = true }).SetInputFilesAsync(new FilePayload { Name = "vic-private.txt", MimeType = "text/plain", Buffer = "secret"u8.ToArray() });
            await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync();
            await Assertions.Expect(tab.Page.Locator("#uploaded")).ToContainTextAsync("vic-private.txt");
        }

        await using var second = await browser.SignedInAsync(other);
        var page = second.Page;
        await page.GotoAsync("/files");
        await Assertions.Expect(page.GetByText("No files yet")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("main")).Not.ToContainTextAsync("vic-private.txt");

        var admin = await page.GotoAsync("/admin");
        Assert.Equal(403, admin?.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Not for you");
        await Assertions.Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Admin" })).ToHaveCountAsync(0);
        await Browser.ScreenshotsAsync(page, "forbidden");
        var missing = await page.GotoAsync("/runs/01JD0000000000000000000000");
        Assert.Equal(404, missing?.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Not found");
        second.AssertNoErrors(e => e.Contains("status of 403", StringComparison.Ordinal) || e.Contains("status of 404", StringComparison.Ordinal));
    }
}
