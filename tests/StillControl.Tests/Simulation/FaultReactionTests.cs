namespace StillControl.Simulation;

/// <summary>Each fault kind on the simulated still, closed loop: the reaction the distiller relies on.</summary>
public class FaultReactionTests
{
    private const double PeriodMs = 250;

    private static double Raised(Simulate run, string code) => run.Alarm(code).GetProperty("raisedAt").GetDouble();

    /// <param name="detectionSeconds">How long the fault takes to show in the readings by its nature (a stuck value must repeat; a surge must build).</param>
    /// <param name="samplingMs">The faulted sensor's own sampling interval (a DS18B20 converts every 750 ms).</param>
    private static void AssertTrippedSafely(Simulate run, string code, string phase, double expectedAt, double toleranceSeconds, double detectionSeconds = 0, double samplingMs = 750)
    {
        var alarm = run.Alarm(code);
        Assert.Equal("trip", alarm.GetProperty("severity").GetString());
        var at = alarm.GetProperty("raisedAt").GetDouble();
        var hearts = run.Phase(phase).GetProperty("start").GetDouble();
        Assert.InRange(at - hearts, expectedAt - 0.01, expectedAt + toleranceSeconds);
        // From the fault's onset in the simulated world to steam shut at the still: one period plus the sensor's sampling
        // interval, after whatever time the fault needs to show at all.
        Assert.NotNull(run.InterlockLatencyMs);
        Assert.InRange(run.InterlockLatencyMs!.Value, 0, detectionSeconds * 1000 + PeriodMs + samplingMs);
        var reaction = Assert.Single(run.Result.GetProperty("faultReactions").EnumerateArray());
        Assert.Equal("steam shut", reaction.GetProperty("verdict").GetString());
        AssertSteamClosedWhileHeldAfter(run, at);
    }

    /// <summary>Every sample from the trip on shows steam closed while the batch is held.</summary>
    private static void AssertSteamClosedWhileHeldAfter(Simulate run, double tripSeconds)
    {
        foreach (var sample in run.Samples().Where(s => s.Seconds > tripSeconds + 0.3 && s.Held))
        {
            Assert.Equal(0, sample.Steam);
        }
    }

    [Fact]
    public async Task Cooling_water_loss_trips_and_the_batch_resumes_after_the_water_returns()
    {
        using var run = await Simulate.RunAsync("""
            { "faults": [ { "kind": "cooling-water-loss", "phase": "hearts", "afterSeconds": 300, "forSeconds": 180 } ],
              "operator": [ { "command": "resume", "phase": "hearts", "afterSeconds": 600 } ] }
            """);
        AssertTrippedSafely(run, "cooling-water-loss", "hearts", 300, 1.5, samplingMs: 1000);
        var alarm = run.Alarm("cooling-water-loss");
        Assert.True(alarm.GetProperty("clearedAt").GetDouble() - Raised(run, "cooling-water-loss") >= 170);
        Assert.Contains(run.Result.GetProperty("operatorActions").EnumerateArray(), a => a.GetProperty("command").GetString() == "resume" && a.GetProperty("accepted").GetBoolean());
        Assert.Equal("completed", run.Outcome);
        var held = run.Samples().Where(s => s.Held).ToList();
        Assert.NotEmpty(held);
        Assert.All(held, s => Assert.Equal(0, s.Steam));
    }

    [Fact]
    public async Task A_resume_before_the_cause_clears_is_refused()
    {
        using var run = await Simulate.RunAsync("""
            { "faults": [ { "kind": "cooling-water-loss", "phase": "hearts", "afterSeconds": 60 } ],
              "operator": [ { "command": "resume", "phase": "hearts", "afterSeconds": 200, "operator": "li" } ] }
            """);
        Assert.Equal("held", run.Outcome);
        var resume = Assert.Single(run.Result.GetProperty("operatorActions").EnumerateArray(), a => a.GetProperty("command").GetString() == "resume");
        Assert.False(resume.GetProperty("accepted").GetBoolean());
        Assert.Contains("cooling-water", resume.GetProperty("reason").GetString());
        Assert.Equal("li", resume.GetProperty("operator").GetString());
    }

