using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using StillControl.Cli;

namespace StillControl.Telemetry;

public class EmbeddedBrokerTests
{
    [Fact]
    public async Task With_no_broker_configured_the_service_hosts_one_on_loopback_that_mosquitto_sub_can_watch()
    {
        using var files = new TestFiles();
        var port = FreePort.Next();
        var config = files.Write("config.json", $$"""{ "Mqtt": { "Enabled": true, "EmbeddedPort": {{port}} }, "Still": { "Site": "north", "Name": "zeng-3" } }""");
        using var service = StillControlProcess.Start(files.Folder, "run", "--config", config, "--journal", files.PathOf("journal.db"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !service.Error.Contains("MQTT connected")) await Task.Delay(100);
        Assert.Contains($"Embedded MQTT broker listening on 127.0.0.1:{port}", service.Error);

        using var watcher = new Mosquitto.Subscriber("stillcontrol/north/zeng-3/#", port, []);
        var messages = await watcher.WaitFor(m => m.Any(x => x.Topic.EndsWith("/telemetry") && x.Payload.Contains("cooling-flow")) && m.Any(x => x.Topic.EndsWith("/state") && x.Payload.Contains("\"vapour\"")), TimeSpan.FromSeconds(20));
        Assert.Contains(messages, m => m.Topic == "stillcontrol/north/zeng-3/availability" && m.Retained && m.Payload == "online");
        var telemetry = JsonDocument.Parse(messages.Last(m => m.Topic.EndsWith("/telemetry") && m.Payload.Contains("cooling-flow")).Payload).RootElement;
        Assert.True(telemetry.GetProperty("channels").TryGetProperty("cooling-flow", out var flow));
        Assert.Equal("L/min", flow.GetProperty("unit").GetString());

        // Home Assistant finds the still by itself: retained discovery configs, one device, a sensor per channel.
        using var homeAssistant = new Mosquitto.Subscriber("homeassistant/#", port, []);
        // One per channel the simulated still has (12: no strength meter), and phase, receiver, both valves, strength, alarms, held,
        // and a button for each remotely allowed command (hold, abort, ack by default).
        const int expected = 12 + 7 + 3;
        var configs = await homeAssistant.WaitFor(m => m.Count >= expected, TimeSpan.FromSeconds(10));
        Assert.All(configs, c => Assert.True(c.Retained, c.Topic));
        var parsed = configs.Select(c => (c.Topic, Json: JsonDocument.Parse(c.Payload).RootElement)).ToList();
        Assert.Equal(expected, parsed.Count);
        Assert.Contains(parsed, p => p.Topic.StartsWith("homeassistant/binary_sensor/", StringComparison.Ordinal) && p.Topic.EndsWith("/lid_closed/config", StringComparison.Ordinal));
        Assert.Single(parsed.Select(p => p.Json.GetProperty("device").GetProperty("identifiers")[0].GetString()).Distinct());
        Assert.Equal(parsed.Count, parsed.Select(p => p.Json.GetProperty("unique_id").GetString()).Distinct().Count());
        Assert.All(parsed, p => Assert.Equal("stillcontrol/north/zeng-3/availability", p.Json.GetProperty("availability_topic").GetString()));
        var vapour = parsed.Single(p => p.Topic == "homeassistant/sensor/stillcontrol_north_zeng_3/vapour/config").Json;
        Assert.Equal("°C", vapour.GetProperty("unit_of_measurement").GetString());
        Assert.Equal("temperature", vapour.GetProperty("device_class").GetString());
        // Bound to the live state (retained, current), never to the telemetry topic that replays the backlog after an outage.
        Assert.All(parsed.Where(p => p.Json.TryGetProperty("state_topic", out _)), p => Assert.Equal("stillcontrol/north/zeng-3/state", p.Json.GetProperty("state_topic").GetString()));
        Assert.Contains("'vapour'", vapour.GetProperty("value_template").GetString());
        Assert.Equal("sensor.stillcontrol_north_zeng_3_vapour", vapour.GetProperty("default_entity_id").GetString());
        Assert.All(parsed, p => Assert.False(p.Json.TryGetProperty("object_id", out _), p.Topic));
        // The first state may come before the first readings (the loop settles first): the last one that has them.
        var state = JsonDocument.Parse(messages.Last(m => m.Topic.EndsWith("/state") && m.Payload.Contains("\"vapour\"")).Payload).RootElement;
        Assert.True(state.GetProperty("readings").GetProperty("vapour").GetDouble() > 0);
        Assert.Equal(["abort", "ack", "hold"], parsed.Where(p => p.Topic.StartsWith("homeassistant/button/", StringComparison.Ordinal))
            .Select(p => p.Topic.Split('/')[3].Replace("command_", "", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal("volume_flow_rate", parsed.Single(p => p.Topic.Contains("/cooling_flow/")).Json.GetProperty("device_class").GetString());
        Assert.Contains(parsed, p => p.Topic == "homeassistant/sensor/stillcontrol_north_zeng_3/phase/config");
        Assert.DoesNotContain(parsed, p => p.Topic.Contains("/strength/"));

        service.Terminate();
        Assert.Equal(0, await service.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(watcher.Messages, m => m.Topic.EndsWith("/availability") && m.Payload == "offline");
    }
}

public class EmbeddedBrokerPortTakenTests
{
    [Fact]
    public async Task A_taken_embedded_port_is_a_clear_start_error_not_a_link_to_whoever_holds_it()
    {
        using var files = new TestFiles();
        // Someone else listens on the port (here a plain socket; a stray mosquitto in real life).
        var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        try
        {
            var port = ((IPEndPoint)holder.LocalEndpoint).Port;
            var output = new StringWriter();
            var error = new StringWriter();
            var journal = files.PathOf("journal.db");
            var exit = await CommandLine.RunAsync(["simulate", "--mqtt", $"embedded:{port}", "--journal", journal], output, error);
            Assert.Equal(2, exit);
            Assert.Contains($"Mqtt:EmbeddedPort = {port}", error.ToString());
            Assert.Contains("cannot listen", error.ToString());
            Assert.Contains("--mqtt off", error.ToString());
            Assert.DoesNotContain("internal error", error.ToString());
            // The loop never started: no batch was begun on a still whose telemetry had nowhere to go.
            using var reader = new Journal.BatchJournal(journal, TimeProvider.System, TimeSpan.FromSeconds(1));
            Assert.Empty(reader.Events(null));
        }
        finally
        {
            holder.Stop();
        }
    }
}
