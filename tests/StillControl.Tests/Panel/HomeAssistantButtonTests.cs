using System.Text;
using System.Text.Json;
using StillControl.Process;
using StillControl.Telemetry;

namespace StillControl.Panel;

/// <summary>Home Assistant's buttons: only what the remote policy allows, and each press a command the link accepts.</summary>
public sealed class HomeAssistantButtonTests
{
    [Fact]
    public void Buttons_follow_the_remote_policy_and_a_press_is_a_command_the_link_accepts()
    {
        var topics = new StillTopics("stillcontrol", "north", "zeng-3");
        var options = new MqttOptions { RemoteCommands = ["hold", "ack"] };
        var messages = HomeAssistantDiscovery.Messages(topics, "north", "zeng-3", [Channel.Vapour, Channel.LidClosed], options.RemoteCommands).ToList();
        var buttons = messages.Where(m => m.Topic.StartsWith("homeassistant/button/", StringComparison.Ordinal)).ToList();
        Assert.Equal(CommandKinds.Names.Count, buttons.Count);
        // Not allowed: an empty retained payload, which removes a button an earlier policy left in Home Assistant.
        Assert.All(buttons.Where(b => !b.Topic.Contains("command_hold") && !b.Topic.Contains("command_ack")), b => Assert.Empty(b.Payload));

        var seconds = 1764484800.0;
        foreach (var command in new[] { "hold", "ack" })
        {
            var config = JsonDocument.Parse(buttons.Single(b => b.Topic == $"homeassistant/button/stillcontrol_north_zeng_3/command_{command}/config").Payload).RootElement;
            Assert.Equal(topics.Command, config.GetProperty("command_topic").GetString());
            Assert.False(config.GetProperty("retain").GetBoolean());
            Assert.Equal($"button.stillcontrol_north_zeng_3_command_{command}", config.GetProperty("default_entity_id").GetString());
            // Home Assistant renders the template at each press; here with a time as its now() gives it.
            seconds += 0.000123;
            var pressed = config.GetProperty("command_template").GetString()!.Replace("{{ now().timestamp() }}", seconds.ToString("0.000000", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            var (parsed, id, refusal) = RemoteCommand.Parse(Encoding.UTF8.GetBytes(pressed), options);
            Assert.Null(refusal);
            Assert.Equal(command, parsed!.Kind.Name());
            Assert.Equal(HomeAssistantDiscovery.ButtonOperator, parsed.Operator);
            Assert.StartsWith($"ha-{command}-", id);
        }

        // Sensors read the live state; the lid and e-stop show the safe side when the reading is missing.
        var lid = JsonDocument.Parse(messages.Single(m => m.Topic.EndsWith("/lid_closed/config", StringComparison.Ordinal)).Payload).RootElement;
        Assert.Equal(topics.State, lid.GetProperty("state_topic").GetString());
        Assert.Contains("value_json.readings", lid.GetProperty("value_template").GetString());
        Assert.DoesNotContain(messages, m => m.Payload.Length > 0 && JsonDocument.Parse(m.Payload).RootElement.TryGetProperty("object_id", out _));
    }
}
