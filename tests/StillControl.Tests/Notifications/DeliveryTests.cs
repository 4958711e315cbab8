using System.Text.Json.Nodes;

namespace StillControl.Notifications;

/// <summary>Outbox behaviour on a clock the test moves, against a real HTTP receiver: outages, order, de-duplication, rate limits, escalation, clearing.</summary>
public sealed class DeliveryTests
{
    private static JsonObject Json(ReceivedRequest r) => JsonNode.Parse(r.Body)!.AsObject();

    [Fact]
    public async Task A_target_down_for_an_hour_gets_every_notification_after_it_returns_in_order_once()
    {
        using var receiver = new HttpReceiver();
        receiver.Stop();
        using var fixture = new CenterFixture(new NotificationOptions
        {
            Targets = [CenterFixture.Webhook("hook", receiver.Url + "/in")], Rules = [CenterFixture.All("hook")],
            RetryInitialSeconds = 2, RetryMaximumSeconds = 300,
        });
        // An hour of events while the receiver refuses every connection; the service would try at each retry time.
        var posted = new List<string>();
        var end = fixture.Clock.GetUtcNow() + TimeSpan.FromHours(1);
        var i = 0;
        while (fixture.Clock.GetUtcNow() < end)
        {
            if (i % 4 == 0)
            {
                var code = $"fault-{i / 4:00}";
                fixture.Center.Post(fixture.Event("alarm-raised", code, still: $"still-{i % 3}"));
                posted.Add(code);
            }
            var next = await fixture.Center.DeliverAsync("hook", CancellationToken.None);
            Assert.NotNull(next);
            fixture.Clock.Advance(TimeSpan.FromMinutes(1));
            i++;
        }
        Assert.Empty(receiver.Requests);
        Assert.Equal(posted.Count, fixture.Center.Outbox.PendingCount("hook"));
        // Tried with growing pauses: far fewer tries than the 60 chances, but not given up.
        Assert.InRange(fixture.Center.Outbox.State("hook").Failures, 8, 30);

        receiver.Start();
        for (var k = 0; k < 10 && fixture.Center.Outbox.PendingCount("hook") > 0; k++)
        {
            fixture.Clock.Advance(TimeSpan.FromMinutes(1));
            await fixture.Center.DeliverAsync("hook", CancellationToken.None);
        }
        var received = receiver.Requests;
        Assert.Equal(posted, received.Select(r => (string)Json(r)["code"]!).ToList());
        var ids = received.Select(r => r.Header("Idempotency-Key")).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // Nothing more goes out later: each was delivered once.
        fixture.Clock.Advance(TimeSpan.FromHours(1));
        await fixture.DeliverAllAsync();
        Assert.Equal(posted.Count, receiver.Requests.Count);
    }

    [Fact]
    public async Task The_same_still_and_code_while_open_is_one_notification_with_a_count_and_cleared_says_how_often()
    {
        using var receiver = new HttpReceiver();
        using var fixture = new CenterFixture(new NotificationOptions { Targets = [CenterFixture.Webhook("hook", receiver.Url)], Rules = [CenterFixture.All("hook")] });
        for (var n = 0; n < 4; n++) fixture.Center.Post(fixture.Event("alarm-raised", "over-pressure"));
        fixture.Center.Post(fixture.Event("alarm-raised", "over-pressure", still: "still-2"));
        await fixture.DeliverAllAsync();
        var first = await receiver.WaitForAsync(2);
        Assert.Equal(2, first.Count);
        Assert.Equal(4, (int)Json(first[0])["count"]!);
        Assert.Contains("Seen 4 times", (string)Json(first[0])["text"]!);
        Assert.Equal("still-2", (string)Json(first[1])["still"]!);

        // Again while open, after it was sent: counted, not sent again.
        fixture.Center.Post(fixture.Event("alarm-raised", "over-pressure"));
        await fixture.DeliverAllAsync();
        Assert.Equal(2, receiver.Requests.Count);

        fixture.Clock.Advance(TimeSpan.FromMinutes(3));
        fixture.Center.Post(fixture.Event("alarm-cleared", "over-pressure", message: "pressure back to 60 kPa"));
        await fixture.DeliverAllAsync();
        var cleared = Json((await receiver.WaitForAsync(3))[2]);
        Assert.Equal("cleared", (string)cleared["type"]!);
        Assert.Equal("still-1", (string)cleared["still"]!);
        Assert.Equal(5, (int)cleared["count"]!);
        Assert.StartsWith("[CLEARED TRIP] hall-a/still-1: over-pressure", (string)cleared["title"]!);
        Assert.Contains("pressure back to 60 kPa", (string)cleared["text"]!);
        Assert.Contains("Cleared at 2026-11-30 14:03:00 +08:00 (06:03:00 UTC)", (string)cleared["text"]!);

        // Once cleared, the same code again is a new notification.
        fixture.Center.Post(fixture.Event("alarm-raised", "over-pressure"));
        await fixture.DeliverAllAsync();
        var again = Json((await receiver.WaitForAsync(4))[3]);
        Assert.Equal("raised", (string)again["type"]!);
        Assert.Equal(1, (int)again["count"]!);
    }