    [Fact]
    public async Task A_condenser_short_of_water_cuts_steam_back_with_an_alarm_while_the_valve_is_fully_open()
    {
        // The supply falls to 12 %: flow is still proven, but the condenser cannot hold the hearts under 30 °C at full steam.
        using var run = await Simulate.RunAsync("""
            { "faults": [ { "kind": "cooling-water-low", "factor": 0.12, "phase": "hearts", "afterSeconds": 120, "forSeconds": 300 } ] }
            """);
        var alarm = run.Alarm("cooling-over-maximum");
        Assert.Equal("warning", alarm.GetProperty("severity").GetString());
        var hearts = run.Phase("hearts").GetProperty("start").GetDouble();
        var samples = run.Samples();
        var before = samples.Where(s => s.Seconds > hearts + 30 && s.Seconds < hearts + 120).Average(s => s.Steam);
        var during = samples.Where(s => s.Seconds > Raised(run, "cooling-over-maximum") + 30 && s.Seconds < hearts + 420 && s.Phase == "hearts").Average(s => s.Steam);
        Assert.True(during < before * 0.7, $"steam before {before:0.0} %, during {during:0.0} %");
        Assert.Equal("completed", run.Outcome);
    }

    [Fact]
    public async Task A_steam_pressure_surge_trips_on_overpressure()
    {
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "steam-pressure-surge", "factor": 3, "phase": "tails", "afterSeconds": 60 } ] }""");
        AssertTrippedSafely(run, "steam-overpressure", "tails", 60, 10, detectionSeconds: 10, samplingMs: 200);
        Assert.Equal("held", run.Outcome);
    }

    [Fact]
    public async Task A_disconnected_vapour_probe_trips_in_hearts()
    {
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "sensor-disconnect", "channel": "vapour", "phase": "hearts", "afterSeconds": 120 } ] }""");
        AssertTrippedSafely(run, "sensor-fault:vapour", "hearts", 120, 0.5);
        Assert.Contains("disconnected", run.Alarm("sensor-fault:vapour").GetProperty("detail").GetString());
        Assert.Equal("held", run.Outcome);
    }

    [Fact]
    public async Task A_stuck_distillate_probe_trips_once_it_has_repeated_itself_too_long()
    {
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "sensor-stuck", "channel": "distillate", "phase": "hearts", "afterSeconds": 60 } ] }""");
        // The frozen value first appeared up to one DS18B20 period before the fault began.
        AssertTrippedSafely(run, "sensor-fault:distillate", "hearts", 60 + 120 - 0.75, 2, detectionSeconds: 120);
        Assert.Contains("stuck", run.Alarm("sensor-fault:distillate").GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_spike_on_the_steam_pressure_trips_instead_of_being_believed()
    {
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "sensor-spike", "channel": "steam-pressure", "valueCelsius": 40, "phase": "hearts", "afterSeconds": 90, "forSeconds": 1 } ] }""");
        AssertTrippedSafely(run, "sensor-fault:steam-pressure", "hearts", 90, 0.5);
        Assert.Contains("spike", run.Alarm("sensor-fault:steam-pressure").GetProperty("detail").GetString());
        Assert.DoesNotContain(run.Alarms, a => a.GetProperty("code").GetString() == "steam-overpressure");
    }

    [Fact]
    public async Task A_DS18B20_power_on_reading_trips_instead_of_reading_as_85_degrees()
    {
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "sensor-power-on-reading", "channel": "cooling-out", "phase": "hearts", "afterSeconds": 90, "forSeconds": 2 } ] }""");
        AssertTrippedSafely(run, "sensor-fault:cooling-out", "hearts", 90, 1);
        Assert.Contains("power-on-value", run.Alarm("sensor-fault:cooling-out").GetProperty("detail").GetString());
        Assert.DoesNotContain(run.Alarms, a => a.GetProperty("code").GetString() == "cooling-water-outlet-trip");
    }

    [Fact]
    public async Task The_emergency_stop_trips_even_while_loading()
    {
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "emergency-stop", "atSeconds": 600, "forSeconds": 30 } ] }""");
        AssertTrippedSafely(run, "emergency-stop", "loading", 600, 0.5);
    }

    [Fact]
    public async Task A_steam_valve_that_stops_answering_trips_within_two_periods_names_the_valve_and_the_batch_resumes_after()
    {
        using var run = await Simulate.RunAsync("""
            { "faults": [ { "kind": "steam-valve-unresponsive", "phase": "hearts", "afterSeconds": 120, "forSeconds": 60 } ],
              "operator": [ { "command": "resume", "phase": "hearts", "afterSeconds": 400 } ] }
            """);
        var alarm = run.Alarm("output-fault");
        Assert.Equal("trip", alarm.GetProperty("severity").GetString());
        Assert.Contains("steam valve not answering", alarm.GetProperty("detail").GetString());
        // The outputs report the failed write after the step that made it: seen at the next step, two periods at most.
        var hearts = run.Phase("hearts").GetProperty("start").GetDouble();
        Assert.InRange(alarm.GetProperty("raisedAt").GetDouble() - hearts, 120 - 0.01, 120 + 2 * PeriodMs / 1000);
        Assert.True(alarm.GetProperty("clearedAt").GetDouble() - alarm.GetProperty("raisedAt").GetDouble() >= 59);
        AssertSteamClosedWhileHeldAfter(run, alarm.GetProperty("raisedAt").GetDouble());
        Assert.Contains(run.Result.GetProperty("operatorActions").EnumerateArray(), a => a.GetProperty("command").GetString() == "resume" && a.GetProperty("accepted").GetBoolean());
        Assert.Equal("completed", run.Outcome);
    }

    [Fact]
    public async Task Lifting_the_lid_in_hearts_trips_and_the_batch_resumes_once_it_is_back_on()
    {
        using var run = await Simulate.RunAsync("""
            { "faults": [ { "kind": "lid-open", "phase": "hearts", "afterSeconds": 200, "forSeconds": 40 } ],
              "operator": [ { "command": "resume", "phase": "hearts", "afterSeconds": 400 } ] }
            """);
        AssertTrippedSafely(run, "lid-open", "hearts", 200, 0.5);
        Assert.Contains("lid open", run.Alarm("lid-open").GetProperty("detail").GetString());
        Assert.Equal("completed", run.Outcome);
    }

    [Fact]
    public async Task With_the_lid_switch_fitted_the_distiller_seals_and_the_default_batch_completes_and_without_it_too()
    {
        using var fitted = await Simulate.RunAsync();
        Assert.Equal("completed", fitted.Outcome);
        Assert.Contains(fitted.Result.GetProperty("operatorActions").EnumerateArray(), a => a.GetProperty("command").GetString() == "seal" && a.GetProperty("accepted").GetBoolean());
        // The switch reads open while the grain goes in, closed from sealing on.
        using (var query = new Reports.JournalQuery(fitted.Journal))
        {
            var samples = query.Samples(fitted.Result.GetProperty("batchId").GetString()!);
            var lid = (int)Process.Channel.LidClosed;
            var loading = samples.Where(r => r.Phase == "loading").ToList();
            var lidOn = loading.FindIndex(r => r.Values[lid] == 1);
            // Open through loading; the distiller puts the lid on two seconds before the seal command.
            Assert.Equal(0, loading[0].Values[lid]);
            Assert.InRange(loading.Count - lidOn, 1, 3);
            Assert.All(loading.Skip(lidOn), r => Assert.Equal(1, r.Values[lid]));
            Assert.All(samples.Where(r => r.Phase is "heads" or "hearts" or "tails"), r => Assert.Equal(1, r.Values[lid]));
        }
        using var without = await Simulate.RunAsync("""{ "lidSwitch": false }""");
        Assert.Equal("completed", without.Outcome);
    }

    [Fact]
    public async Task A_fault_on_a_reading_no_phase_needs_only_warns_and_the_batch_completes()
    {
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "sensor-disconnect", "channel": "steam", "atSeconds": 300, "forSeconds": 600 } ] }""");
        Assert.Equal("completed", run.Outcome);
        Assert.Equal("warning", run.Alarm("sensor-fault:steam").GetProperty("severity").GetString());
    }
}
