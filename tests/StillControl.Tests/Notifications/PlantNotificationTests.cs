using System.Text.Json.Nodes;
using StillControl.Cli;
using StillControl.Plant;
using StillControl.Telemetry;

namespace StillControl.Notifications;

/// <summary>
/// End to end: a real <c>stillcontrol simulate</c> process with a fault that trips, a real Mosquitto, the plant host with its
/// notifications module, a real HTTP receiver and a real SMTP server. The trip reaches both within seconds of the plant seeing
/// it; a still gone silent reaches them as still-offline within the configured time, and its return as cleared.
/// </summary>
public sealed class PlantNotificationTests
{
    [Fact]
    public async Task A_trip_at_a_simulated_still_reaches_the_webhook_and_the_mail_sink_and_a_silent_still_is_still_offline_then_cleared()
    {
        const int silentAfter = 5;
        using var broker = new Mosquitto();
        using var receiver = new HttpReceiver();
        using var sink = new SmtpSink();
        using var files = new TestFiles();
        var settings = new Dictionary<string, string?>
        {
            ["Notifications:OutboxPath"] = files.PathOf("outbox.db"),
            ["Notifications:TimeZone"] = "Asia/Shanghai",
            ["Notifications:Targets:0:Name"] = "hook",
            ["Notifications:Targets:0:Kind"] = "webhook",
            ["Notifications:Targets:0:Url"] = receiver.Url + "/plant",
            ["Notifications:Targets:0:Language"] = "en",
            ["Notifications:Targets:1:Name"] = "mail",
            ["Notifications:Targets:1:Kind"] = "email",
            ["Notifications:Targets:1:Host"] = "127.0.0.1",
            ["Notifications:Targets:1:Port"] = sink.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Notifications:Targets:1:Tls"] = "none",
            ["Notifications:Targets:1:From"] = "plant@example.org",
            ["Notifications:Targets:1:To:0"] = "night-shift@example.org",
            ["Notifications:Rules:0:Kinds:0"] = "alarm-raised",
            ["Notifications:Rules:0:Kinds:1"] = "offline",
            ["Notifications:Rules:0:Targets:0"] = "hook",
            ["Notifications:Rules:0:Targets:1"] = "mail",
            ["Notifications:Rules:0:Severity"] = "critical",
        };
        await using var plant = await PlantRig.StartAsync(broker.AnonymousPort, silentAfter, settings);
        // An emergency stop 5 s into loading trips the still; an abort far ahead keeps the simulation (and its link) running.
        var scenario = files.Write("trip.json", """
            { "faults": [ { "kind": "emergency-stop", "phase": "loading", "afterSeconds": 5, "forSeconds": 0.5 } ],
              "operator": [ { "command": "abort", "atSeconds": 3000 } ] }
            """);
        var still = plant.StartStill("east", "tripper", broker.AnonymousPort, 5, "--scenario", scenario);

        var trip = await plant.EventAsync(e => e.Still == "tripper" && e.Kind == PlantEventKinds.AlarmRaised, TimeSpan.FromSeconds(90));
        Assert.True(trip is not null, $"no trip seen by the plant; still: {plant.StillOutput()}");
        var seen = System.Diagnostics.Stopwatch.StartNew();
        var hook = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(10));
        var mail = await sink.WaitForAsync(1, TimeSpan.FromSeconds(10));
        var latency = seen.Elapsed;
        var raised = JsonNode.Parse(hook[0].Body)!;
        Assert.Equal("raised", (string?)raised["type"]);
        Assert.Equal("east", (string?)raised["site"]);
        Assert.Equal("tripper", (string?)raised["still"]);
        Assert.Equal("emergency-stop", (string?)raised["code"]);
        Assert.Equal(trip.Code, (string?)raised["code"]);
        Assert.EndsWith("+08:00", (string?)raised["at"]);
        Assert.StartsWith("[TRIP] east/tripper: emergency-stop", (string?)raised["title"]);
        Assert.Equal("【跳闸】east/tripper：emergency-stop", mail[0].Subject);
        Assert.Contains("甑桶 tripper", mail[0].Body);
        Assert.True(latency < TimeSpan.FromSeconds(10), $"{latency.TotalSeconds:0.0} s from the plant's event to both receivers");

        // Silence: the still's process frozen (its connection stays up, nothing is sent).
        var frozenAt = DateTime.UtcNow;
        Signal(still, "STOP");
        try
        {
            var offline = await WaitForAsync(receiver, r => r["code"]?.GetValue<string>() == "still-offline", TimeSpan.FromSeconds(silentAfter + 10));
            Assert.Equal("raised", (string?)offline["type"]);
            Assert.StartsWith("[STILL OFFLINE] east/tripper", (string?)offline["title"]);
            var mailed = await PlantRig.Until(() => Task.FromResult(sink.Mails()), m => m.Any(x => x.Subject.StartsWith("【甑桶离线】east/tripper", StringComparison.Ordinal)), TimeSpan.FromSeconds(10));
            Assert.Contains(mailed, m => m.Subject == "【甑桶离线】east/tripper：still-offline");
            Assert.InRange(DateTime.UtcNow - frozenAt, TimeSpan.FromSeconds(silentAfter - 1), TimeSpan.FromSeconds(silentAfter + 10));
        }
        finally
        {
            Signal(still, "CONT");
        }
        var cleared = await WaitForAsync(receiver, r => r["type"]?.GetValue<string>() == "cleared" && r["code"]?.GetValue<string>() == "still-offline", TimeSpan.FromSeconds(20));
        Assert.StartsWith("[CLEARED STILL OFFLINE] east/tripper", (string?)cleared["title"]);

