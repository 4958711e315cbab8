using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using StillControl.Process;
using StillControl.Web;

namespace StillControl.Panel;

/// <summary>The panel's doors, tried with a plain HTTP client against the real server in the service.</summary>
public sealed class PanelSecurityTests
{
    [Fact]
    public async Task Health_answers_without_a_session_and_the_state_needs_one()
    {
        using var files = new TestFiles();
        await using var panel = await PanelHost.Start(files);
        using var anonymous = panel.Client();
        var health = await anonymous.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok", (await health.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/state")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/events")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/chart")).StatusCode);

        var (viewer, _) = await panel.SignIn(PanelHost.Viewer, PanelHost.ViewerPassword);
        using (viewer)
        {
            JsonElement state = default;
            await PanelHost.WaitFor(() =>
            {
                var response = viewer.GetAsync("/api/state").Result;
                if (response.StatusCode != HttpStatusCode.OK) return false;
                state = response.Content.ReadFromJsonAsync<JsonElement>().Result;
                // The loop settles before its first readings: wait for the state that has them.
                return state.GetProperty("readings").EnumerateArray().Any(r => r.GetProperty("channel").GetString() == "vapour" && r.GetProperty("quality").GetString() == "good");
            }, TimeSpan.FromSeconds(20), "the first published state with readings");
            Assert.Equal("idle", state.GetProperty("live").GetProperty("phase").GetString());
            Assert.Equal("Asia/Shanghai", state.GetProperty("timeZone").GetString());
            Assert.Contains(state.GetProperty("readings").EnumerateArray(), r => r.GetProperty("channel").GetString() == "vapour" && r.GetProperty("quality").GetString() == "good");
        }
    }

    [Fact]
    public async Task Wrong_password_is_401_and_a_login_without_a_proper_body_is_400()
    {
        using var files = new TestFiles();
        await using var panel = await PanelHost.Start(files);
        using var client = panel.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/api/login", new { user = PanelHost.Operator, password = "not-the-password" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/api/login", new { user = "nobody", password = "whatever-it-is" })).StatusCode);
        var malformed = await client.PostAsync("/api/login", new StringContent("{\"user\": \"li\", ", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("not valid JSON", (await malformed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        var wrongShape = await client.PostAsJsonAsync("/api/login", new { user = 5, password = true });
        Assert.Equal(HttpStatusCode.BadRequest, wrongShape.StatusCode);
    }

    [Fact]
    public async Task No_command_without_a_session_a_token_or_the_role()
    {
        using var files = new TestFiles();
        await using var panel = await PanelHost.Start(files);
        using var anonymous = panel.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await PanelHost.Command(anonymous, null, new { command = "hold" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PanelHost.Command(anonymous, "made-up-token", new { command = "hold" })).StatusCode);

        var (client, token) = await panel.SignIn(PanelHost.Operator, PanelHost.OperatorPassword);
        using (client)
        {
            var missing = await PanelHost.Command(client, null, new { command = "start" });
            Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
            Assert.Contains("X-CSRF-Token", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
            Assert.Equal(HttpStatusCode.Forbidden, (await PanelHost.Command(client, token + "x", new { command = "start" })).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await PanelHost.Command(client, "", new { command = "start" })).StatusCode);
            // None of those reached the controller: still idle, no batch.
            Assert.Null(panel.Cycle.Live.BatchId);

            // With the token the command goes through the controller, which answers with its reason.
            var refused = await PanelHost.Command(client, token, new { command = "seal" });
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            var result = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.False(result.GetProperty("accepted").GetBoolean());
            Assert.Contains("seal is for a loading batch", result.GetProperty("reason").GetString());
        }
    }

    [Fact]
    public async Task A_viewer_trying_every_command_gets_403_and_nothing_reaches_the_controller()
    {
        using var files = new TestFiles();
        await using var panel = await PanelHost.Start(files);
        var (viewer, token) = await panel.SignIn(PanelHost.Viewer, PanelHost.ViewerPassword);
        using (viewer)
        {
            foreach (var command in CommandKinds.Names)
            {
                var response = await PanelHost.Command(viewer, token, new { command, argument = command == "ack" ? "cooling-water-loss" : null });
                Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
                Assert.Contains("viewer", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
            }
        }
        // Nothing was journaled as a command: the journal holds no batch and the loop never saw a start.
        Assert.Null(panel.Cycle.Live.BatchId);
        Assert.Equal("idle", panel.Cycle.Live.Phase);
    }

    [Fact]
    public async Task Session_fixation_a_sign_in_never_keeps_the_session_id_the_browser_came_with()
    {
        using var files = new TestFiles();
        await using var panel = await PanelHost.Start(files);
        var cookies = new CookieContainer();
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = new Uri(panel.Url) };
        var first = await client.PostAsJsonAsync("/api/login", new { user = PanelHost.Operator, password = PanelHost.OperatorPassword });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var firstId = cookies.GetCookies(new Uri(panel.Url))[WebFoundation.SessionCookie]!.Value;
        var setCookie = first.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);

        // Signing in again (as someone else, with the old cookie sent along) gives a new id and ends the old session.
        var second = await client.PostAsJsonAsync("/api/login", new { user = PanelHost.Viewer, password = PanelHost.ViewerPassword });
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var secondId = cookies.GetCookies(new Uri(panel.Url))[WebFoundation.SessionCookie]!.Value;
        Assert.NotEqual(firstId, secondId);
        using var planted = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = new Uri(panel.Url) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        request.Headers.Add("Cookie", $"{WebFoundation.SessionCookie}={firstId}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await planted.SendAsync(request)).StatusCode);

        // A made-up id planted before signing in is not adopted either.
        using var fixedClient = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = new Uri(panel.Url) };
        using var login = new HttpRequestMessage(HttpMethod.Post, "/api/login") { Content = JsonContent.Create(new { user = PanelHost.Operator, password = PanelHost.OperatorPassword }) };
        login.Headers.Add("Cookie", $"{WebFoundation.SessionCookie}=attacker-chosen-id");
        var answer = await fixedClient.SendAsync(login);
        var issued = answer.Headers.GetValues("Set-Cookie").Single();
        Assert.DoesNotContain("attacker-chosen-id", issued);
        Assert.StartsWith($"{WebFoundation.SessionCookie}=", issued);
    }

    [Fact]
    public async Task Brute_force_hits_the_rate_limit_even_with_the_right_password_then()
    {
        using var files = new TestFiles();
        await using var panel = await PanelHost.Start(files, extra: new Dictionary<string, string?> { ["Panel:LoginAttempts"] = "3", ["Panel:LoginWindowSeconds"] = "600" });
        using var client = panel.Client();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await client.PostAsJsonAsync("/api/login", new { user = PanelHost.Operator, password = $"guess-{i}-wrong" })).StatusCode);
        }
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        var right = await client.PostAsJsonAsync("/api/login", new { user = PanelHost.Operator, password = PanelHost.OperatorPassword });
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        Assert.True(right.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        // The limit also holds for other names from the same address (a sweep over user names).
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PostAsJsonAsync("/api/login", new { user = PanelHost.Viewer, password = PanelHost.ViewerPassword })).StatusCode);
    }

    [Fact]
    public async Task Oversized_and_malformed_command_bodies_are_400_with_a_reason()
    {
        using var files = new TestFiles();
        await using var panel = await PanelHost.Start(files);
        var (client, token) = await panel.SignIn(PanelHost.Operator, PanelHost.OperatorPassword);
        using (client)
        {
            async Task<string> BadRequest(HttpContent content)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/commands") { Content = content };
                request.Headers.Add(WebFoundation.CsrfHeader, token);
                var response = await client.SendAsync(request);
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()!;
            }
            Assert.Contains("at most 16384", await BadRequest(new StringContent("{\"command\":\"hold\",\"argument\":\"" + new string('x', 100_000) + "\"}", Encoding.UTF8, "application/json")));
            Assert.Contains("not valid JSON", await BadRequest(new StringContent("{\"command\":", Encoding.UTF8, "application/json")));
            Assert.Contains("JSON array", await BadRequest(new StringContent("[1,2]", Encoding.UTF8, "application/json")));
            Assert.Contains("no body", await BadRequest(new StringContent("", Encoding.UTF8, "application/json")));
            Assert.Contains("application/json", await BadRequest(new StringContent("command=hold", Encoding.UTF8, "application/x-www-form-urlencoded")));
            Assert.Contains("one of start, seal", await BadRequest(JsonContent.Create(new { command = "open-steam" })));
            Assert.Contains("\"argument\": text", await BadRequest(JsonContent.Create(new { command = "ack", argument = 12 })));
            Assert.Contains("grainKilograms", await BadRequest(JsonContent.Create(new { command = "start", metadata = new { grainKilograms = -5 } })));
            Assert.Contains("\"metadata\"", await BadRequest(JsonContent.Create(new { command = "start", metadata = new { colour = "red" } })));
            // A chunked body with no length given is cut off at the limit too.
            var chunked = new UnknownLength(Encoding.UTF8.GetBytes("{\"command\":\"hold\",\"notes\":\"" + new string('y', 50_000) + "\"}"));
            chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            Assert.Contains("larger than", await BadRequest(chunked));
        }
        Assert.Null(panel.Cycle.Live.BatchId);
    }

    [Fact]
    public async Task Start_from_the_panel_is_journaled_with_the_signed_in_user_and_the_metadata()
    {
        using var files = new TestFiles();
        await using var panel = await PanelHost.Start(files);
        var (client, token) = await panel.SignIn(PanelHost.Operator, PanelHost.OperatorPassword);
        using (client)
        {
            await PanelHost.WaitFor(() => panel.Cycle.State.SettledAt is not null, TimeSpan.FromSeconds(30), "the readings to settle");
            var response = await PanelHost.Command(client, token, new { command = "start", metadata = new { grainLot = "高粱-2026-11", grainKilograms = 1150.5, pit = "窖-17", notes = "first layer wet" } });
            var result = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(result.GetProperty("accepted").GetBoolean(), result.ToString());
            var batch = result.GetProperty("batchId").GetString()!;
            Assert.True(result.GetProperty("metadataSaved").GetBoolean());
            await PanelHost.WaitFor(() => panel.Cycle.Live.Phase == "loading", TimeSpan.FromSeconds(10), "loading");
            var hold = await (await PanelHost.Command(client, token, new { command = "hold" })).Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(hold.GetProperty("accepted").GetBoolean());

            using var query = new Reports.JournalQuery(files.PathOf("journal.db"));
            var metadata = query.Metadata(batch);
            Assert.Equal(new Journal.BatchMetadata("高粱-2026-11", 1150.5, "窖-17", "first layer wet"), metadata);
            // The controller's own record names the signed-in user and the panel, as it names MQTT's senders.
            await PanelHost.WaitFor(() =>
            {
                var state = client.GetFromJsonAsync<JsonElement>("/api/state").Result;
                return state.GetProperty("events").EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "command-accepted"
                    && e.GetProperty("message").GetString()!.StartsWith($"hold by {PanelHost.Operator} ({PanelServer.Source})", StringComparison.Ordinal));
            }, TimeSpan.FromSeconds(10), "the hold in the controller's events");
        }
    }

    /// <summary>A body sent chunked, with no Content-Length for the server to judge it by.</summary>
    private sealed class UnknownLength(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
