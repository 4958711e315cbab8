namespace StillControl.Simulation;

public class ScenarioTests
{
    private static List<string> Errors(string json) => Scenario.Parse(json).Errors;

    [Fact]
    public void The_scenario_from_the_issue_parses()
    {
        var (scenario, errors) = Scenario.Parse("""
            { "seed": 7,
              "faults": [
                { "kind": "cooling-water-loss", "phase": "hearts", "afterSeconds": 300, "forSeconds": 180 },
                { "kind": "sensor-disconnect", "channel": "vapour", "atSeconds": 2400 } ],
              "operator": [ { "command": "resume", "phase": "hearts", "afterSeconds": 600 } ] }
            """);
        Assert.Empty(errors);
        Assert.Equal(7, scenario!.Seed);
        Assert.Equal(Process.Channel.Vapour, scenario.Faults[1].ChannelValue);
        Assert.Equal(Process.CommandKind.Resume, scenario.Operator[0].Kind);
    }

    [Fact]
    public void An_unknown_fault_kind_lists_the_kinds()
    {
        var error = Assert.Single(Errors("""{ "faults": [ { "kind": "boiler-explodes", "atSeconds": 1 } ] }"""));
        Assert.StartsWith("faults[0].kind = \"boiler-explodes\": one of cooling-water-loss", error);
    }

    [Fact]
    public void A_sensor_fault_needs_a_known_channel()
    {
        var error = Assert.Single(Errors("""{ "faults": [ { "kind": "sensor-stuck", "channel": "thermometer", "atSeconds": 1 } ] }"""));
        Assert.Contains("faults[0].channel = \"thermometer\": one of steam, steam-pressure", error);
    }

    [Fact]
    public void A_timing_is_either_from_batch_start_or_after_a_phase()
    {
        Assert.Contains("exactly one of atSeconds", Assert.Single(Errors("""{ "faults": [ { "kind": "cooling-water-loss", "atSeconds": 5, "phase": "hearts" } ] }""")));
        Assert.Contains("exactly one of atSeconds", Assert.Single(Errors("""{ "operator": [ { "command": "ack" } ] }""")));
        Assert.Contains("operator[0].phase = \"middle\"", Assert.Single(Errors("""{ "operator": [ { "command": "ack", "phase": "middle" } ] }""")));
        Assert.Contains("forSeconds = -3", Assert.Single(Errors("""{ "faults": [ { "kind": "cooling-water-loss", "atSeconds": 5, "forSeconds": -3 } ] }""")));
    }

    [Fact]
    public void Hot_cooling_water_needs_its_temperature()
    {
        Assert.Contains("valueCelsius = null", Assert.Single(Errors("""{ "faults": [ { "kind": "cooling-water-hot", "atSeconds": 5 } ] }""")));
    }

    [Fact]
    public void The_power_on_value_only_applies_to_temperature_channels()
    {
        Assert.Contains("temperature channel", Assert.Single(Errors("""{ "faults": [ { "kind": "sensor-power-on-reading", "channel": "cooling-flow", "atSeconds": 5 } ] }""")));
    }

    [Fact]
    public void Unknown_keys_and_wrong_types_are_named()
    {
        Assert.StartsWith("faults[0].colour", Assert.Single(Errors("""{ "faults": [ { "kind": "cooling-water-loss", "atSeconds": 5, "colour": "red" } ] }""")));
        Assert.StartsWith("seed", Assert.Single(Errors("""{ "seed": "seven" }""")));
    }

    [Fact]
    public void An_unknown_operator_command_lists_the_commands()
    {
        Assert.Contains("one of start, seal, hold, resume, abort, cut, ack", Assert.Single(Errors("""{ "operator": [ { "command": "open-steam", "atSeconds": 1 } ] }""")));
    }
}
