using System.Net.Http.Json;
using Microsoft.Playwright;

namespace Runway.Tests.Fixtures;

[CollectionDefinition(Name)]
public sealed class BrowserTestGroup : ICollectionFixture<Browser>
{
    /// <summary>The browser tests run one after another: one server and one Chromium between them, on a 2-core machine.</summary>
    public const string Name = "browser";
}

/// <summary>
/// A real <c>runway serve</c> on loopback (the repository's pipelines, a data directory of its own) and Debian's
/// headless Chromium driven by Playwright, both started on first use, so that a machine without Chromium skips
/// (or, under CI=true, fails) each browser test instead of failing the fixture. Each test gets its own browser
/// context (cookies) and its own users, so tests see nothing of each other.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    public static readonly ViewportSize Laptop = new() { Width = 1366, Height = 860 };
    public static readonly ViewportSize Phone = new() { Width = 390, Height = 844 };

    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("runway-web-").FullName;
    private RunwayProcess? server;
    private IPlaywright? playwright;
    private IBrowser? chromium;
    private int users;

    public RunwayProcess Server => server ?? throw new InvalidOperationException("call StartAsync first");

    public string Url => Server.Url;

    /// <summary>Screenshots of every page the tests visit, light and dark, laptop and phone: look at them.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <summary>Skips without Chromium; else starts the server and the browser once.</summary>
    public async Task StartAsync()
    {
        var executable = Requires.Chromium();
        await gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (server is null)
            {
                var started = new RunwayProcess(dataDirectory, Repository.PipelinesDirectory, concurrency: 4);
                await started.StartAsync();
                server = started;
            }
            if (chromium is null)
            {
                playwright = await Playwright.CreateAsync();
                // As root in a container Chromium has no sandbox; the background-networking flags keep it from
                // calling Google's hosts, which this machine's closed network refuses (machines/dotnet.md).
                chromium = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
                {
                    ExecutablePath = executable,
                    Headless = true,
                    Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
                });
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A new user of this server (a fresh name per call), with the password <see cref="RunwayApp.PasswordOf"/>.</summary>
    public async Task<string> NewUserAsync(string prefix = "user", string role = "user")
    {
        var name = $"{prefix}{Interlocked.Increment(ref users)}";
        using var admin = Server.CreateClient();
        using var response = await admin.PostAsJsonAsync("/api/v1/admin/users",
            new { username = name, password = RunwayApp.PasswordOf(name), role, groups = Array.Empty<string>() }, TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return name;
    }

    /// <summary>A page in a new context (no cookies) that fails the test on any console error: a CSP violation is one.</summary>
    public async Task<BrowserPage> NewPageAsync(ViewportSize? viewport = null, ColorScheme colorScheme = ColorScheme.Light)
    {
        var context = await chromium!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Url,
            ViewportSize = viewport ?? Laptop,
            ColorScheme = colorScheme,
            AcceptDownloads = true,
            TimezoneId = "Europe/Paris",
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        return new BrowserPage(context, page);
    }

    /// <summary>A page signed in as <paramref name="username"/> through the sign-in form.</summary>
    public async Task<BrowserPage> SignedInAsync(string username, ViewportSize? viewport = null)
    {
        var page = await NewPageAsync(viewport);
        await page.Page.GotoAsync("/login");
        await page.Page.GetByLabel("User name").FillAsync(username);
        await page.Page.GetByLabel("Password").FillAsync(RunwayApp.PasswordOf(username));
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await SignedInToAsync(page.Page, u => !u.Contains("/login", StringComparison.Ordinal));
        return page;
    }

    /// <summary>
    /// Waits for a sign-in to reach a URL <paramref name="arrived"/> accepts, its document parsed (DOMContentLoaded: the
    /// callers' next steps are locators, which wait for what they need). Playwright's default also waits for the load
    /// event, every image and style sheet: two CI runs of 2026-12-05 timed out there, on the page the sign-in had already
    /// reached. On a timeout the test fails with what the page showed (its URL, state, title and alerts) and the end of
    /// the server's log, rather than with Playwright's timeout alone.
    /// </summary>
    public async Task SignedInToAsync(IPage page, Func<string, bool> arrived)
    {
        try
        {
            await page.WaitForURLAsync(arrived, new() { WaitUntil = WaitUntilState.DOMContentLoaded });
        }
        catch (TimeoutException e)
        {
            var alerts = await page.GetByRole(AriaRole.Alert).AllInnerTextsAsync();
            var state = await page.EvaluateAsync<string>("document.readyState");
            var log = Server.Output.ToString();
            Assert.Fail($"the sign-in stayed at {page.Url} ({state}, \"{await page.TitleAsync()}\", alerts: {string.Join(" | ", alerts)}): {e.Message}\n"
                + $"the server's log ends:\n{log[Math.Max(0, log.Length - 6000)..]}");
        }
    }

    /// <summary>Saves the page as it is now at laptop and phone width, light and dark: <c>{name}-{laptop|phone}-{light|dark}.png</c>.</summary>
    public static async Task ScreenshotsAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var original = page.ViewportSize;
        foreach (var (width, size) in new[] { ("laptop", Laptop), ("phone", Phone) })
        {
            await page.SetViewportSizeAsync(size.Width, size.Height);
            foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
            {
                await page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = scheme });
                var file = Path.Combine(ScreenshotDirectory, $"{name}-{width}-{scheme.ToString().ToLowerInvariant()}.png");
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true });
            }
        }
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Light });
        if (original is not null)
        {
            await page.SetViewportSizeAsync(original.Width, original.Height);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (chromium is not null)
        {
            await chromium.DisposeAsync();
        }
        playwright?.Dispose();
        if (server is not null)
        {
            await server.DisposeAsync();
        }
        gate.Dispose();
        try
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A run process may still hold a file; the temp directory is reclaimed later.
        }
    }
}

/// <summary>A page and its own context; collects console errors (a CSP violation logs one) for <see cref="AssertNoErrors"/>.</summary>
public sealed class BrowserPage : IAsyncDisposable
{
    private readonly List<string> errors = [];

    public BrowserPage(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (errors)
                {
                    errors.Add($"{message.Text} ({message.Location})");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (errors)
            {
                errors.Add(error);
            }
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>No script error and no CSP violation on any page this one showed, except <paramref name="expected"/> ones.</summary>
    public void AssertNoErrors(Func<string, bool>? expected = null)
    {
        lock (errors)
        {
            var unexpected = errors.Where(e => expected?.Invoke(e) != true).ToList();
            Assert.True(unexpected.Count == 0, "console errors:\n" + string.Join("\n", unexpected));
        }
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}