    [Fact]
    public async Task Past_its_rate_limit_a_target_gets_one_digest_of_the_rest_never_losing_any()
    {
        using var receiver = new HttpReceiver();
        var target = CenterFixture.Webhook("hook", receiver.Url);
        target.RateLimitCount = 3;
        target.RateLimitSeconds = 60;
        using var fixture = new CenterFixture(new NotificationOptions { Targets = [target], Rules = [CenterFixture.All("hook")] });
        var codes = Enumerable.Range(0, 10).Select(n => $"fault-{n}").ToList();
        foreach (var code in codes) fixture.Center.Post(fixture.Event("alarm-raised", code));
        await fixture.DeliverAllAsync();
        var got = await receiver.WaitForAsync(3);
        Assert.Equal(3, got.Count);
        Assert.Equal(["raised", "raised", "digest"], got.Select(r => (string)Json(r)["type"]!).ToList());
        var digest = Json(got[2]);
        Assert.Equal(codes[2..], digest["items"]!.AsArray().Select(item => (string)item!["code"]!).ToList());
        Assert.StartsWith("StillControl: 8 notifications", (string)digest["title"]!);
        foreach (var code in codes[2..]) Assert.Contains(code, (string)digest["text"]!);

        // Within the window nothing more goes out; once it has passed, the waiting message does.
        fixture.Center.Post(fixture.Event("alarm-raised", "late-fault"));
        fixture.Clock.Advance(TimeSpan.FromSeconds(30));
        var next = await fixture.Center.DeliverAsync("hook", CancellationToken.None);
        Assert.Equal(3, receiver.Requests.Count);
        Assert.Equal(fixture.Clock.GetUtcNow() + TimeSpan.FromSeconds(30), next);
        fixture.Clock.Advance(TimeSpan.FromSeconds(31));
        await fixture.DeliverAllAsync();
        Assert.Equal("late-fault", (string)Json((await receiver.WaitForAsync(4))[3])["code"]!);
        Assert.Equal(0, fixture.Center.Outbox.PendingCount());
    }

    [Fact]
    public async Task Nobody_acknowledging_within_the_delay_escalates_and_an_acknowledgement_at_the_still_or_by_api_prevents_it()
    {
        using var shift = new HttpReceiver();
        using var manager = new HttpReceiver();
        var rule = CenterFixture.All("shift");
        rule.EscalateTo = ["manager"];
        rule.EscalateAfterSeconds = 900;
        using var fixture = new CenterFixture(new NotificationOptions
        {
            Targets = [CenterFixture.Webhook("shift", shift.Url), CenterFixture.Webhook("manager", manager.Url, language: "zh-CN")], Rules = [rule],
        });
        fixture.Center.Post(fixture.Event("alarm-raised", "over-pressure", still: "still-1"));
        fixture.Center.Post(fixture.Event("alarm-raised", "over-pressure", still: "still-2"));
        fixture.Center.Post(fixture.Event("held", "heat-balance", still: "still-3"));
        await fixture.DeliverAllAsync();
        Assert.Equal(3, (await shift.WaitForAsync(3)).Count);

        fixture.Clock.Advance(TimeSpan.FromSeconds(600));
        // still-2 is acknowledged at the still; still-3 through the API.
        fixture.Center.Post(fixture.Event("alarm-acknowledged", "", still: "still-2", message: "operator"));
        Assert.Equal(1, fixture.Center.Acknowledge("hall-a", "still-3", null, "li.wei"));
        fixture.Clock.Advance(TimeSpan.FromSeconds(299));
        Assert.Equal(fixture.Clock.GetUtcNow() + TimeSpan.FromSeconds(1), fixture.Center.CheckEscalations());
        await fixture.DeliverAllAsync();
        Assert.Empty(manager.Requests);

        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        await fixture.DeliverAllAsync();
        var escalation = Json(Assert.Single(await manager.WaitForAsync(1)));
        Assert.Equal("escalation", (string)escalation["type"]!);
        Assert.Equal("still-1", (string)escalation["still"]!);
        Assert.StartsWith("【升级·跳闸】hall-a/still-1：over-pressure", (string)escalation["title"]!);
        Assert.Contains("15 分钟内无人确认", (string)escalation["text"]!);
        Assert.Null(fixture.Center.CheckEscalations());

        // Clearing an escalated incident tells both; clearing an acknowledged one only the shift.
        fixture.Center.Post(fixture.Event("alarm-cleared", "over-pressure", still: "still-1"));
        fixture.Center.Post(fixture.Event("released", "", still: "still-3"));
        await fixture.DeliverAllAsync();
        var toShift = (await shift.WaitForAsync(5)).Skip(3).Select(Json).ToList();
        Assert.Equal([("cleared", "still-1"), ("cleared", "still-3")], toShift.Select(j => ((string)j["type"]!, (string)j["still"]!)).ToList());
        Assert.Contains("Acknowledged by li.wei", (string)toShift[1]["text"]!);
        var toManager = await manager.WaitForAsync(2);
        Assert.Equal("cleared", (string)Json(toManager[1])["type"]!);
        Assert.StartsWith("【已恢复·跳闸】", (string)Json(toManager[1])["title"]!);
    }

