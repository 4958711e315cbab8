using Microsoft.Extensions.Configuration;
using StillControl.Hosting;
using StillControl.Recipes;
using StillControl.Sensors;

namespace StillControl.Tests.Hardware;

public class PiPlanTests
{
    /// <summary>Outputs for a Pi with PWM valves and the default recipe's receivers, as configuration objects.</summary>
    public static Dictionary<string, object> Outputs() => new()
    {
        ["Steam"] = new Dictionary<string, object> { ["Kind"] = "pwm", ["Chip"] = 0, ["Channel"] = 0 },
        ["Cooling"] = new Dictionary<string, object> { ["Kind"] = "pwm", ["Chip"] = 0, ["Channel"] = 1 },
        ["Receivers"] = SimulatedWiring.ReceiverPins.ToDictionary(r => r.Key, r => (object)new Dictionary<string, int> { ["Pin"] = r.Value }),
        ["Horn"] = new Dictionary<string, int> { ["Pin"] = SimulatedWiring.HornPin },
        ["Beacon"] = new Dictionary<string, int> { ["Pin"] = SimulatedWiring.BeaconPin },
    };

    private static List<string> Errors(Dictionary<string, string?> changes)
    {
        var settings = SimulatedWiring.Configuration();
        foreach (var (key, value) in changes)
        {
            if (value is null) settings.Remove(key); else settings[key] = value;
        }
        var options = new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("Hardware").Get<HardwareOptions>()!;
        return PiPlan.Resolve(options, DefaultRecipe.Create(), null).Errors;
    }

    [Fact]
    public void The_simulated_wiring_is_a_valid_plan_using_the_shipped_register_maps()
    {
        Assert.Empty(Errors([]));
    }

    [Theory]
    [InlineData("Hardware:Inputs:vapor:Source", "onewire", "Hardware:Inputs:vapor: unknown channel \"vapor\"")]
    [InlineData("Hardware:Inputs:emergency-stop:Pin", "23", "Hardware:Inputs:emergency-stop:Pin = 23: GPIO 23 is already used by Hardware:Inputs:cooling-flow:Pin")]
    [InlineData("Hardware:Outputs:Horn:Pin", "17", "Hardware:Outputs:Horn:Pin = 17: GPIO 17 is already used by")]
    [InlineData("Hardware:Outputs:Steam:DeEnergised", "open", "Hardware:Outputs:Steam:DeEnergised = \"open\": must be \"closed\"")]
    [InlineData("Hardware:Outputs:Cooling:DeEnergised", "closed", "Hardware:Outputs:Cooling:DeEnergised = \"closed\": must be \"open\"")]
    [InlineData("Hardware:Outputs:Receivers:tails:Pin", null, "Hardware:Outputs:Receivers:tails is missing")]
    [InlineData("Hardware:Inputs:vapour:Map", "pt100-16ch.json", "Hardware:Inputs:vapour:Map = \"pt100-16ch.json\": file not found")]
    [InlineData("Hardware:Inputs:vapour:Point", "ch9", "Hardware:Inputs:vapour:Point = \"ch9\": one of ch1, ch2")]
    [InlineData("Hardware:Inputs:vapour:Bus", "rs232", "Hardware:Inputs:vapour:Bus = \"rs232\": no such bus; defined: rs485")]
    [InlineData("Hardware:Inputs:vapour:Type", "int8", "Hardware:Inputs:vapour:Type = \"int8\": one of int16, uint16, int32, uint32, float32")]
    [InlineData("Hardware:Inputs:vapour:Source", "thermocouple", "Hardware:Inputs:vapour:Source = \"thermocouple\": one of onewire, modbus")]
    [InlineData("Hardware:Buses:rs485:Baud", "9601", "Hardware:Buses:rs485:Baud = 9601: one of 1200")]
    [InlineData("Hardware:Inputs:cooling-flow:Source", "onewire", "Hardware:Inputs:cooling-flow:Source = \"onewire\": a thermometer, but cooling-flow is measured in L/min")]
    [InlineData("Hardware:Outputs:Steam:Kind", "servo", "Hardware:Outputs:Steam:Kind = \"servo\": pwm, modbus or onoff")]
    [InlineData("Hardware:Outputs:SteamIsolation:Pin", "17", "Hardware:Outputs:SteamIsolation:Pin = 17: GPIO 17 is already used by Hardware:Inputs:emergency-stop:Pin")]
    public void A_bad_key_is_named_with_its_value_and_what_is_accepted(string key, string? value, string expected)
    {
        var errors = Errors(new() { [key] = value });
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void The_shipped_reference_configuration_is_a_valid_plan()
    {
        var root = TestFiles.Repository();
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(root, "deploy", "stillcontrol.json")).Build();
        var options = configuration.GetSection("Hardware").Get<HardwareOptions>()!;
        options.RegisterMaps = Path.Combine(root, "firmware-config", "registers");
        var (plan, errors) = PiPlan.Resolve(options, DefaultRecipe.Create(), null);
        Assert.Empty(errors);
        Assert.Equal(12, plan!.Channels.Count());
        Assert.Equal(2, plan.Buses.Single().Inputs.Count);
    }

    [Fact]
    public void Probe_and_safe_work_with_a_still_wired_without_its_emergency_stop_yet_but_the_service_does_not()
    {
        var settings = SimulatedWiring.Configuration();
        settings.Remove("Hardware:Inputs:emergency-stop:Source");
        settings.Remove("Hardware:Inputs:emergency-stop:Pin");
        var options = new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("Hardware").Get<HardwareOptions>()!;
        Assert.Empty(PiPlan.Resolve(options, DefaultRecipe.Create(), null, forService: false).Errors);
        Assert.Single(PiPlan.Resolve(options, DefaultRecipe.Create(), null).Errors);
    }

    [Fact]
    public void Every_bad_key_is_named_at_once()
    {
        var errors = Errors(new() { ["Hardware:Inputs:vapor:Source"] = "onewire", ["Hardware:Outputs:Steam:DeEnergised"] = "open", ["Hardware:Buses:rs485:StopBits"] = "3" });
        Assert.Equal(3, errors.Count);
    }
}
