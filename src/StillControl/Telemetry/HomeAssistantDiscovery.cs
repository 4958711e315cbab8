using System.Text.Json;
using StillControl.Process;

namespace StillControl.Telemetry;

/// <summary>
/// Home Assistant MQTT discovery: retained config messages that make one device per still, a sensor per channel with its
/// unit and device class, the phase, the valves, the receiver, the strength and the alarms, all bound to the availability
/// topic and its will message, and a button for each command the remote policy allows. Every sensor reads the retained live
/// state topic, never the telemetry topic: after an outage the journal's backlog is replayed there, and Home Assistant would
/// show hours-old values as current. Nothing to configure by hand on the Home Assistant side.
/// </summary>
public static class HomeAssistantDiscovery
{
    public const string Prefix = "homeassistant";

    /// <summary>Who a button's command names as its operator in the journal.</summary>
    public const string ButtonOperator = "home-assistant";

    /// <summary>
    /// (topic, payload) pairs to publish retained. A command the policy does not allow gets an empty payload on its button's
    /// topic, which removes a button left from an earlier policy.
    /// </summary>
    public static IEnumerable<(string Topic, byte[] Payload)> Messages(StillTopics topics, string site, string still, IEnumerable<Channel> channels,
        IEnumerable<string>? remoteCommands = null)
    {
        var node = Slug($"stillcontrol_{site}_{still}");
        var device = new Dictionary<string, object>
        {
            ["identifiers"] = new[] { node },
            ["name"] = $"Still {still} ({site})",
            ["manufacturer"] = "StillControl",
            ["model"] = "baijiu steam still controller",
        };
        // default_entity_id (the whole entity id) replaces the deprecated object_id.
        Dictionary<string, object?> Entity(string component, string key, string name) => new()
        {
            ["name"] = name,
            ["unique_id"] = $"{node}_{key}",
            ["default_entity_id"] = $"{component}.{node}_{key}",
            ["availability_topic"] = topics.Availability,
            ["payload_available"] = "online",
            ["payload_not_available"] = "offline",
            ["device"] = device,
        };
        Dictionary<string, object?> Common(string component, string key, string name, string stateTopic, string template)
        {
            var entity = Entity(component, key, name);
            entity["state_topic"] = stateTopic;
            entity["value_template"] = template;
            return entity;
        }
        (string, byte[]) Config(string component, string key, Dictionary<string, object?> payload) =>
            ($"{Prefix}/{component}/{node}/{key}/config", JsonSerializer.SerializeToUtf8Bytes(payload));

        foreach (var channel in channels)
        {
            var key = Slug(channel.Name());
            // The live state's reading, or none (Home Assistant shows unknown) while it is faulted.
            var reading = $"(value_json.readings or {{}}).get('{channel.Name()}')";
            var template = $"{{{{ {reading} }}}}";
            if (channel == Channel.EmergencyStop)
            {
                // A missing reading shows pressed.
                var estop = Common("binary_sensor", key, "Emergency stop", topics.State, $"{{{{ 'ON' if ({reading} is none or {reading} >= 0.5) else 'OFF' }}}}");
                estop["device_class"] = "safety";
                yield return Config("binary_sensor", key, estop);
                continue;
            }
            if (channel == Channel.LidClosed)
            {
                // Home Assistant's "opening" class: ON means open. A missing reading shows open.
                var lid = Common("binary_sensor", key, "Still lid", topics.State, $"{{{{ 'OFF' if ({reading} is not none and {reading} >= 0.5) else 'ON' }}}}");
                lid["device_class"] = "opening";
                yield return Config("binary_sensor", key, lid);
                continue;
            }
            var sensor = Common("sensor", key, Label(channel), topics.State, template);
            sensor["unit_of_measurement"] = channel.Unit();
            sensor["state_class"] = "measurement";
            if (DeviceClass(channel) is { } deviceClass) sensor["device_class"] = deviceClass;
            yield return Config("sensor", key, sensor);
        }

        yield return Config("sensor", "phase", Common("sensor", "phase", "Phase", topics.State, "{{ value_json.phase }}"));
        yield return Config("sensor", "receiver", Common("sensor", "receiver", "Receiver", topics.State, "{{ value_json.receiver or 'none' }}"));
        var steam = Common("sensor", "steam_valve", "Steam valve", topics.State, "{{ value_json.steamValvePercent }}");
        steam["unit_of_measurement"] = "%";
        steam["state_class"] = "measurement";
        yield return Config("sensor", "steam_valve", steam);
        var cooling = Common("sensor", "cooling_valve", "Cooling-water valve", topics.State, "{{ value_json.coolingValvePercent }}");
        cooling["unit_of_measurement"] = "%";
        cooling["state_class"] = "measurement";
        yield return Config("sensor", "cooling_valve", cooling);
        var strength = Common("sensor", "distillate_strength", "Distillate strength", topics.State, "{{ value_json.strengthPercentVolume }}");
        strength["unit_of_measurement"] = "% vol";
        strength["state_class"] = "measurement";
        yield return Config("sensor", "distillate_strength", strength);
        var alarms = Common("sensor", "alarms", "Active alarms", topics.State, "{{ value_json.activeAlarms | length }}");
        alarms["json_attributes_topic"] = topics.State;
        alarms["json_attributes_template"] = "{{ {'active': value_json.activeAlarms, 'unacknowledged': value_json.unacknowledgedAlarms} | tojson }}";
        yield return Config("sensor", "alarms", alarms);
        var held = Common("binary_sensor", "held", "Batch held", topics.State, "{{ 'ON' if value_json.held else 'OFF' }}");
        held["device_class"] = "problem";
        yield return Config("binary_sensor", "held", held);

        // A button per command the remote policy allows, through the same command topic, checks and audit as any MQTT command.
        // Each press is a new id (the time to the microsecond), so it runs once; retained presses are refused by the link anyway.
        var allowed = new HashSet<string>(remoteCommands ?? [], StringComparer.Ordinal);
        foreach (var command in CommandKinds.Names)
        {
            var key = $"command_{command}";
            if (!allowed.Contains(command))
            {
                yield return ($"{Prefix}/button/{node}/{key}/config", []);
                continue;
            }
            var button = Entity("button", key, ButtonLabel(command));
            button["command_topic"] = topics.Command;
            button["command_template"] = $"{{\"id\": \"ha-{command}-{{{{ now().timestamp() }}}}\", \"command\": \"{command}\", \"operator\": \"{ButtonOperator}\"}}";
            button["retain"] = false;
            button["qos"] = 1;
            yield return Config("button", key, button);
        }
    }

