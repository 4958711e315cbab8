namespace StillControl.Telemetry;

public class MqttOptionsTests
{
    [Fact]
    public void Every_bad_setting_is_named_with_its_value_and_what_is_accepted_at_once()
    {
        var options = new MqttOptions { Port = 0, MaxInFlight = 0, StatePeriodSeconds = 0, TopicRoot = "plant/#", RemoteCommands = ["hold", "open-steam"] };
        var result = new MqttOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains("Mqtt:Port = 0: 1 to 65535", failures);
        Assert.Contains(failures, f => f.StartsWith("Mqtt:MaxInFlight = 0: 1 to 1000", StringComparison.Ordinal));
        Assert.Contains("Mqtt:StatePeriodSeconds = 0: 1 to 3600", failures);
        Assert.Contains(failures, f => f.StartsWith("Mqtt:TopicRoot = \"plant/#\"", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Mqtt:RemoteCommands contains \"open-steam\"", StringComparison.Ordinal));
        Assert.Equal(5, failures.Count);
    }

    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.True(new MqttOptionsValidator().Validate(null, new MqttOptions()).Succeeded);
    }
}
