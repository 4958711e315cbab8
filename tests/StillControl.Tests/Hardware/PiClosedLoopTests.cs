using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StillControl.Cli;
using StillControl.Hosting;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Reports;
using StillControl.Sensors;
using StillControl.Simulation;

namespace StillControl.Tests.Hardware;

/// <summary>The Pi hardware layer (plan, sources, quality, outputs) wired through emulated chips and pins to the simulated still.</summary>
public class PiClosedLoopTests
{
    private static async Task<(BatchReport Report, SimulatedWiring Wiring, PiSensorBank Bank)> RunBatchAsync(TestFiles files, string? scenarioJson = null)
    {
        var overrides = SimulatedWiring.Configuration();
        overrides["Journal:Path"] = files.PathOf("journal.db");
        overrides["Mqtt:Enabled"] = "false";
        var scenario = Files.LoadScenario(scenarioJson is null ? null : files.Write("scenario.json", scenarioJson));
        var recipe = DefaultRecipe.Create();
        var setup = new SimulationSetup(scenario, 1, null, false, new DateTimeOffset(2026, 11, 29, 6, 0, 0, TimeSpan.Zero), null, TimeSpan.FromHours(1), RealTime: false);
        SimulatedWiring? wiring = null;
        using var host = StillHost.Build([], overrides, recipe, setup, LogLevel.Warning,
            new PiRig(sp => wiring = new SimulatedWiring(sp.GetRequiredService<SimulatedStill>(), sp.GetRequiredService<TimeProvider>()), Inline: true));
        await host.StartAsync();
        await host.WaitForShutdownAsync();
        Assert.Null(host.Services.GetRequiredService<ServiceOutcome>().Failure);
        var state = host.Services.GetRequiredService<ControlCycle>().State;
        return (BatchReport.From(state, recipe.Name), wiring!, host.Services.GetRequiredService<PiSensorBank>());
    }

    [Fact]
    public async Task A_batch_runs_to_completion_through_the_Pi_layer()
    {
        using var files = new TestFiles();
        var (report, wiring, bank) = await RunBatchAsync(files);

        Assert.True(report.Outcome == "completed", $"{report.Outcome}: " + string.Join("; ", report.Alarms.Select(a => $"{a.Code} {a.Severity} {a.Phase} at {a.RaisedAt}: {a.Detail}")));
        Assert.Equal(["loading", "sealed", "heads", "hearts", "tails", "steaming"], report.Phases.Select(p => p.Phase).ToArray());
        Assert.DoesNotContain(report.Alarms, a => a.Severity == "trip");
        Assert.True(report.Phases.Single(p => p.Phase == "hearts").CoolingMaxCelsius <= 30.0, $"hearts cooling max {report.Phases.Single(p => p.Phase == "hearts").CoolingMaxCelsius}");
        var slow = Math.Max(report.Phases.Single(p => p.Phase == "heads").SteamMeanPercent!.Value, report.Phases.Single(p => p.Phase == "hearts").SteamMeanPercent!.Value);
        Assert.True(report.Phases.Single(p => p.Phase == "tails").SteamMeanPercent > 2 * slow, "strong steam chases the tails");
        var hearts = report.Fractions.Where(f => f.Phase == "hearts").Sum(f => f.VolumeLitres);
        Assert.InRange(hearts, 20, 150);

        // Every channel came through its wiring: Modbus frames, pulses, a contact.
        Assert.Equal(SimulatedWiring.Thermometers.Length + 4, bank.ConfiguredChannels.Count);
        var bus = Assert.Single(bank.Sources.OfType<Sensors.Modbus.ModbusBusSource>());
        Assert.True(bus.Counters.FramesOk > 1000, bus.Health);
        // Only the first polls, before the simulated transmitter has a first sample, go unanswered.
        Assert.True(bus.Counters.Timeouts <= 3, bus.Health);
        // At the end the outputs are safe: steam PWM 0, cooling valve de-energised (open), no receiver, horn and beacon on.
        Assert.Equal(System.Device.Gpio.PinValue.High, wiring.Driver.Level(SimulatedWiring.HornPin));
        Assert.All(SimulatedWiring.ReceiverPins.Values, pin => Assert.Equal(System.Device.Gpio.PinValue.Low, wiring.Driver.Level(pin)));
    }

    [Fact]
    public async Task An_open_PT100_element_in_hearts_trips_the_still()
    {
        using var files = new TestFiles();
        var (report, _, _) = await RunBatchAsync(files, """{ "faults": [ { "kind": "sensor-disconnect", "channel": "vapour", "phase": "hearts", "afterSeconds": 120 } ] }""");
        var alarm = Assert.Single(report.Alarms, a => a.Code == "sensor-fault:vapour");
        Assert.True(alarm.Severity == "trip", string.Join("; ", report.Alarms.Select(a => $"{a.Code} {a.Severity} {a.Phase} at {a.RaisedAt}: {a.Detail}")));
        Assert.Equal("hearts", alarm.Phase);
        // The module reports an open element as 327.67 °C: the quality layer rejects it as out of range.
        Assert.Contains("out-of-range", alarm.Detail);
        Assert.Equal("held", report.Outcome);
    }

    [Fact]
    public async Task The_emergency_stop_contact_trips_the_still()
    {
        using var files = new TestFiles();
        var (report, _, _) = await RunBatchAsync(files, """{ "faults": [ { "kind": "emergency-stop", "atSeconds": 600, "forSeconds": 30 } ] }""");
        var alarm = Assert.Single(report.Alarms, a => a.Code == "emergency-stop");
        Assert.Equal("trip", alarm.Severity);
        Assert.InRange(alarm.RaisedAt, 600, 601);
    }
}