    [Fact]
    public async Task Rules_send_each_event_kind_code_still_and_site_to_their_own_targets()
    {
        using var a = new HttpReceiver();
        using var b = new HttpReceiver();
        using var fixture = new CenterFixture(new NotificationOptions
        {
            Targets = [CenterFixture.Webhook("a", a.Url), CenterFixture.Webhook("b", b.Url)],
            Rules =
            [
                new NotificationRule { Kinds = ["alarm-raised", "offline"], Targets = ["a"], Severity = "critical" },
                new NotificationRule { Kinds = ["advisory"], Codes = ["seal"], Sites = ["hall-b"], Targets = ["b"], Severity = "info" },
                new NotificationRule { Stills = ["still-9"], Targets = ["b"] },
            ],
        });
        fixture.Center.Post(fixture.Event("alarm-raised", "over-pressure"));
        fixture.Center.Post(fixture.Event("advisory", "seal", site: "hall-b"));
        fixture.Center.Post(fixture.Event("advisory", "seal"));
        fixture.Center.Post(fixture.Event("advisory", "cover-layer", site: "hall-b"));
        fixture.Center.Post(fixture.Event("backlog", "journal-backlog", still: "still-9"));
        fixture.Center.Post(fixture.Event("offline", "still-offline", still: "still-9"));
        await fixture.DeliverAllAsync();
        await a.WaitForAsync(2);
        await b.WaitForAsync(3);
        Assert.Equal(["over-pressure", "still-offline"], a.Requests.Select(r => (string)Json(r)["code"]!).ToList());
        Assert.Equal(["seal", "journal-backlog", "still-offline"], b.Requests.Select(r => (string)Json(r)["code"]!).ToList());
        Assert.Equal("info", (string)Json(b.Requests[0])["severity"]!);
        Assert.Equal("critical", (string)Json(b.Requests[2])["severity"]!);
    }

    [Fact]
    public async Task What_was_queued_before_a_restart_is_sent_after_it_by_the_background_service_in_order()
    {
        using var receiver = new HttpReceiver();
        receiver.Stop();
        using var files = new TestFiles();
        var outbox = files.PathOf("outbox.db");
        var settings = new Dictionary<string, string?>
        {
            ["Notifications:OutboxPath"] = outbox,
            ["Notifications:RetryInitialSeconds"] = "1",
            ["Notifications:RetryMaximumSeconds"] = "1",
            ["Notifications:Targets:0:Kind"] = "webhook",
            ["Notifications:Targets:0:Name"] = "hook",
            ["Notifications:Targets:0:Url"] = receiver.Url + "/in",
            ["Notifications:Rules:0:Targets:0"] = "hook",
        };
        var codes = new List<string>();
        using (var first = NotificationHost(settings))
        {
            await first.StartAsync();
            var center = (NotificationCenter)first.Services.GetService(typeof(NotificationCenter))!;
            for (var n = 0; n < 5; n++)
            {
                codes.Add($"fault-{n}");
                center.Post(new Plant.PlantEvent("hall-a", "still-1", "alarm-raised", codes[^1], "trip", DateTimeOffset.UtcNow));
            }
            // The first try has failed (the receiver refuses) before the stop.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (center.Outbox.State("hook").Failures == 0) { Assert.True(DateTime.UtcNow < deadline, "no delivery attempt"); await Task.Delay(20); }
            await first.StopAsync();
        }
        receiver.Start();
        using var second = NotificationHost(settings);
        await second.StartAsync();
        var received = await receiver.WaitForAsync(5);
        Assert.Equal(codes, received.Select(r => (string)Json(r)["code"]!).ToList());
        var center2 = (NotificationCenter)second.Services.GetService(typeof(NotificationCenter))!;
        var drained = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (center2.Outbox.PendingCount() > 0) { Assert.True(DateTime.UtcNow < drained); await Task.Delay(20); }
        await second.StopAsync();
        Assert.Equal(5, receiver.Requests.Count);
    }

    internal static Microsoft.Extensions.Hosting.IHost NotificationHost(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new Microsoft.Extensions.Hosting.HostApplicationBuilderSettings { DisableDefaults = true });
        Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(builder.Configuration, settings);
        Microsoft.Extensions.DependencyInjection.LoggingServiceCollectionExtensions.AddLogging(builder.Services);
        builder.Services.AddNotifications();
        return builder.Build();
    }
}