        // The API agrees with what the still said: the trip open, or cleared (the emergency stop was short) with a cleared message.
        using var viewer = await plant.ClientAsync();
        var status = JsonNode.Parse(await viewer.GetStringAsync("/api/notifications"))!;
        var open = status["open"]!.AsArray().Select(i => (string?)i!["code"]).ToList();
        Assert.DoesNotContain("still-offline", open);
        if (plant.Events.Any(e => e.Still == "tripper" && e.Kind == PlantEventKinds.AlarmCleared && e.Code == "emergency-stop"))
        {
            Assert.DoesNotContain("emergency-stop", open);
            await WaitForAsync(receiver, r => r["type"]?.GetValue<string>() == "cleared" && r["code"]?.GetValue<string>() == "emergency-stop", TimeSpan.FromSeconds(10));
        }
        else
        {
            Assert.Contains("emergency-stop", open);
        }
        Assert.Equal(1, receiver.Requests.Count(r => JsonNode.Parse(r.Body)!["code"]?.GetValue<string>() == "emergency-stop" && JsonNode.Parse(r.Body)!["type"]?.GetValue<string>() == "raised"));
        var drained = await PlantRig.Until(async () => JsonNode.Parse(await viewer.GetStringAsync("/api/notifications"))!["targets"]!.AsArray().Sum(t => (int)t!["pending"]!), n => n == 0, TimeSpan.FromSeconds(10));
        Assert.Equal(0, drained);
    }

    [Fact]
    public async Task The_plant_refuses_a_bad_notification_target_or_rule_with_exit_2_naming_key_value_and_what_is_accepted()
    {
        using var files = new TestFiles();
        var config = files.Write("plant.json", """
            { "Notifications": {
                "Targets": [ { "Name": "hook", "Kind": "sms", "Url": "http://127.0.0.1:9/x" },
                             { "Name": "mail", "Kind": "email", "Host": "127.0.0.1", "From": "not an address", "To": [ "a@example.org" ] } ],
                "Rules": [ { "Kinds": [ "tripped" ], "Targets": [ "pager" ] } ] } }
            """);
        var (exit, _, error) = await StillControlProcess.RunAsync(files.Folder, "plant", "--config", config, "--panel", $"127.0.0.1:{FreePort.Next()}", "--mqtt", $"127.0.0.1:{FreePort.Next()}");
        Assert.Equal(2, exit);
        Assert.Contains("Notifications:Targets:0:Kind = \"sms\": one of webhook, ntfy, telegram, wecom, dingtalk, email", error);
        Assert.Contains("Notifications:Targets:1:From = \"not an address\": a mail address", error);
        Assert.Contains("Notifications:Rules:0:Kinds:0 = \"tripped\": one of alarm-raised, held, advisory, offline, backlog", error);
        Assert.Contains("Notifications:Rules:0:Targets:0 = \"pager\": not a target's name; one of hook, mail", error);
        Assert.DoesNotContain("internal error", error);
        Assert.DoesNotContain("   at ", error);

        var unknown = files.Write("unknown.json", """{ "Notifications": { "Targets": [ { "Kind": "telegram", "ChatID": "1", "Chat": "x" } ] } }""");
        (exit, _, error) = await StillControlProcess.RunAsync(files.Folder, "plant", "--config", unknown, "--panel", $"127.0.0.1:{FreePort.Next()}");
        Assert.Equal(2, exit);
        Assert.Contains("Notifications:Targets:0:Chat: unknown key 'Chat' under Notifications:Targets:0; accepted: Name, Kind, Url", error);
    }

    private static async Task<JsonNode> WaitForAsync(HttpReceiver receiver, Func<JsonNode, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var found = receiver.Requests.Select(r => JsonNode.Parse(r.Body)!).FirstOrDefault(match);
            if (found is not null) return found;
            Assert.True(DateTime.UtcNow < deadline, $"not received in {timeout.TotalSeconds} s; got: {string.Join("\n", receiver.Requests.Select(r => r.Body))}");
            try
            {
                await receiver.WaitForAsync(receiver.Requests.Count + 1, TimeSpan.FromMilliseconds(500));
            }
            catch (TimeoutException)
            {
                // Nothing new in this half second: look again until the deadline.
            }
        }
    }

    private static void Signal(StillControlProcess process, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", process.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
