using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StillControl.Cli;
using StillControl.Web;

namespace StillControl.Plant;

/// <summary>
/// The plant service in this process (PlantHost.Build, as <c>stillcontrol plant</c> builds it) on a free loopback port, watching a
/// real broker, with a users file holding a viewer; and fleets of simulated stills as real <c>stillcontrol simulate</c> processes.
/// </summary>
public sealed class PlantRig : IAsyncDisposable
{
    public const string Viewer = "board-viewer";
    public const string ViewerPassword = "looks-at-tiles";

    private readonly List<StillControlProcess> stills = [];

    public TestFiles Files { get; } = new();
    public int Port { get; } = FreePort.Next();
    public WebApplication App { get; private set; } = null!;
    public StillRegistry Registry => App.Services.GetRequiredService<StillRegistry>();
    public ConcurrentQueue<PlantEvent> Events { get; } = new();
    public Uri Board => new($"http://127.0.0.1:{Port}/");
    public string UsersFile => Files.PathOf("users.json");

    public static async Task<PlantRig> StartAsync(int mqttPort, int silentAfterSeconds = 60, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var rig = new PlantRig();
        try
        {
            new UserStore(rig.UsersFile).AddOrReplace(Viewer, Role.Viewer, ViewerPassword);
            var overrides = new Dictionary<string, string?>
            {
                ["Mqtt:Host"] = "127.0.0.1",
                ["Mqtt:Port"] = mqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Plant:SilentAfterSeconds"] = silentAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Panel:Urls"] = $"http://127.0.0.1:{rig.Port}",
                ["Panel:UsersFile"] = rig.UsersFile,
                ["Logging:LogLevel:Default"] = "Warning",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) overrides[key] = value;
            Assert.Empty(PlantHost.Problems(new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(overrides).Build()));
            rig.App = PlantHost.Build(overrides, LogLevel.Warning);
            rig.Registry.Changed += rig.Events.Enqueue;
            await rig.App.StartAsync();
            return rig;
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
    }

    /// <summary>A simulated still publishing to the broker as NAME at SITE, paced at <paramref name="speed"/> times real time.</summary>
    public StillControlProcess StartStill(string site, string name, int mqttPort, double speed = 5, params string[] more)
    {
        var still = StillControlProcess.Start(Files.Folder, ["simulate", "--still", name, "--site", site, "--speed", speed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--mqtt", $"127.0.0.1:{mqttPort}", "--journal", Files.PathOf($"{site}-{name}.db"), .. more]);
        stills.Add(still);
        return still;
    }

    /// <summary>An HTTP client with its own cookie jar, signed in as the viewer unless told not to.</summary>
    public async Task<HttpClient> ClientAsync(bool signIn = true)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), UseCookies = true }) { BaseAddress = Board, Timeout = TimeSpan.FromSeconds(30) };
        if (signIn)
        {
            using var login = await client.PostAsJsonAsync("/api/login", new { user = Viewer, password = ViewerPassword });
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        }
        return client;
    }

    public static async Task<List<JsonElement>> StillsAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/stills");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    /// <summary>Polls until <paramref name="done"/> holds or the deadline passes; the last value either way.</summary>
    public static async Task<T> Until<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var value = await read();
        while (!done(value) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            value = await read();
        }
        return value;
    }

    public async Task<PlantEvent?> EventAsync(Func<PlantEvent, bool> match, TimeSpan timeout) =>
        (await Until(() => Task.FromResult(Events.FirstOrDefault(match)), e => e is not null, timeout));

    public string StillOutput() => string.Join("\n", stills.Select(s => s.Error.Length > 2000 ? s.Error[^2000..] : s.Error));

    public async ValueTask DisposeAsync()
    {
        foreach (var still in stills)
        {
            if (!still.Process.HasExited)
            {
                // A still stopped with SIGSTOP would never see the kill's signal handlers: SIGKILL is delivered anyway.
                still.Process.Kill(entireProcessTree: true);
                still.Process.WaitForExit(10_000);
            }
            still.Dispose();
        }
        if (App is not null)
        {
            try { await App.StopAsync(); } catch (Exception) { }
            await App.DisposeAsync();
        }
        Files.Dispose();
    }
}
