using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using StillControl.Plant;
using StillControl.Telemetry;
using StillControl.Web;

namespace StillControl.Notifications;

/// <summary>The plant's notification API: a viewer sees the open conditions, only an operator acknowledges one, and an acknowledged one is never escalated.</summary>
public sealed class AcknowledgeApiTests
{
    [Fact]
    public async Task An_operator_acknowledges_through_the_api_a_viewer_cannot_and_bad_bodies_are_400()
    {
        using var broker = new Mosquitto();
        using var receiver = new HttpReceiver();
        using var files = new TestFiles();
        var settings = new Dictionary<string, string?>
        {
            ["Notifications:OutboxPath"] = files.PathOf("outbox.db"),
            ["Notifications:Targets:0:Name"] = "shift",
            ["Notifications:Targets:0:Kind"] = "webhook",
            ["Notifications:Targets:0:Url"] = receiver.Url + "/shift",
            ["Notifications:Targets:1:Name"] = "manager",
            ["Notifications:Targets:1:Kind"] = "webhook",
            ["Notifications:Targets:1:Url"] = receiver.Url + "/manager",
            ["Notifications:Rules:0:Targets:0"] = "shift",
            ["Notifications:Rules:0:EscalateTo:0"] = "manager",
            ["Notifications:Rules:0:EscalateAfterSeconds"] = "20",
        };
        await using var plant = await PlantRig.StartAsync(broker.AnonymousPort, settings: settings);
        new UserStore(plant.UsersFile).AddOrReplace("op", Role.Operator, "operator-password");
        var center = plant.App.Services.GetRequiredService<NotificationCenter>();
        var posted = DateTime.UtcNow;
        center.Post(new PlantEvent("hall-a", "still-1", PlantEventKinds.AlarmRaised, "over-pressure", "pressure high", DateTimeOffset.UtcNow));
        center.Post(new PlantEvent("hall-a", "still-2", PlantEventKinds.AlarmRaised, "over-pressure", "pressure high", DateTimeOffset.UtcNow));
        await receiver.WaitForAsync(2);

        using var viewer = await plant.ClientAsync();
        var open = JsonNode.Parse(await viewer.GetStringAsync("/api/notifications"))!["open"]!.AsArray();
        Assert.Equal(["still-1", "still-2"], open.Select(i => (string?)i!["still"]).ToList());
        var viewerToken = (string)JsonNode.Parse(await viewer.GetStringAsync("/api/me"))!["csrfToken"]!;
        using (var refused = await Post(viewer, viewerToken, """{"site":"hall-a","still":"still-1"}""")) Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        using var operatorClient = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), UseCookies = true }) { BaseAddress = plant.Board };
        using var login = await operatorClient.PostAsJsonAsync("/api/login", new { user = "op", password = "operator-password" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = (string)JsonNode.Parse(await login.Content.ReadAsStringAsync())!["csrfToken"]!;
        using (var noToken = await Post(operatorClient, "wrong", """{"site":"hall-a","still":"still-1"}""")) Assert.Equal(HttpStatusCode.Forbidden, noToken.StatusCode);
        using (var bad = await Post(operatorClient, token, """{"site":"hall-a"}""")) Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using (var notJson = await Post(operatorClient, token, "still-1")) Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        using (var ok = await Post(operatorClient, token, """{"site":"hall-a","still":"still-1","code":"over-pressure"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal(1, (int)JsonNode.Parse(await ok.Content.ReadAsStringAsync())!["acknowledged"]!);
        }
        Assert.True(DateTime.UtcNow - posted < TimeSpan.FromSeconds(20), "the acknowledgement came after the escalation delay: the test cannot tell");

        // Twenty seconds on, only the unacknowledged still-2 is escalated to the manager.
        var escalated = await PlantRig.Until(() => Task.FromResult(receiver.Requests.Where(r => r.PathAndQuery == "/manager").ToList()), l => l.Count > 0, TimeSpan.FromSeconds(60));
        var escalation = JsonNode.Parse(Assert.Single(escalated).Body)!;
        Assert.Equal("escalation", (string?)escalation["type"]);
        Assert.Equal("still-2", (string?)escalation["still"]);
        open = JsonNode.Parse(await viewer.GetStringAsync("/api/notifications"))!["open"]!.AsArray();
        Assert.Equal("op", (string?)open.Single(i => (string?)i!["still"] == "still-1")!["acknowledgedBy"]);
    }

    private static Task<HttpResponseMessage> Post(HttpClient client, string token, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/notifications/ack") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add(WebFoundation.CsrfHeader, token);
        return client.SendAsync(request);
    }
}
