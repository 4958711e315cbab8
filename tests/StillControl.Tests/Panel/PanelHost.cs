using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StillControl.Hosting;
using StillControl.Recipes;
using StillControl.Simulation;
using StillControl.Web;

namespace StillControl.Panel;

/// <summary>
/// The service as <c>simulate --panel</c> builds it, in this process: the simulated still at a chosen pace, the simulated distiller
/// off (the test is the distiller), MQTT off, the panel on a free loopback port, and three users (operator, viewer, supervisor).
/// </summary>
public sealed class PanelHost : IAsyncDisposable
{
    public const string Operator = "li";
    public const string OperatorPassword = "operator-pass-1";
    public const string Viewer = "wang";
    public const string ViewerPassword = "viewer-pass-1";
    public const string Supervisor = "zhang";
    public const string SupervisorPassword = "supervisor-pass-1";

    private readonly IHost host;

    private PanelHost(IHost host, string url, TestFiles files)
    {
        this.host = host;
        Url = url.TrimEnd('/');
        Files = files;
    }

    public string Url { get; }
    public TestFiles Files { get; }
    public IServiceProvider Services => host.Services;
    public ControlCycle Cycle => host.Services.GetRequiredService<ControlCycle>();

    public static async Task<PanelHost> Start(TestFiles files, string? scenarioJson = null, double speed = 20, IDictionary<string, string?>? extra = null, bool distiller = false)
    {
        var users = new UserStore(files.PathOf("users.json"));
        users.AddOrReplace(Operator, Role.Operator, OperatorPassword);
        users.AddOrReplace(Viewer, Role.Viewer, ViewerPassword);
        users.AddOrReplace(Supervisor, Role.Supervisor, SupervisorPassword);
        var overrides = new Dictionary<string, string?>
        {
            ["Journal:Path"] = files.PathOf("journal.db"),
            ["Mqtt:Enabled"] = "false",
            ["Panel:Enabled"] = "true",
            ["Panel:Urls"] = "http://127.0.0.1:0",
            ["Panel:UsersFile"] = users.Path,
            ["Panel:TimeZone"] = "Asia/Shanghai",
            ["Simulation:Distiller"] = distiller ? "true" : "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>()) overrides[key] = value;
        var scenario = scenarioJson is null ? new Scenario() : Cli.Files.LoadScenario(files.Write("scenario.json", scenarioJson));
        // Simulated time never passes the wall clock: a batch run faster than real time starts in the past, or it would crawl.
        var start = DateTimeOffset.UtcNow - TimeSpan.FromHours(12);
        var setup = new SimulationSetup(scenario, 1, speed, false, start, null, TimeSpan.FromHours(1), RealTime: false) { ServePanel = true };
        var host = StillHost.Build([], overrides, DefaultRecipe.Create(), setup, LogLevel.Warning);
        try
        {
            await host.StartAsync();
            var server = host.Services.GetRequiredService<PanelServer>();
            if (server.Addresses.Count == 0) throw new InvalidOperationException("the panel did not start");
            return new PanelHost(host, server.Addresses[0], files);
        }
        catch
        {
            await StopQuietly(host);
            throw;
        }
    }

    /// <summary>A client with its own cookies, not signed in.</summary>
    public HttpClient Client() => new(new HttpClientHandler { CookieContainer = new CookieContainer(), UseCookies = true, AllowAutoRedirect = false })
    {
        BaseAddress = new Uri(Url),
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>A client signed in as <paramref name="user"/>, with its CSRF token.</summary>
    public async Task<(HttpClient Client, string Token)> SignIn(string user, string password)
    {
        var client = Client();
        var response = await client.PostAsJsonAsync("/api/login", new { user, password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("csrfToken").GetString()!;
        return (client, token);
    }

    public static async Task<HttpResponseMessage> Command(HttpClient client, string? token, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/commands") { Content = JsonContent.Create(body) };
        if (token is not null) request.Headers.Add(WebFoundation.CsrfHeader, token);
        return await client.SendAsync(request);
    }

    /// <summary>Polls until <paramref name="condition"/> holds, or fails naming <paramref name="what"/>.</summary>
    public static async Task WaitFor(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync() => await StopQuietly(host);

    private static async Task StopQuietly(IHost host)
    {
        try
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await host.StopAsync(cancel.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
        {
        }
        finally
        {
            if (host is IAsyncDisposable asyncDisposable) await asyncDisposable.DisposeAsync();
            else host.Dispose();
        }
    }
}
