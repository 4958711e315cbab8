using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace StillControl.Plant;

/// <summary>
/// The registry fed the very payloads a still publishes (the shapes MqttLink writes), on a fake clock: stills appear from
/// their topics, each change worth a person's attention is one PlantEvent, silence while a batch runs is still-offline.
/// </summary>
public class StillRegistryTests
{
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero));
    private readonly StillRegistry registry;
    private readonly List<PlantEvent> events = [];
    private long seq;

    public StillRegistryTests()
    {
        registry = new StillRegistry("stillcontrol", TimeSpan.FromSeconds(30), 100, clock);
        registry.Changed += events.Add;
    }

    private bool Send(string still, string kind, string payload, bool retained = false, string site = "west") =>
        registry.Receive($"stillcontrol/{site}/{still}/{kind}", Encoding.UTF8.GetBytes(payload), retained);

    private static string State(string phase, string? batch = "s1-20261130-080000", bool held = false, string? cause = null, string[]? alarms = null,
        string[]? unacknowledged = null, bool cover = false, double? cooling = 29, string at = "2026-11-30T08:10:00Z") =>
        $$"""
        {"at":"{{at}}","batchId":{{(batch is null ? "null" : $"\"{batch}\"")}},"phase":"{{phase}}","held":{{(held ? "true" : "false")}},"holdCause":{{(cause is null ? "null" : $"\"{cause}\"")}},
         "steamValvePercent":20,"coolingValvePercent":40,"receiver":"hearts-1","strengthPercentVolume":68.5,"coverLayerAdvised":{{(cover ? "true" : "false")}},
         "activeAlarms":[{{string.Join(",", (alarms ?? []).Select(a => $"\"{a}\""))}}],"unacknowledgedAlarms":[{{string.Join(",", (unacknowledged ?? []).Select(a => $"\"{a}\""))}}],
         "startedAt":"2026-11-30T08:00:00Z","coolingChannel":"distillate","coolingCelsius":{{(cooling is null ? "null" : cooling.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))}},"coolingTargetCelsius":30,"coolingMaximumCelsius":35}
        """;

    private string Event(string kind, string code, string message, string at = "2026-11-30T08:10:00Z") =>
        $$"""{"seq":{{++seq}},"batchId":"s1-20261130-080000","at":"{{at}}","kind":"{{kind}}","code":"{{code}}","phase":"hearts","message":"{{message}}","channel":null}""";

    private static string Sample(long sequence, string at, double strength, double distillate)
    {
        var s = strength.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var d = distillate.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "{\"seq\":" + sequence + ",\"batchId\":\"s1-20261130-080000\",\"at\":\"" + at + "\",\"phase\":\"hearts\",\"held\":false,\"steamValvePercent\":21.5,"
            + "\"coolingValvePercent\":38,\"receiver\":\"hearts-1\",\"strengthPercentVolume\":" + s + ",\"channels\":{"
            + "\"vapour\":{\"value\":88.1,\"quality\":\"good\",\"unit\":\"°C\",\"at\":\"" + at + "\"},"
            + "\"distillate\":{\"value\":" + d + ",\"quality\":\"good\",\"unit\":\"°C\",\"at\":\"" + at + "\"},"
            + "\"steam\":{\"value\":104,\"quality\":\"stale\",\"unit\":\"°C\",\"at\":\"" + at + "\"}}}";
    }

    [Fact]
    public void Stills_appear_from_their_own_topics_with_site_phase_elapsed_strength_and_cooling()
    {
        Assert.Empty(registry.Snapshot());
        Assert.True(Send("s1", "availability", "online"));
        Assert.True(Send("s1", "state", State("hearts")));
        Assert.True(Send("s2", "availability", "online", site: "east"));
        Assert.False(registry.Receive("stillcontrol/west/s1/command", "{}"u8, false));
        Assert.False(registry.Receive("homeassistant/sensor/x/config", "{}"u8, false));

        var stills = registry.Snapshot();
        Assert.Equal([("east", "s2"), ("west", "s1")], stills.Select(s => (s.Site, s.Name)));
        var s1 = stills[1];
        Assert.True(s1.Online);
        Assert.Equal("hearts", s1.Phase);
        Assert.Equal(600, s1.ElapsedSeconds);
        Assert.Equal(68.5, s1.StrengthPercentVolume);
        Assert.Equal("on-target", s1.Cooling);
        Assert.Equal(clock.GetUtcNow(), s1.LastSeen);
        Assert.Empty(events); // an online still in hearts with nothing wrong is no news

        // Samples move the tile on: strength, the measured cooling channel, the still's clock; a stale channel has no value.
        clock.Advance(TimeSpan.FromSeconds(1));
        Send("s1", "telemetry", Sample(7, "2026-11-30T08:10:05Z", 66.25, 36.5));
        var after = registry.Find("west", "s1")!;
        Assert.Equal(66.25, after.StrengthPercentVolume);
        Assert.Equal(36.5, after.CoolingCelsius);
        Assert.Equal("over", after.Cooling);
        Assert.Equal(605, after.ElapsedSeconds);
        Assert.Equal(7, after.LastSampleSequence);
        var point = Assert.Single(registry.Points("west", "s1"));
        Assert.Equal(88.1, point.Channels["vapour"]);
        Assert.Null(point.Channels["steam"]);
        Assert.True(after.Version > s1.Version);
    }

    [Fact]
    public void Alarms_holds_advisories_and_backlogs_are_each_one_event_and_a_repeated_row_is_not_news()
    {
        Send("s1", "availability", "online");
        Send("s1", "state", State("hearts"));
        var raised = Event("alarm-raised", "vapour-high", "vapour 97.9 °C over the trip limit");
        Send("s1", "events", raised);
        Send("s1", "events", raised); // sent again after a reconnect: same seq
        Send("s1", "events", Event("held", "vapour-high", "batch held in hearts: vapour-high; steam closed, cooling open"));
        Send("s1", "events", Event("alarm-acknowledged", "vapour-high", "vapour-high acknowledged by li"));
        Send("s1", "events", Event("alarm-cleared", "vapour-high", "vapour-high cleared"));
        Send("s1", "events", Event("resumed", "hearts", "resumed hearts after vapour-high"));
        Send("s1", "events", Event("advisory", "cover-layer", "bed surface 96 °C: cover the next layer (3)"));
        Send("s1", "state", State("loading", cover: true));
        Send("s1", "state", State("loading", cover: false));
        Send("s1", "events", Event("alarm-raised", "history-backlog-over-limit", "700000 journal rows wait for the history database"));
        Send("s1", "events", Event("alarm-cleared", "history-backlog-over-limit", "backlog for the history database back under 604800 rows"));
        Send("s1", "events", Event("phase-changed", "tails", "hearts -> tails"));

        Assert.Equal(
            [
                ("alarm-raised", "vapour-high"), ("held", "vapour-high"), ("alarm-acknowledged", "vapour-high"), ("alarm-cleared", "vapour-high"),
                ("released", "vapour-high"), ("advisory", "cover-layer"), ("advisory-done", "cover-layer"), ("backlog", "history-backlog-over-limit"),
                ("backlog-cleared", "history-backlog-over-limit"),
            ],
            events.Select(e => (e.Kind, e.Code)));
        Assert.All(events, e => Assert.Contains(e.Kind, PlantEventKinds.All));
        Assert.All(events, e => Assert.Equal(("west", "s1"), (e.Site, e.Still)));
        Assert.Contains("vapour 97.9 °C over the trip limit", events[0].Message);
        // The live view lists what the still said and what the plant raised, newest first.
        var lines = registry.Lines("west", "s1");
        Assert.Equal("phase-changed", lines[0].Kind);
        Assert.Contains(lines, l => l.Source == "plant" && l.Kind == "held");
    }

    [Fact]
    public void What_is_wrong_when_the_plant_first_sees_a_still_is_raised_once_and_a_backlog_being_caught_up_is_not_news()
    {
        // Retained on subscribing: the still was already offline, held, with an alarm.
        Send("s1", "availability", "offline", retained: true);
        Send("s1", "state", State("hearts", held: true, cause: "cooling-flow-low", alarms: ["cooling-flow-low"]), retained: true);
        Assert.Equal([("offline", "still-offline"), ("alarm-raised", "cooling-flow-low"), ("held", "cooling-flow-low")], events.Select(e => (e.Kind, e.Code)));
        Assert.Null(registry.Find("west", "s1")!.LastSeen); // retained messages say nothing about now

        events.Clear();
        Send("s1", "availability", "online");
        Assert.Equal([("online", "still-offline")], events.Select(e => (e.Kind, e.Code)));
        // An alarm from an hour before the still's newest state: drained from its journal after the outage, shown but not raised.
        events.Clear();
        Send("s1", "events", Event("alarm-raised", "vapour-high", "an hour ago", at: "2026-11-30T07:10:00Z"));
        Assert.Empty(events);
        Assert.Equal("an hour ago", registry.Lines("west", "s1")[0].Message);
    }

    [Fact]
    public void A_still_whose_availability_goes_offline_is_still_offline_and_comes_back_online()
    {
        Send("s1", "availability", "online");
        Send("s1", "state", State("heads"));
        Send("s1", "availability", "offline");
        var offline = Assert.Single(events);
        Assert.Equal(("offline", "still-offline"), (offline.Kind, offline.Code));
        Assert.Contains("heads", offline.Message);
        Assert.False(registry.Find("west", "s1")!.Online);
        Assert.Equal("availability offline", registry.Find("west", "s1")!.OfflineReason);
        Send("s1", "availability", "offline"); // the will after a clean "offline": no second event
        Send("s1", "availability", "online");
        Assert.Equal([("offline", "still-offline"), ("online", "still-offline")], events.Select(e => (e.Kind, e.Code)));
        Assert.True(registry.Find("west", "s1")!.Online);
    }

    [Fact]
    public void Silence_while_a_batch_runs_is_still_offline_after_the_configured_time_and_data_again_clears_it()
    {
        Send("s1", "availability", "online");
        Send("s1", "state", State("hearts"));
        Send("s2", "availability", "online");
        Send("s2", "state", State("idle", batch: null)); // no batch: silence is normal
        clock.Advance(TimeSpan.FromSeconds(29));
        registry.Tick();
        Assert.Empty(events);
        clock.Advance(TimeSpan.FromSeconds(2));
        registry.Tick();
        var silent = Assert.Single(events);
        Assert.Equal(("west", "s1", "offline", "still-offline"), (silent.Site, silent.Still, silent.Kind, silent.Code));
        Assert.Contains("sent nothing for 31 s", silent.Message);
        var view = registry.Find("west", "s1")!;
        Assert.False(view.Online);
        Assert.True(view.Silent);
        Assert.Equal(31, view.DataAgeSeconds);
        registry.Tick();
        Assert.Single(events);

        clock.Advance(TimeSpan.FromSeconds(5));
        Send("s1", "telemetry", Sample(1, "2026-11-30T08:11:00Z", 65, 30));
        Assert.Equal([("offline", "still-offline"), ("online", "still-offline")], events.Select(e => (e.Kind, e.Code)));
        Assert.True(registry.Find("west", "s1")!.Online);
        Assert.True(registry.Find("west", "s2")!.Online);
    }

    [Fact]
    public void Unreadable_messages_are_counted_and_ignored_and_a_failing_subscriber_does_not_stop_the_registry()
    {
        registry.Changed += _ => throw new InvalidOperationException("a notification module with a bug");
        Send("s1", "availability", "online");
        Assert.True(Send("s1", "state", "{not json"));
        Assert.True(Send("s1", "state", """{"phase":"boiling"}"""));
        Assert.True(Send("s1", "telemetry", """{"seq":"x"}"""));
        Assert.True(Send("s1", "events", "[1,2]"));
        Assert.True(registry.Receive("stillcontrol/west/s1/state", [0xff, 0xfe, 0x00], false));
        Assert.True(Send("s1", "availability", "maybe"));
        Assert.False(registry.Receive("stillcontrol/we\u0001st/s1/state", "{}"u8, false));
        Assert.False(registry.Receive("stillcontrol/west/" + new string('x', 65) + "/state", "{}"u8, false));
        Assert.Equal(8, registry.Rejected);
        Assert.Contains("a site and still name of 1 to 64 printable characters", registry.LastRejection ?? "", StringComparison.Ordinal);
        Assert.Equal("online", registry.Find("west", "s1")!.Availability);

        Send("s1", "availability", "offline");
        Assert.Single(events); // the other handler still ran
        Assert.Equal(1, registry.HandlerFailures);
    }
}
