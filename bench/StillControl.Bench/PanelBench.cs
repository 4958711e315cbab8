using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using StillControl.Hosting;
using StillControl.Panel;
using StillControl.Recipes;
using StillControl.Simulation;
using StillControl.Web;

namespace StillControl.Bench;

/// <summary>
/// The panel's figures, on the service as <c>run</c> builds it (real time, 250 ms loop, the simulated distiller working a batch):
/// reading at the loop → shown in chromium (p50, p99); the loop's lateness with 0 and with 50 live SSE clients; page weight and
/// load time on loopback. Run: dotnet run -c Release --project bench/StillControl.Bench -- panel [SECONDS per condition]
/// </summary>
public static class PanelBench
{
    private sealed class TickWatch : ICycleObserver
    {
        private readonly object gate = new();
        private readonly List<double> intervals = [];
        private long last;
        public bool Recording { get; set; }

        public void AfterStep(ControlCycle cycle, DateTimeOffset now)
        {
            var tick = Stopwatch.GetTimestamp();
            if (last != 0 && Recording)
            {
                lock (gate) intervals.Add(Stopwatch.GetElapsedTime(last, tick).TotalMilliseconds);
            }
            last = tick;
        }

        public List<double> Take()
        {
            lock (gate)
            {
                var taken = intervals.ToList();
                intervals.Clear();
                return taken;
            }
        }
    }

    public static async Task RunAsync(string[] args)
    {
        var seconds = args.Length >= 2 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 30;
        Console.WriteLine($"panel bench: runtime {Environment.Version}, {Environment.ProcessorCount} cores, {seconds} s per condition, loop period 250 ms, real time");
        using var files = new TestFiles();
        var users = new UserStore(files.PathOf("users.json"));
        users.AddOrReplace("bench", Role.Operator, "bench-password");
        var overrides = new Dictionary<string, string?>
        {
            ["Journal:Path"] = files.PathOf("journal.db"),
            ["Mqtt:Enabled"] = "false",
            ["Panel:Urls"] = "http://127.0.0.1:0",
            ["Panel:UsersFile"] = users.Path,
            ["Panel:LoginAttempts"] = "1000",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var setup = new SimulationSetup(new Scenario(), 1, 1, false, DateTimeOffset.UtcNow, null, TimeSpan.FromHours(1), RealTime: true) { ServePanel = true };
        using var host = StillHost.Build([], overrides, DefaultRecipe.Create(), setup, LogLevel.Warning);
        var watch = new TickWatch();
        host.Services.GetRequiredService<ControlCycle>().AddObserver(watch);
        await host.StartAsync();
        try
        {
            var url = host.Services.GetRequiredService<PanelServer>().Addresses[0];
            var period = host.Services.GetRequiredService<ControlOptions>().Period.TotalMilliseconds;
            await Task.Delay(TimeSpan.FromSeconds(5));

            // Page weight and load time on loopback.
            using (var plain = new HttpClient { BaseAddress = new Uri(url) })
            {
                var times = new List<double>();
                long bytes = 0;
                for (var round = 0; round < 6; round++)
                {
                    bytes = 0;
                    var load = Stopwatch.StartNew();
                    foreach (var asset in new[] { "/", "/assets/panel.css", "/assets/panel.js", "/assets/chart.js", "/assets/icon.svg" })
                    {
                        bytes += (await plain.GetByteArrayAsync(asset)).Length;
                    }
                    times.Add(load.Elapsed.TotalMilliseconds);
                }
                Console.WriteLine($"page weight: {bytes / 1024.0:0.0} KiB uncompressed in 5 files (no external asset); all fetched over HTTP/1.1 on loopback in {times[0]:0.0} ms cold, {times.Skip(1).Order().ElementAt(2):0.0} ms warm (median of 5)");
            }

            // Loop lateness with no client.
            watch.Recording = true;
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            Report("0 SSE clients", watch.Take(), period);

            // 50 live clients, each reading the stream as it comes.
            using var cookies = new HttpClientHandler { CookieContainer = new CookieContainer() };
            using var client = new HttpClient(cookies) { BaseAddress = new Uri(url), Timeout = Timeout.InfiniteTimeSpan };
            var login = await client.PostAsJsonAsync("/api/login", new { user = "bench", password = "bench-password" });
            login.EnsureSuccessStatusCode();
            using var stop = new CancellationTokenSource();
            long messages = 0;
            var readers = Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
            {
                try
                {
                    using var stream = await client.GetStreamAsync("/api/events", stop.Token);
                    var buffer = new byte[65536];
                    int read;
                    while ((read = await stream.ReadAsync(buffer, stop.Token)) > 0)
                    {
                        for (var i = 0; i < read; i++) if (buffer[i] == (byte)'\n' && i > 0 && buffer[i - 1] == (byte)'\n') Interlocked.Increment(ref messages);
                    }
                }
                catch (OperationCanceledException)
                {
                }
            })).ToList();
            await Task.Delay(TimeSpan.FromSeconds(2));
            watch.Take();
            Interlocked.Exchange(ref messages, 0);
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            Report("50 SSE clients", watch.Take(), period);
            Console.WriteLine($"  messages delivered: {Interlocked.Read(ref messages) / 50.0 / seconds:0.00} per client per second; clients connected {host.Services.GetRequiredService<PanelServer>().Broadcaster.ClientCount}");

            // Reading at the loop -> shown in chromium, with the 50 clients still connected.
            Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox", "--disable-gpu"] });
            var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
            var open = Stopwatch.StartNew();
            await page.GotoAsync(url + "/");
            var domLoaded = open.Elapsed.TotalMilliseconds;
            await page.FillAsync("#login-user", "bench");
            await page.FillAsync("#login-password", "bench-password");
            var signIn = Stopwatch.StartNew();
            await page.ClickAsync("#login-submit");
            // (Polled from here: the page's Content-Security-Policy forbids the eval a string predicate would need.)
            while (!await page.EvaluateAsync<bool>("() => !!window.stillcontrolShownLags && window.stillcontrolShownLags.length > 0")) await Task.Delay(5);
            Console.WriteLine($"page load: {domLoaded:0} ms to loaded (navigation), sign-in to first live state shown {signIn.Elapsed.TotalMilliseconds:0} ms");
            await page.EvaluateAsync("() => { window.stillcontrolShownLags.length = 0; }");
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var lags = (await page.EvaluateAsync<double[]>("() => window.stillcontrolShownLags")).Order().ToList();
            Console.WriteLine($"reading at the loop -> shown in chromium: n={lags.Count} p50 {Percentile(lags, 0.5):0} ms, p99 {Percentile(lags, 0.99):0} ms, max {lags.LastOrDefault():0} ms (50 other SSE clients connected)");
            await stop.CancelAsync();
            await Task.WhenAll(readers);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static void Report(string label, List<double> intervals, double period)
    {
        var lateness = intervals.Select(i => Math.Max(0, i - period)).Order().ToList();
        Console.WriteLine($"control loop, {label}: {intervals.Count} steps, step-to-step lateness p50 {Percentile(lateness, 0.5):0.00} ms, p99 {Percentile(lateness, 0.99):0.00} ms, max {lateness.LastOrDefault():0.00} ms");
    }

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
