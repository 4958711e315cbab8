using System.Text.Json;
using StillControl.Process;

namespace StillControl.Telemetry;

/// <summary>
/// Home Assistant MQTT discovery: retained config messages that make one device per still, a sensor per channel with its
/// unit and device class, the phase, the valves, the receiver, the strength and the alarms, all bound to the availability
/// topic and its will message. Nothing to configure by hand on the Home Assistant side.
/// </summary>
public static class HomeAssistantDiscovery
{
    public const string Prefix = "homeassistant";

    /// <summary>(topic, payload) pairs to publish retained.</summary>
    public static IEnumerable<(string Topic, byte[] Payload)> Messages(StillTopics topics, string site, string still, IEnumerable<Channel> channels)
    {
        var node = Slug($"stillcontrol_{site}_{still}");
        var device = new Dictionary<string, object>
        {
            ["identifiers"] = new[] { node },
            ["name"] = $"Still {still} ({site})",
            ["manufacturer"] = "StillControl",
            ["model"] = "baijiu steam still controller",
        };
        Dictionary<string, object?> Common(string key, string name, string stateTopic, string template) => new()
        {
            ["name"] = name,
            ["unique_id"] = $"{node}_{key}",
            ["object_id"] = $"{node}_{key}",
            ["state_topic"] = stateTopic,
            ["value_template"] = template,
            ["availability_topic"] = topics.Availability,
            ["payload_available"] = "online",
            ["payload_not_available"] = "offline",
            ["device"] = device,
        };
        (string, byte[]) Config(string component, string key, Dictionary<string, object?> payload) =>
            ($"{Prefix}/{component}/{node}/{key}/config", JsonSerializer.SerializeToUtf8Bytes(payload));

        foreach (var channel in channels)
        {
            var key = Slug(channel.Name());
            var template = $"{{{{ (value_json.channels.get('{channel.Name()}') or {{}}).get('value') }}}}";
            if (channel == Channel.EmergencyStop)
            {
                var estop = Common(key, "Emergency stop", topics.Telemetry, $"{{{{ 'ON' if (value_json.channels.get('{channel.Name()}') or {{}}).get('value', 1) >= 0.5 else 'OFF' }}}}");
                estop["device_class"] = "safety";
                yield return Config("binary_sensor", key, estop);
                continue;
            }
            if (channel == Channel.LidClosed)
            {
                // Home Assistant's "opening" class: ON means open. A missing reading shows open.
                var lid = Common(key, "Still lid", topics.Telemetry, $"{{{{ 'OFF' if (value_json.channels.get('{channel.Name()}') or {{}}).get('value', 0) >= 0.5 else 'ON' }}}}");
                lid["device_class"] = "opening";
                yield return Config("binary_sensor", key, lid);
                continue;
            }
            var sensor = Common(key, Label(channel), topics.Telemetry, template);
            sensor["unit_of_measurement"] = channel.Unit();
            sensor["state_class"] = "measurement";
            if (DeviceClass(channel) is { } deviceClass) sensor["device_class"] = deviceClass;
            yield return Config("sensor", key, sensor);
        }

        yield return Config("sensor", "phase", Common("phase", "Phase", topics.State, "{{ value_json.phase }}"));
        yield return Config("sensor", "receiver", Common("receiver", "Receiver", topics.State, "{{ value_json.receiver or 'none' }}"));
        var steam = Common("steam_valve", "Steam valve", topics.State, "{{ value_json.steamValvePercent }}");
        steam["unit_of_measurement"] = "%";
        steam["state_class"] = "measurement";
        yield return Config("sensor", "steam_valve", steam);
        var cooling = Common("cooling_valve", "Cooling-water valve", topics.State, "{{ value_json.coolingValvePercent }}");
        cooling["unit_of_measurement"] = "%";
        cooling["state_class"] = "measurement";
        yield return Config("sensor", "cooling_valve", cooling);
        var strength = Common("distillate_strength", "Distillate strength", topics.State, "{{ value_json.strengthPercentVolume }}");
        strength["unit_of_measurement"] = "% vol";
        strength["state_class"] = "measurement";
        yield return Config("sensor", "distillate_strength", strength);
        var alarms = Common("alarms", "Active alarms", topics.State, "{{ value_json.activeAlarms | length }}");
        alarms["json_attributes_topic"] = topics.State;
        alarms["json_attributes_template"] = "{{ {'active': value_json.activeAlarms, 'unacknowledged': value_json.unacknowledgedAlarms} | tojson }}";
        yield return Config("sensor", "alarms", alarms);
        var held = Common("held", "Batch held", topics.State, "{{ 'ON' if value_json.held else 'OFF' }}");
        held["device_class"] = "problem";
        yield return Config("binary_sensor", "held", held);
    }

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
