using Microsoft.Playwright;

namespace StillControl.Panel;

/// <summary>
/// Playwright for .NET driving Debian's chromium (/usr/bin/chromium): nothing downloads a browser, and every request the page
/// makes to anything but the panel is refused and remembered, so a test can show the page works with no internet.
/// </summary>
public sealed class PanelBrowser : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    private readonly IPlaywright playwright;

    private PanelBrowser(IPlaywright playwright, IBrowser browser)
    {
        this.playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    /// <summary>Requests the page made to anything but the panel (refused).</summary>
    public List<string> Outside { get; } = [];

    /// <summary>Console errors and uncaught exceptions of every page.</summary>
    public List<string> Errors { get; } = [];

    public static string ScreenshotFolder
    {
        get
        {
            var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
            Directory.CreateDirectory(folder);
            return folder;
        }
    }

    public static async Task<PanelBrowser> Launch()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_BROWSERS_PATH", Path.Combine(Path.GetTempPath(), "stillcontrol-no-playwright-browsers"));
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Chromium,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
                Timeout = 60_000,
            });
            return new PanelBrowser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh page (its own cookies) at the panel, with the given window size and browser language.</summary>
    public async Task<IPage> Open(string url, int width, int height, string locale = "en-US")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = locale,
            HasTouch = width < 600,
            IsMobile = width < 600,
            DeviceScaleFactor = 1,
        });
        context.SetDefaultTimeout(30_000);
        await context.RouteAsync("**/*", async route =>
        {
            if (route.Request.Url.StartsWith(url, StringComparison.Ordinal))
            {
                await route.ContinueAsync();
            }
            else
            {
                lock (Outside) Outside.Add(route.Request.Url);
                await route.AbortAsync();
            }
        });
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            // The browser's own note on a 401 or 429 answer (signed out, a wrong password) is the API working, not a page error.
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource: the server responded with a status of 4", StringComparison.Ordinal))
            {
                lock (Errors) Errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) =>
        {
            lock (Errors) Errors.Add(error);
        };
        await page.GotoAsync(url + "/");
        return page;
    }

    public static async Task SignIn(IPage page, string user, string password)
    {
        await page.FillAsync("#login-user", user);
        await page.FillAsync("#login-password", password);
        await page.ClickAsync("#login-submit");
        await page.WaitForSelectorAsync("#panel-view:not(.hidden)");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Browser.CloseAsync();
        }
        finally
        {
            playwright.Dispose();
        }
    }
}
