using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using StillControl.Cli;
using StillControl.Telemetry;
using StillControl.Web;

namespace StillControl.Plant;

/// <summary>
/// The board in Debian's chromium (driven by Playwright) against `stillcontrol plant` run as a process, a real Mosquitto and
/// simulated stills: sign-in, a tile per still in the visitor's language, updates pushed without a reload, the click-through
/// to a still's live view, phone and desktop widths, and no console error (the pages run under the web foundation's CSP).
/// Screenshots are kept beside the test assembly (plant-board-*.png) for a person to look at.
/// </summary>
public class BoardPageTests
{
    [Fact]
    public async Task The_board_signs_in_shows_every_still_as_a_tile_updates_itself_and_opens_a_still_live_view()
    {
        using var broker = new Mosquitto();
        using var files = new TestFiles();
        var users = files.PathOf("users.json");
        new UserStore(users).AddOrReplace("banzhang", Role.Operator, "zhengliu-2026");
        var port = FreePort.Next();
        using var plant = StillControlProcess.Start(files.Folder, "plant", "--mqtt", $"127.0.0.1:{broker.AnonymousPort}", "--panel", $"127.0.0.1:{port}", "--users", users);
        var stills = new List<StillControlProcess>();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            var healthy = await PlantRig.Until(async () =>
            {
                try { return (await http.GetFromJsonAsync<JsonElement>("/healthz")).GetProperty("mqtt").GetString(); }
                catch (HttpRequestException) { return null; }
            }, s => s == "connected", TimeSpan.FromSeconds(60));
            Assert.True(healthy == "connected", plant.Error);

            foreach (var (site, name, speed) in new[] { ("workshop-1", "zeng-1", 10.0), ("workshop-1", "zeng-2", 20.0), ("workshop-2", "zeng-3", 10.0), ("workshop-2", "still-4", 10.0) })
            {
                stills.Add(StillControlProcess.Start(files.Folder, "simulate", "--still", name, "--site", site, "--speed", speed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--mqtt", $"127.0.0.1:{broker.AnonymousPort}", "--journal", files.PathOf($"{name}.db")));
            }

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
            });
            var errors = new List<string>();
            var desktop = await browser.NewContextAsync(new BrowserNewContextOptions { Locale = "zh-CN", ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
            var page = await desktop.NewPageAsync();
            page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
            page.PageError += (_, error) => errors.Add(error);

            await page.GotoAsync($"http://127.0.0.1:{port}/");
            Assert.Equal("zh-CN", await page.GetAttributeAsync("html", "lang"));
            await page.Locator("#login").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible });
            await page.FillAsync("#login input[name=user]", "banzhang");
            await page.FillAsync("#login input[name=password]", "wrong-password");
            await page.ClickAsync("#login button[type=submit]");
            await PlantRig.Until(() => page.Locator("#login-error").TextContentAsync(), text => text?.Length > 0, TimeSpan.FromSeconds(10));
            Assert.True(await page.Locator("#login-error").TextContentAsync() == "用户名或密码错误。", string.Join("\n", errors));
            await page.FillAsync("#login input[name=password]", "zhengliu-2026");
            await page.ClickAsync("#login button[type=submit]");

            // Every still gets a tile by itself, in a running phase, online, in Chinese.
            await Assertions.Expect(page.Locator(".tile.online")).ToHaveCountAsync(4, new LocatorAssertionsToHaveCountOptions { Timeout = 90_000 });
            await PlantRig.Until(() => page.Locator(".tile .phase").AllTextContentsAsync(), phases => phases.All(p => p.Trim() is "上甑" or "盖盖" or "酒头" or "酒身" or "酒尾" or "蒸粮"), TimeSpan.FromSeconds(60));
            var names = await page.Locator(".tile .name").AllTextContentsAsync();
            Assert.Equal(["still-4", "zeng-1", "zeng-2", "zeng-3"], names.Order(StringComparer.Ordinal));
            Assert.Contains("在线", await page.Locator(".tile").First.TextContentAsync());
            Assert.Contains("4 台甑桶", await page.Locator("#summary").TextContentAsync());

            // Pushed updates: a tile's elapsed time moves on with no reload (the page is the same document throughout).
            var tile = page.Locator(".tile[data-still='workshop-2/zeng-3']");
            var before = await tile.Locator("dd").First.TextContentAsync();
            await page.EvaluateAsync("window.__sameDocument = true");
            await PlantRig.Until(() => tile.Locator("dd").First.TextContentAsync(), now => now != before, TimeSpan.FromSeconds(30));
            Assert.NotEqual(before, await tile.Locator("dd").First.TextContentAsync());
            Assert.True(await page.EvaluateAsync<bool>("window.__sameDocument === true"));

            // A still killed shows offline on the board by its will, still without a reload.
            stills[3].Process.Kill();
            await Assertions.Expect(page.Locator(".tile[data-still='workshop-2/still-4'] .badge")).ToHaveTextAsync("离线", new LocatorAssertionsToHaveTextOptions { Timeout = 30_000 });
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "plant-board-zh-desktop.png"), FullPage = true });

            // Click-through to the still's live view: its facts, readings and chart from its MQTT telemetry.
            await tile.ClickAsync();
            await page.WaitForURLAsync("**/still?site=workshop-2&name=zeng-3");
            await Assertions.Expect(page.Locator("#view")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#still-name")).ToHaveTextAsync("zeng-3 · workshop-2");
            await Assertions.Expect(page.Locator("#channels tbody tr").First).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 30_000 });
            Assert.Contains("vapour", await page.Locator("#channels").TextContentAsync());
            await PlantRig.Until(() => page.Locator("#events li").CountAsync(), n => n > 0, TimeSpan.FromSeconds(30));
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "plant-board-zh-still.png"), FullPage = true });

            // A phone in English: the switch is the visitor's, the tiles stack in one column.
            var phone = await browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-GB", ViewportSize = new ViewportSize { Width = 390, Height = 844 }, IsMobile = true, HasTouch = true });
            var small = await phone.NewPageAsync();
            small.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
            await small.GotoAsync($"http://127.0.0.1:{port}/");
            await small.FillAsync("#login input[name=user]", "banzhang");
            await small.FillAsync("#login input[name=password]", "zhengliu-2026");
            await small.ClickAsync("#login button[type=submit]");
            await Assertions.Expect(small.Locator(".tile")).ToHaveCountAsync(4, new LocatorAssertionsToHaveCountOptions { Timeout = 30_000 });
            Assert.Equal("en", await small.GetAttributeAsync("html", "lang"));
            Assert.Contains("offline", await small.Locator(".tile[data-still='workshop-2/still-4']").TextContentAsync());
            var boxes = await Task.WhenAll((await small.Locator(".tile").AllAsync()).Select(t => t.BoundingBoxAsync()));
            Assert.All(boxes, b => Assert.InRange(b!.Width, 300, 390));
            Assert.Equal(4, boxes.Select(b => b!.Y).Distinct().Count());
            await small.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "plant-board-en-phone.png"), FullPage = true });

            // Asking /api/me before signing in, and the wrong password, are 401s the browser logs; nothing else may be.
            var unexpected = errors.Where(e => !e.Contains("the server responded with a status of 401", StringComparison.Ordinal)).ToList();
            Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
            Assert.NotEmpty(errors);
        }
        finally
        {
            foreach (var still in stills) still.Dispose();
            plant.Terminate();
            await plant.WaitAsync(TimeSpan.FromSeconds(20));
        }
        Assert.Equal(0, plant.Process.ExitCode);
    }
}
