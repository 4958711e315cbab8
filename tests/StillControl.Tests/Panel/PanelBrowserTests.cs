using Microsoft.Playwright;

namespace StillControl.Panel;

/// <summary>A person works a simulated batch from the panel in a real browser; the simulated distiller is off.</summary>
public sealed class PanelBrowserTests
{
    /// <summary>
    /// A short still (three layers) and a cooling-water loss in loading, so a batch reaches heads in a minute of test time at 30x
    /// and raises a trip alarm on the way for the distiller to acknowledge.
    /// </summary>
    private const string Scenario = """
        { "still": { "layerCount": 3 },
          "distiller": { "reactionSeconds": 5 },
          "faults": [ { "kind": "cooling-water-loss", "phase": "loading", "afterSeconds": 40, "forSeconds": 30 } ] }
        """;

    [Fact]
    public async Task A_batch_is_worked_from_the_panel_end_to_end_in_chromium()
    {
        using var files = new TestFiles();
        await using var panel = await PanelHost.Start(files, Scenario, speed: 30);
        await using var browser = await PanelBrowser.Launch();
        var page = await browser.Open(panel.Url, 1280, 900);

        // Signed out: the sign-in form; a wrong password is told as such.
        await page.FillAsync("#login-user", PanelHost.Operator);
        await page.FillAsync("#login-password", "not-my-password");
        await page.ClickAsync("#login-submit");
        await Assertions.Expect(page.Locator("#login-error")).ToContainTextAsync("Wrong user name or password");
        await PanelBrowser.SignIn(page, PanelHost.Operator, PanelHost.OperatorPassword);
        await Assertions.Expect(page.Locator("#phase")).ToHaveTextAsync("Idle");
        await Assertions.Expect(page.Locator("#readings tr[data-channel=vapour]")).ToContainTextAsync("°C");
        await PanelHost.WaitFor(() => panel.Cycle.State.SettledAt is not null, TimeSpan.FromSeconds(30), "the readings to settle");

        // Start, with the batch's details, confirmed in the start form.
        await page.ClickAsync("button[data-command=start]");
        await Assertions.Expect(page.Locator("#start-recipe")).ToHaveValueAsync(panel.Cycle.Recipe.Name);
        await page.FillAsync("#start-lot", "LOT-7");
        await page.FillAsync("#start-kg", "1200");
        await page.FillAsync("#start-pit", "pit-12");
        await page.FillAsync("#start-notes", "from the panel test");
        await page.ClickAsync("#start-confirm");
        await Assertions.Expect(page.Locator("#command-result")).ToContainTextAsync("started: loading");
        await Assertions.Expect(page.Locator("#phase")).ToHaveTextAsync("Loading");
        await Assertions.Expect(page.Locator("#transition")).ToContainTextAsync("Idle → Loading: start");

        // The scenario's cooling-water loss trips the batch: the alarm shows with an acknowledge button, the batch held.
        var alarm = page.Locator("#alarms li[data-code=cooling-water-loss]");
        await Assertions.Expect(alarm).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#held")).ToBeVisibleAsync();

        // A command the controller refuses shows its reason: no sealing a held batch.
        await page.ClickAsync("button[data-command=seal]");
        await Assertions.Expect(page.Locator("#confirm-dialog")).ToBeVisibleAsync();
        await page.ClickAsync("#confirm-yes");
        await Assertions.Expect(page.Locator("#command-result")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("refused"));
        await Assertions.Expect(page.Locator("#command-result")).ToContainTextAsync("Refused: seal is for a loading batch that is not held");

        // Acknowledge: the button goes once the loop has taken it; once the water is back the alarm clears and the batch resumes.
        await alarm.Locator("button.ack").ClickAsync();
        await Assertions.Expect(alarm.Locator("button.ack")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#alarms li[data-code=cooling-water-loss]")).ToHaveCountAsync(0, new() { Timeout = 60_000 });
        await page.ClickAsync("button[data-command=resume]");
        await page.ClickAsync("#confirm-yes");
        await Assertions.Expect(page.Locator("#command-result")).ToContainTextAsync("Done:");
        await Assertions.Expect(page.Locator("#held")).ToBeHiddenAsync();

        // The crew lays the layers on the controller's advice and puts the lid on when the barrel is full; then the distiller seals.
        await Assertions.Expect(page.Locator("#readings tr[data-channel=lid-closed] td.num")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\s*1\s*$"), new() { Timeout = 120_000 });
        // From here the phases follow each other in seconds at this pace: the page's phase is watched as it changes.
        await page.EvaluateAsync("""
            () => { window.seenPhases = [document.getElementById('phase').textContent];
                    new MutationObserver(() => window.seenPhases.push(document.getElementById('phase').textContent))
                        .observe(document.getElementById('phase'), { childList: true, characterData: true, subtree: true }); }
            """);
        await page.ClickAsync("button[data-command=seal]");
        await page.ClickAsync("#confirm-yes");
        await Assertions.Expect(page.Locator("#command-result")).ToContainTextAsync("sealed: waiting for the first distillate");
        // The next changes are the controller's own, pushed to the page: the first distillate starts the heads, then the hearts.
        await PanelHost.WaitFor(() => page.EvaluateAsync<string[]>("window.seenPhases").Result.Contains("Hearts"), TimeSpan.FromSeconds(120), "the page to show hearts");
        // The page shows the newest state: a phase shorter than a sample may pass between two of them, the timeline keeps it.
        var seen = (await page.EvaluateAsync<string[]>("window.seenPhases")).Distinct().ToArray();
        Assert.Equal("Loading", seen[0]);
        Assert.Contains("Hearts", seen);
        Assert.True(seen.Length >= 3, string.Join(", ", seen));
        var timeline = await page.Locator("#timeline li").AllTextContentsAsync();
        Assert.Equal(["Loading", "Sealed", "Heads", "Hearts"], timeline.Take(4).Select(t => t.Split(' ')[0]));
        await Assertions.Expect(page.Locator("#fractions tr")).ToHaveCountAsync(2, new() { Timeout = 10_000 });

        // The chart: traces from the batch start, phase bands and the cooling target and limit.
        await Assertions.Expect(page.Locator("#chart svg path[data-trace='trace.vapour']")).ToHaveCountAsync(1);
        Assert.True(await page.Locator("#chart svg line.cooling-limit").CountAsync() >= 3);
        Assert.True(await page.Locator("#chart svg line.cooling-target").CountAsync() >= 3);
        await page.ScreenshotAsync(new() { Path = Path.Combine(PanelBrowser.ScreenshotFolder, "panel-desktop-en.png"), FullPage = true });

        // Switch language: the same still in Chinese, and the choice is kept for the next visit.
        await page.ClickAsync("#lang");
        await Assertions.Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "zh-CN");
        await Assertions.Expect(page.Locator("#phase")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(酒头|酒身|酒尾|蒸粮|完成)$"));
        await Assertions.Expect(page.Locator("button[data-command=seal]")).ToHaveTextAsync("盖盖");
        await page.ScreenshotAsync(new() { Path = Path.Combine(PanelBrowser.ScreenshotFolder, "panel-desktop-zh.png"), FullPage = true });
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#phase")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(酒头|酒身|酒尾|蒸粮|完成)$"));

        // A phone at the still: the same batch, one column, the commands within a thumb's reach.
        var phone = await browser.Open(panel.Url, 390, 844, "zh-CN");
        await Assertions.Expect(phone.Locator("#login-submit")).ToHaveTextAsync("登录");
        await PanelBrowser.SignIn(phone, PanelHost.Operator, PanelHost.OperatorPassword);
        await Assertions.Expect(phone.Locator("#phase")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(酒头|酒身|酒尾|蒸粮|完成)$"));
        var seal = await phone.Locator("button[data-command=seal]").BoundingBoxAsync();
        Assert.NotNull(seal);
        Assert.True(seal.Height >= 56 && seal.Width >= 120, $"seal button {seal.Width}x{seal.Height} px on a phone");
        Assert.True(await phone.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the phone page scrolls sideways");
        await phone.ScreenshotAsync(new() { Path = Path.Combine(PanelBrowser.ScreenshotFolder, "panel-phone-zh.png"), FullPage = false });
        await phone.ScreenshotAsync(new() { Path = Path.Combine(PanelBrowser.ScreenshotFolder, "panel-phone-zh-full.png"), FullPage = true });

        // Offline: the page asked nothing of anything but the panel, and threw nothing.
        Assert.Empty(browser.Outside);
        Assert.Empty(browser.Errors);
        // The loop kept the panel's commands in the batch record, as the operator who gave them.
        using var query = new Reports.JournalQuery(files.PathOf("journal.db"));
        Assert.Equal(new Journal.BatchMetadata("LOT-7", 1200, "pit-12", "from the panel test"), query.Metadata(panel.Cycle.Live.BatchId!));
    }

    [Fact]
    public async Task A_viewer_sees_the_still_but_no_command_buttons()
    {
        using var files = new TestFiles();
        await using var panel = await PanelHost.Start(files);
        await using var browser = await PanelBrowser.Launch();
        var page = await browser.Open(panel.Url, 390, 844, "zh-CN");
        await PanelBrowser.SignIn(page, PanelHost.Viewer, PanelHost.ViewerPassword);
        await Assertions.Expect(page.Locator("#phase")).ToHaveTextAsync("空闲");
        await Assertions.Expect(page.Locator("#commands-card")).ToBeHiddenAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(PanelBrowser.ScreenshotFolder, "panel-phone-viewer-zh.png") });
        // Signing out ends the session: the live stream and state are closed to this browser.
        await page.ClickAsync("#logout");
        await Assertions.Expect(page.Locator("#login-view")).ToBeVisibleAsync();
        var status = await page.EvaluateAsync<int>("fetch('/api/state').then(r => r.status)");
        Assert.Equal(401, status);
        Assert.Empty(browser.Outside);
    }
}