    private static string ButtonLabel(string command) => command switch
    {
        "hold" => "Hold the batch",
        "abort" => "Abort the batch",
        "ack" => "Acknowledge alarms",
        "resume" => "Resume the batch",
        "start" => "Start a batch",
        "seal" => "Seal (lid on)",
        "cut" => "Cut to the next receiver",
        _ => command,
    };

    private static string? DeviceClass(Channel channel) => channel switch
    {
        _ when channel.IsTemperature() => "temperature",
        Channel.SteamPressure => "pressure",
        Channel.Barometer => "atmospheric_pressure",
        Channel.CoolingFlow or Channel.DistillateFlow => "volume_flow_rate",
        _ => null,
    };

    private static string Label(Channel channel) => channel switch
    {
        Channel.Steam => "Steam temperature",
        Channel.SteamPressure => "Steam pressure",
        Channel.Vapour => "Still-head vapour temperature",
        Channel.BedSurface => "Bed surface temperature",
        Channel.CoolingIn => "Cooling water in",
        Channel.CoolingOut => "Cooling water out",
        Channel.CoolingFlow => "Cooling-water flow",
        Channel.Distillate => "Distillate temperature",
        Channel.DistillateFlow => "Distillate flow",
        Channel.Barometer => "Air pressure",
        Channel.Strength => "Strength meter",
        Channel.DistillateCheck => "Distillate temperature (check probe)",
        Channel.SteamValvePosition => "Steam valve position",
        _ => channel.Name(),
    };

    private static string Slug(string text) => text.Replace('-', '_');
}
