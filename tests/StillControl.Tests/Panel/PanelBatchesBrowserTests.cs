using System.Text.RegularExpressions;
using Microsoft.Playwright;
using StillControl.Cli;

namespace StillControl.Panel;

/// <summary>The Batches and Recipes pages in chromium: a distiller finds a batch, reads its report, downloads its data; a supervisor uploads a recipe.</summary>
public sealed class PanelBatchesBrowserTests
{
    private static string Shot(string name) => Path.Combine(PanelBrowser.ScreenshotFolder, name);

    /// <summary>A screenshot from the top of the page (a full-page shot of a scrolled page draws the sticky header mid-page).</summary>
    private static async Task Screenshot(IPage page, string name, bool fullPage = true)
    {
        await page.EvaluateAsync("window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new() { Path = Shot(name), FullPage = fullPage });
    }

    [Fact]
    public async Task Batches_are_found_reported_and_exported_and_a_supervisor_uploads_a_recipe_in_chromium()
    {
        using var files = new TestFiles();
        var (a, b) = await TwoFinishedBatches.Make(files);
        var journal = files.PathOf("journal.db");
        await using var panel = await PanelHost.Start(files);
        await using var browser = await PanelBrowser.Launch();

        // An operator on a desktop: the navigation, the list, a filter.
        var page = await browser.Open(panel.Url, 1280, 900);
        await Assertions.Expect(page.Locator("#pages")).ToBeHiddenAsync();
        await PanelBrowser.SignIn(page, PanelHost.Operator, PanelHost.OperatorPassword);
        await Assertions.Expect(page.Locator("#pages a[data-page=batches]")).ToHaveTextAsync("Batches");
        await page.ClickAsync("#pages a[data-page=batches]");
        await Assertions.Expect(page.Locator("#batches-view")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#panel-view")).ToBeHiddenAsync();
        var items = page.Locator("#batch-list > li[data-id]");
        await Assertions.Expect(items).ToHaveCountAsync(2);
        Assert.Equal([b, a], await items.EvaluateAllAsync<string[]>("list => list.map(li => li.dataset.id)"));
        await Assertions.Expect(page.Locator("#batch-count")).ToHaveTextAsync("2 of 2 batches");
        // Times in the still's zone (Asia/Shanghai): batch A started on 1 November at 06:0x UTC, 14:0x there.
        await Assertions.Expect(page.Locator($"#batch-list > li[data-id='{a}'] .b-meta")).ToContainTextAsync(new Regex(@"11/01/2026, 14:0\d"));
        await Assertions.Expect(page.Locator($"#batch-list > li[data-id='{a}'] .b-meta")).ToContainTextAsync("LOT-42");

        await page.FillAsync("#bf-search", "lot-42");
        await page.ClickAsync("#bf-apply");
        await Assertions.Expect(items).ToHaveCountAsync(1);
        await Assertions.Expect(items.First).ToHaveAttributeAsync("data-id", a);
        await page.ClickAsync("#bf-clear");
        await Assertions.Expect(items).ToHaveCountAsync(2);
        await page.SelectOptionAsync("#bf-recipe", "mild-test");
        await page.ClickAsync("#bf-apply");
        await Assertions.Expect(items).ToHaveCountAsync(1);
        await Assertions.Expect(items.First).ToHaveAttributeAsync("data-id", b);
        await page.FillAsync("#bf-from", "2026-12-01");
        await page.ClickAsync("#bf-apply");
        await Assertions.Expect(page.Locator("#batch-list li.empty")).ToHaveTextAsync("No batch matches.");
        await page.ClickAsync("#bf-clear");
        await Assertions.Expect(items).ToHaveCountAsync(2);
        await Screenshot(page, "batches-desktop-en.png");

        // The report opens in its own tab: the report verb's page.
        var reportTab = await page.Context.RunAndWaitForPageAsync(() => page.ClickAsync($"#batch-list > li[data-id='{a}'] a[data-report]"));
        await reportTab.WaitForLoadStateAsync();
        Assert.Contains(a, await reportTab.TitleAsync());
        await Assertions.Expect(reportTab.Locator("body")).ToContainTextAsync("LOT-42");
        await Screenshot(reportTab, "batches-report-desktop.png", fullPage: false);
        await reportTab.CloseAsync();

        // An export downloads the file 'stillcontrol export' writes.
        var row = page.Locator($"#batch-list > li[data-id='{b}']");
        await row.Locator("details.exports summary").ClickAsync();
        await Assertions.Expect(row.Locator("a[data-export]")).ToHaveCountAsync(6);
        await Screenshot(page, "batches-exports-desktop-en.png");
        var download = await page.RunAndWaitForDownloadAsync(() => row.Locator("a[data-export='events.csv']").ClickAsync());
        Assert.Equal($"{b}-events.csv", download.SuggestedFilename);
        var saved = files.PathOf("downloaded.csv");
        await download.SaveAsAsync(saved);
        var cliFile = files.PathOf("cli-events.csv");
        var exported = await InProcess.Run("export", b, "--journal", journal, "--table", "events", "--out", cliFile);
        Assert.True(exported.Exit == 0, exported.Error);
        Assert.Equal(await File.ReadAllBytesAsync(cliFile), await File.ReadAllBytesAsync(saved));
        Assert.Contains("batch-started", await File.ReadAllTextAsync(saved));

        // The Recipes page, for an operator: the effective recipe, no upload.
        await page.ClickAsync("#pages a[data-page=recipes]");
        await Assertions.Expect(page.Locator("#recipe-eff-name")).ToHaveTextAsync("strong-aroma-default");
        await Assertions.Expect(page.Locator("#recipe-origin")).ToHaveTextAsync("The built-in recipe.");
        await Assertions.Expect(page.Locator("#upload-form")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#upload-forbidden")).ToBeVisibleAsync();
        // The operator's browser is refused an upload by the server too (403), whatever the page shows.
        var operatorUpload = await page.EvaluateAsync<int>("""
            async () => { const me = await (await fetch('/api/me')).json();
              return (await fetch('/api/recipe?file=x.json', { method: 'POST', headers: { 'X-CSRF-Token': me.csrfToken }, body: '{"name":"x"}' })).status; }
            """);
        Assert.Equal(403, operatorUpload);

        // A viewer's browser: refused as well.
        var viewerPage = await browser.Open(panel.Url, 1280, 900);
        await PanelBrowser.SignIn(viewerPage, PanelHost.Viewer, PanelHost.ViewerPassword);
        var viewerUpload = await viewerPage.EvaluateAsync<int>("""
            async () => { const me = await (await fetch('/api/me')).json();
              return (await fetch('/api/recipe?file=x.json', { method: 'POST', headers: { 'X-CSRF-Token': me.csrfToken }, body: '{"name":"x"}' })).status; }
            """);
        Assert.Equal(403, viewerUpload);

        // A supervisor: a bad recipe shows recipe check's messages; a good one becomes the effective recipe.
        var boss = await browser.Open(panel.Url, 1280, 900);
        await PanelBrowser.SignIn(boss, PanelHost.Supervisor, PanelHost.SupervisorPassword);
        await boss.ClickAsync("#pages a[data-page=recipes]");
        await Assertions.Expect(boss.Locator("#upload-form")).ToBeVisibleAsync();
        var badFile = files.Write("too-hot.json", """{ "name": "too-hot", "interlocks": { "steamPressureTripKilopascals": 500 }, "heads": { "receiver": "" } }""");
        var cli = await InProcess.Run("recipe", "check", badFile);
        Assert.Equal(2, cli.Exit);
        var cliLines = cli.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.TrimEnd('\r').Replace("stillcontrol: ", "", StringComparison.Ordinal).Replace(badFile, "too-hot.json", StringComparison.Ordinal)).ToArray();
        await boss.SetInputFilesAsync("#recipe-file", badFile);
        await boss.ClickAsync("#recipe-check");
        await Assertions.Expect(boss.Locator("#recipe-messages li.bad")).ToHaveCountAsync(cliLines.Length);
        Assert.Equal(cliLines, await boss.Locator("#recipe-messages li").AllTextContentsAsync());
        await Assertions.Expect(boss.Locator("#recipe-result")).ToContainTextAsync($"Not valid: the recipe check found {cliLines.Length} problem(s).");
        await Screenshot(boss, "recipes-check-desktop-en.png");
        await boss.ClickAsync("#recipe-upload");
        await Assertions.Expect(boss.Locator("#recipe-result")).ToHaveClassAsync(new Regex("refused"));
        Assert.Equal("strong-aroma-default", panel.Cycle.Recipe.Name);

        var goodFile = files.Write("gentle.json", """{ "name": "gentle-test", "description": "uploaded in chromium" }""");
        await boss.SetInputFilesAsync("#recipe-file", goodFile);
        await boss.ClickAsync("#recipe-upload");
        await Assertions.Expect(boss.Locator("#recipe-result")).ToContainTextAsync("In use: recipe 'gentle-test' replaces 'strong-aroma-default': the next start uses it");
        await Assertions.Expect(boss.Locator("#recipe-messages li.ok")).ToHaveTextAsync("recipe gentle.json: valid (gentle-test)");
        await Assertions.Expect(boss.Locator("#recipe-eff-name")).ToHaveTextAsync("gentle-test");
        await Assertions.Expect(boss.Locator("#recipe-origin")).ToContainTextAsync($"Uploaded by {PanelHost.Supervisor} on ");
        await Assertions.Expect(boss.Locator("#recipe-history li")).ToHaveCountAsync(1);
        Assert.Equal("gentle-test", panel.Cycle.Recipe.Name);
        await Screenshot(boss, "recipes-desktop-en.png");
        // The live page's start form offers the new recipe.
        await boss.ClickAsync("#pages a[data-page=live]");
        await Assertions.Expect(boss.Locator("#panel-view")).ToBeVisibleAsync();
        await Assertions.Expect(boss.Locator("#recipe-name")).ToHaveTextAsync("gentle-test");

        // A phone at the still, in Chinese: both pages in one column, big targets, nothing scrolls sideways.
        var phone = await browser.Open(panel.Url, 390, 844, "zh-CN");
        await PanelBrowser.SignIn(phone, PanelHost.Supervisor, PanelHost.SupervisorPassword);
        await Assertions.Expect(phone.Locator("#pages a[data-page=batches]")).ToHaveTextAsync("批次");
        await phone.ClickAsync("#pages a[data-page=batches]");
        await Assertions.Expect(phone.Locator("#batch-list > li[data-id]")).ToHaveCountAsync(2);
        await Assertions.Expect(phone.Locator($"#batch-list > li[data-id='{a}'] .outcome")).ToHaveTextAsync("已完成");
        await Assertions.Expect(phone.Locator("#bf-apply")).ToHaveTextAsync("筛选");
        var report = await phone.Locator($"#batch-list > li[data-id='{a}'] a[data-report]").BoundingBoxAsync();
        Assert.NotNull(report);
        Assert.True(report.Height >= 48 && report.Width >= 120, $"report button {report.Width}x{report.Height} px on a phone");
        Assert.True(await phone.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the Batches page scrolls sideways on a phone");
        // Nothing in the filter form reaches past its card.
        Assert.True(await phone.EvaluateAsync<bool>("""
            () => { const card = document.querySelector('#batches-view .card').getBoundingClientRect();
                    return [...document.querySelectorAll('#batch-filter input, #batch-filter select, #batch-filter button')].every(e => e.getBoundingClientRect().right <= card.right + 0.5); }
            """), "a filter field reaches past its card on a phone");
        await Screenshot(phone, "batches-phone-zh.png", fullPage: false);
        await Screenshot(phone, "batches-phone-zh-full.png");
        await phone.ClickAsync("#pages a[data-page=recipes]");
        await Assertions.Expect(phone.Locator("#recipe-eff-name")).ToHaveTextAsync("gentle-test");
        await Assertions.Expect(phone.Locator("#recipe-upload")).ToHaveTextAsync("上传并使用");
        Assert.True(await phone.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the Recipes page scrolls sideways on a phone");
        await Screenshot(phone, "recipes-phone-zh.png", fullPage: false);
        await Screenshot(phone, "recipes-phone-zh-full.png");
        // Switching language on the page changes these pages too; a reload keeps the page.
        await phone.ClickAsync("#lang");
        await Assertions.Expect(phone.Locator("#recipe-upload")).ToHaveTextAsync("Upload and use");
        await phone.ReloadAsync();
        await Assertions.Expect(phone.Locator("#recipes-view")).ToBeVisibleAsync();
        await Assertions.Expect(phone.Locator("#recipe-eff-name")).ToHaveTextAsync("gentle-test");

        // Offline, and no page threw.
        Assert.Empty(browser.Outside);
        Assert.Empty(browser.Errors);
    }
}
