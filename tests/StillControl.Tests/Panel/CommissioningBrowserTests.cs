using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using StillControl.Journal;
using StillControl.Simulation;
using StillControl.Web;

namespace StillControl.Panel;

/// <summary>
/// A supervisor commissions a simulated still from the panel's commissioning page in chromium: readings with their quality, a
/// manual output test that the control loop drives and takes back to safe by itself, and the refusals around it.
/// </summary>
public sealed class CommissioningBrowserTests
{
    /// <summary>Short enough to watch the revert in a test, long enough for the checks made while the output is driven.</summary>
    private const int TestSeconds = 8;

    [Fact]
    public async Task A_supervisor_drives_the_steam_valve_by_hand_and_it_goes_back_to_safe_by_itself()
    {
        using var files = new TestFiles();
        // Real time: the output test's time and lease pass on the loop's clock, as on a real still.
        await using var panel = await PanelHost.Start(files, speed: 1, extra: new Dictionary<string, string?> { ["Panel:OutputTestSeconds"] = TestSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await using var browser = await PanelBrowser.Launch();
        var page = await browser.Open(panel.Url, 1280, 900);
        await PanelBrowser.SignIn(page, PanelHost.Supervisor, PanelHost.SupervisorPassword);

        // The supervisor's panel links to commissioning.
        var link = page.Locator("nav#pages a[href='/commissioning']");
        await Assertions.Expect(link).ToBeVisibleAsync();
        await link.ClickAsync();
        await page.WaitForURLAsync(panel.Url + "/commissioning");
        await Assertions.Expect(page.Locator("#c-view")).ToBeVisibleAsync();

        // Every configured reading with its quality, judged by the loop's quality layer.
        await Assertions.Expect(page.Locator("#c-readings tr[data-channel=vapour] td.quality")).ToHaveTextAsync("good");
        await Assertions.Expect(page.Locator("#c-readings tr[data-channel=cooling-flow] td.num")).ToContainTextAsync("L/min");
        var channels = await page.Locator("#c-readings tr").CountAsync();
        Assert.Equal(panel.Cycle.ConfiguredChannels.Count, channels);
        await Assertions.Expect(page.Locator("#c-onewire li")).ToContainTextAsync("Simulated still");
        await PanelHost.WaitFor(() => panel.Cycle.State.SettledAt is not null, TimeSpan.FromSeconds(30), "the readings to settle");

        // A viewer watches the still's main page meanwhile.
        var watcher = await browser.Open(panel.Url, 1280, 900);
        await PanelBrowser.SignIn(watcher, PanelHost.Viewer, PanelHost.ViewerPassword);
        await Assertions.Expect(watcher.Locator("#held")).ToBeHiddenAsync();

        // Drive the steam valve, confirmed.
        await page.FillAsync("#c-steam-percent", "35");
        await page.ClickAsync(".c-drive[data-output=steam-valve]");
        await Assertions.Expect(page.Locator("#c-confirm")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#c-confirm-text")).ToContainTextAsync($"Steam valve to 35 % for {TestSeconds} s");
        await page.ClickAsync("#c-confirm-yes");
        await Assertions.Expect(page.Locator("#c-result")).ToContainTextAsync("Done: output test: steam-valve at 35 %");
        // The loop drives it: the live state says so, on this page and to every other watcher.
        await Assertions.Expect(page.Locator("#c-steam")).ToHaveTextAsync("35 %");
        await Assertions.Expect(page.Locator("#c-test-status")).ToHaveAttributeAsync("data-active", "true");
        await Assertions.Expect(page.Locator("#c-stop")).ToBeVisibleAsync();
        Assert.Equal(35, panel.Cycle.Live.SteamValvePercent);
        await Assertions.Expect(watcher.Locator("#steam-valve")).ToHaveTextAsync("35 %");
        await Assertions.Expect(watcher.Locator("#held")).ToContainTextAsync("OUTPUT TEST");
        var still = panel.Services.GetRequiredService<SimulatedStill>();
        Assert.Equal(35, still.ModulatingValvePercent);
        // Everything else stays safe; the fitted isolation valve stays shut, so no steam passes.
        Assert.Equal(100, panel.Cycle.Live.CoolingValvePercent);
        Assert.False(still.IsolationOpen);
        Assert.Equal(0, still.Outputs.SteamValvePercent);
        Assert.Null(still.Outputs.Receiver);

        // A start while the test runs is refused with the reason, whoever sends it.
        var (operatorClient, operatorToken) = await panel.SignIn(PanelHost.Operator, PanelHost.OperatorPassword);
        using (operatorClient)
        {
            var start = await (await PanelHost.Command(operatorClient, operatorToken, new { command = "start" })).Content.ReadFromJsonAsync<JsonElement>();
            Assert.False(start.GetProperty("accepted").GetBoolean());
            Assert.Contains("an output test is running (steam-valve at 35 %)", start.GetProperty("reason").GetString());
            // A second output at the same time is refused too.
            var (supervisorClient, supervisorToken) = await panel.SignIn(PanelHost.Supervisor, PanelHost.SupervisorPassword);
            using (supervisorClient)
            {
                var second = await Post(supervisorClient, supervisorToken, "/api/commissioning/test", new { output = "cooling-valve", percent = 20 });
                Assert.Equal(HttpStatusCode.OK, second.StatusCode);
                var answer = await second.Content.ReadFromJsonAsync<JsonElement>();
                Assert.False(answer.GetProperty("accepted").GetBoolean());
                Assert.Contains("one output at a time", answer.GetProperty("reason").GetString());
            }
        }
        await page.ScreenshotAsync(new() { Path = Path.Combine(PanelBrowser.ScreenshotFolder, "commissioning-desktop-en.png"), FullPage = true });

        // Its time passes: back to safe by itself, on the page and at the outputs.
        await Assertions.Expect(page.Locator("#c-test-status")).ToHaveAttributeAsync("data-active", "false", new() { Timeout = (TestSeconds + 20) * 1000 });
        await Assertions.Expect(page.Locator("#c-test-status")).ToContainTextAsync("time is up");
        await Assertions.Expect(page.Locator("#c-steam")).ToHaveTextAsync("0 %");
        await Assertions.Expect(page.Locator("#c-cooling")).ToHaveTextAsync("100 %");
        Assert.Equal(0, still.ModulatingValvePercent);
        Assert.Equal(0, panel.Cycle.Live.SteamValvePercent);
        await Assertions.Expect(watcher.Locator("#held")).ToBeHiddenAsync();
        await Assertions.Expect(watcher.Locator("#steam-valve")).ToHaveTextAsync("0 %");

        // The journal keeps the start, the refused batch start and the revert, each with who.
        await PanelHost.WaitFor(() => Events(files).Any(e => e.Kind == "output-test" && e.Code == "revert"), TimeSpan.FromSeconds(10), "the revert in the journal");
        var events = Events(files);
        Assert.Contains(events, e => e.Kind == "output-test" && e.Code == "start" && e.Message.Contains($"by {PanelHost.Supervisor} (panel)") && e.Message.Contains("steam-valve at 35 %"));
        Assert.Contains(events, e => e.Kind == "output-test" && e.Code == "revert" && e.Message.Contains($"by {PanelHost.Supervisor}") && e.Message.Contains("time is up"));
        Assert.Contains(events, e => e.Kind == "command-refused" && e.Code == "start" && e.Message.Contains($"by {PanelHost.Operator}") && e.Message.Contains("output test is running"));
        Assert.Contains(events, e => e.Kind == "command-refused" && e.Code == "output-test" && e.Message.Contains("one output at a time"));

        // The page going away ends the test at once (not at its time, nor at the lease).
        await page.FillAsync("#c-cooling-percent", "40");
        await page.ClickAsync(".c-drive[data-output=cooling-valve]");
        await page.ClickAsync("#c-confirm-yes");
        await Assertions.Expect(page.Locator("#c-cooling")).ToHaveTextAsync("40 %");
        await page.CloseAsync(new() { RunBeforeUnload = true });
        await PanelHost.WaitFor(() => !panel.Cycle.OutputTestStatus.Active, TimeSpan.FromSeconds(TestSeconds + 10), "the test to end with the page");
        Assert.Contains($"stopped by {PanelHost.Supervisor}", panel.Cycle.OutputTestStatus.LastOutcome);
        await PanelHost.WaitFor(() => panel.Cycle.Live.CoolingValvePercent == 100, TimeSpan.FromSeconds(5), "cooling back to fully open");

        // An operator on the main page sees a test someone else started, and sends it back to safe from there.
        var (byHand, byHandToken) = await panel.SignIn(PanelHost.Supervisor, PanelHost.SupervisorPassword);
        using (byHand)
        {
            var started = await Post(byHand, byHandToken, "/api/commissioning/test", new { output = "cooling-valve", percent = 30 });
            Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        }
        var operatorPage = await browser.Open(panel.Url, 1280, 900);
        await PanelBrowser.SignIn(operatorPage, PanelHost.Operator, PanelHost.OperatorPassword);
        var safe = operatorPage.Locator("#test-safe");
        await Assertions.Expect(safe).ToBeVisibleAsync();
        await safe.ClickAsync();
        await Assertions.Expect(operatorPage.Locator("#command-result")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("accepted"));
        await PanelHost.WaitFor(() => !panel.Cycle.OutputTestStatus.Active, TimeSpan.FromSeconds(5), "the operator's stop to end the test");
        Assert.Contains($"stopped by {PanelHost.Operator}", panel.Cycle.OutputTestStatus.LastOutcome);
        await Assertions.Expect(safe).ToBeHiddenAsync();

        Assert.Empty(browser.Outside);
        Assert.Empty(browser.Errors);
    }

    [Fact]
    public async Task Commissioning_is_for_supervisors_and_no_output_is_tested_while_a_batch_runs()
    {
        using var files = new TestFiles();
        await using var panel = await PanelHost.Start(files, speed: 1);
        await PanelHost.WaitFor(() => panel.Cycle.State.SettledAt is not null, TimeSpan.FromSeconds(30), "the readings to settle");

        // An operator and a viewer: 403 on the survey and on driving an output, nothing driven. Sending a test back to safe is
        // the operator's too (the main page offers it while a test runs); a viewer may not.
        foreach (var (user, password) in new[] { (PanelHost.Operator, PanelHost.OperatorPassword), (PanelHost.Viewer, PanelHost.ViewerPassword) })
        {
            var (client, token) = await panel.SignIn(user, password);
            using (client)
            {
                Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/commissioning")).StatusCode);
                Assert.Equal(HttpStatusCode.Forbidden, (await Post(client, token, "/api/commissioning/test", new { output = "steam-valve", percent = 50 })).StatusCode);
                Assert.Equal(user == PanelHost.Operator ? HttpStatusCode.OK : HttpStatusCode.Forbidden,
                    (await Post(client, token, "/api/commissioning/stop", new { })).StatusCode);
            }
        }
        // Without a session or its token: 401 and 403.
        using (var anonymous = panel.Client())
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/commissioning")).StatusCode);
        }
        var (supervisor, supervisorToken) = await panel.SignIn(PanelHost.Supervisor, PanelHost.SupervisorPassword);
        using var _ = supervisor;
        Assert.Equal(HttpStatusCode.Forbidden, (await Post(supervisor, "wrong-token", "/api/commissioning/test", new { output = "steam-valve", percent = 50 })).StatusCode);
        // Bad bodies: 400 naming what is accepted.
        var bad = await Post(supervisor, supervisorToken, "/api/commissioning/test", new { output = "kettle", percent = 50 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("steam-valve, cooling-valve, diverter", await bad.Content.ReadAsStringAsync());
        var over = await Post(supervisor, supervisorToken, "/api/commissioning/test", new { output = "cooling-valve", percent = 250 });
        Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
        Assert.Equal(0, panel.Cycle.Live.SteamValvePercent);
        Assert.False(panel.Cycle.OutputTestStatus.Active);

        await using var browser = await PanelBrowser.Launch();
        // The operator's page has no commissioning link, and the page itself says why not.
        var operatorPage = await browser.Open(panel.Url, 390, 844, "zh-CN");
        await PanelBrowser.SignIn(operatorPage, PanelHost.Operator, PanelHost.OperatorPassword);
        await Assertions.Expect(operatorPage.Locator("nav#pages a[href='/commissioning']")).ToBeHiddenAsync();
        await operatorPage.GotoAsync(panel.Url + "/commissioning");
        await Assertions.Expect(operatorPage.Locator("#c-denied-text")).ToContainTextAsync("调试需要主管权限");
        await Assertions.Expect(operatorPage.Locator("#c-view")).ToBeHiddenAsync();

        // A batch runs: the supervisor's page shows it and offers no test; the API refuses one with the reason.
        var (operatorClient, operatorToken) = await panel.SignIn(PanelHost.Operator, PanelHost.OperatorPassword);
        using var __ = operatorClient;
        var started = await (await PanelHost.Command(operatorClient, operatorToken, new { command = "start" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(started.GetProperty("accepted").GetBoolean(), started.GetProperty("reason").GetString());
        var phone = await browser.Open(panel.Url, 390, 844, "zh-CN");
        await PanelBrowser.SignIn(phone, PanelHost.Supervisor, PanelHost.SupervisorPassword);
        await phone.ClickAsync("nav#pages a[href='/commissioning']");
        await Assertions.Expect(phone.Locator("#c-phase")).ToContainTextAsync("正在运行");
        await Assertions.Expect(phone.Locator(".c-drive[data-output=diverter]")).ToBeDisabledAsync();
        var refused = await (await Post(supervisor, supervisorToken, "/api/commissioning/test", new { output = "diverter", receiver = panel.Cycle.Recipe.Heads.Receiver })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(refused.GetProperty("accepted").GetBoolean());
        Assert.Contains("is running", refused.GetProperty("reason").GetString());
        Assert.False(panel.Cycle.OutputTestStatus.Active);

        // Aborted: the buttons come back; the phone layout keeps them large and does not scroll sideways.
        var aborted = await (await PanelHost.Command(operatorClient, operatorToken, new { command = "abort" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(aborted.GetProperty("accepted").GetBoolean());
        await Assertions.Expect(phone.Locator(".c-drive[data-output=diverter]")).ToBeEnabledAsync();
        await Assertions.Expect(phone.Locator("#c-readings tr[data-channel=vapour] td.quality")).ToHaveTextAsync("正常");
        var drive = await phone.Locator(".c-drive[data-output=steam-valve]").BoundingBoxAsync();
        Assert.NotNull(drive);
        Assert.True(drive.Height >= 56 && drive.Width >= 200, $"drive button {drive.Width}x{drive.Height} px on a phone");
        Assert.True(await phone.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the phone page scrolls sideways");
        await phone.ScreenshotAsync(new() { Path = Path.Combine(PanelBrowser.ScreenshotFolder, "commissioning-phone-zh.png"), FullPage = false });
        await phone.ScreenshotAsync(new() { Path = Path.Combine(PanelBrowser.ScreenshotFolder, "commissioning-phone-zh-full.png"), FullPage = true });
        Assert.Empty(browser.Outside);
        Assert.Empty(browser.Errors);
    }

    private static async Task<HttpResponseMessage> Post(HttpClient client, string token, string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add(WebFoundation.CsrfHeader, token);
        return await client.SendAsync(request);
    }

    /// <summary>Every event in the journal, as the forwarders read them.</summary>
    private static List<JournalEvent> Events(TestFiles files)
    {
        using var reader = new JournalReader(files.PathOf("journal.db"));
        return reader.EventsAfter(0, 100_000);
    }
}
