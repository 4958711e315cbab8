using StillControl.Physics;
using StillControl.Recipes;

namespace StillControl.Process;

/// <summary>
/// The interlock table rule by rule at its edges (the limit itself, the other direction, a reading that cannot be read), which
/// readings each phase needs, and which alarms an idle still raises: where mutation testing of <c>Interlocks.cs</c> found
/// changes no other test noticed.
/// </summary>
public class InterlockRuleTests
{
    private static void AssertHeldBy(ControllerHarness h, string code)
    {
        Assert.True(h.State.Held, $"not held; phase {h.State.Phase}");
        Assert.Equal(code, h.State.HoldCause);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
    }

    /// <summary>What each phase cannot run without, with the harness's channels (no lid switch, strength meter or check probe fitted).</summary>
    public static TheoryData<Phase, Channel, bool> Needs => new()
    {
        { Phase.Idle, Channel.SteamPressure, false },
        { Phase.Idle, Channel.CoolingFlow, false },
        { Phase.Idle, Channel.EmergencyStop, false },
        { Phase.Complete, Channel.CoolingFlow, false },
        { Phase.Aborted, Channel.SteamPressure, false },
        { Phase.Loading, Channel.SteamPressure, true },
        { Phase.Loading, Channel.CoolingFlow, true },
        { Phase.Loading, Channel.EmergencyStop, true },
        { Phase.Loading, Channel.BedSurface, true },
        // Loading's cooling loop runs on the distillate outlet; the cooling-water outlet it does not need yet.
        { Phase.Loading, Channel.Distillate, true },
        { Phase.Loading, Channel.CoolingOut, false },
        { Phase.Loading, Channel.DistillateFlow, false },
        { Phase.Loading, Channel.Vapour, false },
        { Phase.Sealed, Channel.BedSurface, false },
        { Phase.Sealed, Channel.Distillate, true },
        { Phase.Sealed, Channel.CoolingOut, true },
        { Phase.Sealed, Channel.DistillateFlow, true },
        { Phase.Sealed, Channel.CoolingIn, false },
        { Phase.Sealed, Channel.Vapour, false },
        { Phase.Heads, Channel.Vapour, true },
        { Phase.Hearts, Channel.Vapour, true },
        { Phase.Tails, Channel.Vapour, true },
        { Phase.Steaming, Channel.Vapour, false },
        { Phase.Steaming, Channel.DistillateFlow, true },
        { Phase.Steaming, Channel.SteamPressure, true },
        { Phase.Hearts, Channel.Strength, false },
        { Phase.Hearts, Channel.Steam, false },
        { Phase.Hearts, Channel.Barometer, false },
        { Phase.Hearts, Channel.LidClosed, false },
        { Phase.Hearts, Channel.DistillateCheck, false },
        { Phase.Hearts, Channel.CoolingIn, false },
    };

    [Theory]
    [MemberData(nameof(Needs))]
    public void Each_phase_needs_the_readings_it_runs_on_and_no_others(Phase phase, Channel channel, bool needed)
    {
        var h = new ControllerHarness();
        h.Step(4);
        Assert.Equal(needed, StillController.Requires(phase, channel, h.State, h.Recipe));
    }

    /// <summary>Optional inputs, once fitted, are needed from the moment they matter: the lid and the check probe from sealing on, a strength meter for the cuts.</summary>
    public static TheoryData<Phase, Channel, bool> FittedNeeds => new()
    {
        { Phase.Loading, Channel.LidClosed, false },
        { Phase.Sealed, Channel.LidClosed, true },
        { Phase.Hearts, Channel.LidClosed, true },
        { Phase.Complete, Channel.LidClosed, false },
        { Phase.Loading, Channel.DistillateCheck, false },
        { Phase.Sealed, Channel.DistillateCheck, true },
        { Phase.Steaming, Channel.DistillateCheck, true },
        { Phase.Sealed, Channel.Strength, false },
        { Phase.Heads, Channel.Strength, true },
        { Phase.Tails, Channel.Strength, true },
        { Phase.Steaming, Channel.Strength, false },
        // With a meter fitted, the cuts do not hang on the still-head probe.
        { Phase.Hearts, Channel.Vapour, false },
    };

    [Theory]
    [MemberData(nameof(FittedNeeds))]
    public void A_fitted_optional_input_is_needed_from_the_phase_it_guards_on(Phase phase, Channel channel, bool needed)
    {
        var h = new ControllerHarness();
        h.Values[Channel.LidClosed] = 1;
        h.Values[Channel.DistillateCheck] = 21;
        h.Values[Channel.Strength] = 60;
        h.Step(4);
        Assert.Equal(needed, StillController.Requires(phase, channel, h.State, h.Recipe));
    }

    [Fact]
    public void Without_an_emergency_stop_input_none_is_needed_and_with_one_it_is()
    {
        var h = new ControllerHarness();
        h.Values.Remove(Channel.EmergencyStop);
        h.Step(4);
        Assert.False(StillController.Requires(Phase.Hearts, Channel.EmergencyStop, h.State, h.Recipe));
        Assert.True(h.Command(CommandKind.Start).Accepted);
    }

    [Fact]
    public void A_phase_cooled_on_the_water_outlet_needs_that_reading_and_sealing_on_a_temperature_rise_needs_the_inlet()
    {
        var recipe = DefaultRecipe.Create();
        recipe.Loading.Cooling = new CoolingThreshold { Channel = CoolingChannels.CoolingOut, TargetCelsius = 40, MaximumCelsius = 50 };
        recipe.Sealed.FirstDistillate.RiseAboveCoolingInCelsius = 5;
        var h = new ControllerHarness(recipe);
        h.Step(4);
        Assert.True(StillController.Requires(Phase.Loading, Channel.CoolingOut, h.State, recipe));
        Assert.False(StillController.Requires(Phase.Loading, Channel.Distillate, h.State, recipe));
        Assert.True(StillController.Requires(Phase.Sealed, Channel.CoolingIn, h.State, recipe));
        Assert.False(StillController.Requires(Phase.Heads, Channel.CoolingIn, h.State, recipe));
        Assert.False(StillController.Requires(Phase.Loading, Channel.CoolingIn, h.State, recipe));
    }

    /// <summary>Each limit itself is still inside; the smallest step past it trips, in the step that sees it.</summary>
    [Theory]
    [InlineData(Channel.CoolingFlow, 5.0, 4.9, "cooling-water-loss")]
    [InlineData(Channel.SteamPressure, 70.0, 70.5, "steam-overpressure")]
    [InlineData(Channel.CoolingOut, 75.0, 75.5, "cooling-water-outlet-trip")]
    [InlineData(Channel.Distillate, 50.0, 50.5, "distillate-overtemperature")]
    public void A_reading_at_its_trip_limit_runs_on_and_one_past_it_trips(Channel channel, double limit, double past, string code)
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Exact.Add(channel);
        h.Values[channel] = limit;
        h.StepSeconds(10);
        Assert.Equal(limit, h.Readings[channel].Value);
        Assert.False(h.State.Held, StillController.Describe(h.State));
        Assert.DoesNotContain(h.State.AlarmLog, a => a.Code == code);

        h.Values[channel] = past;
        Assert.Equal(0, h.StepUntilHeld(2));
        AssertHeldBy(h, code);
    }

    [Fact]
    public void The_cooling_water_outlet_warns_above_its_warning_up_to_the_trip_and_trips_past_it()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Exact.Add(Channel.CoolingOut);
        h.Values[Channel.CoolingOut] = 70;
        h.StepSeconds(10);
        Assert.DoesNotContain(h.State.AlarmLog, a => a.Code == "cooling-water-outlet-high");
        h.Values[Channel.CoolingOut] = 75;
        h.StepSeconds(2);
        var warning = Assert.Single(h.State.AlarmLog, a => a.Code == "cooling-water-outlet-high");
        Assert.Equal("warning", warning.Severity);
        Assert.Contains("°C above 70 °C", warning.Detail);
        Assert.Equal(75, h.Readings[Channel.CoolingOut].Value);
        Assert.False(h.State.Held);
        // At the trip itself it is still the warning's band: the warning stays, past its clear time.
        h.StepSeconds(StillController.WarningClearSeconds + 5);
        Assert.Null(warning.ClearedAt);
        Assert.False(h.State.Held);
    }

    [Fact]
    public void An_emergency_stop_reads_pressed_from_half_scale_and_says_so()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.EmergencyStop] = 0.5;
        h.StepUntilHeld(1);
        AssertHeldBy(h, "emergency-stop");
        Assert.Equal("emergency stop pressed", h.State.AlarmLog.Single(a => a.Code == "emergency-stop").Detail);
    }

    [Fact]
    public void An_unreadable_emergency_stop_is_a_pressed_one_and_is_named_unreadable()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.EmergencyStop] = null;
        h.Faults[Channel.EmergencyStop] = FaultReason.Disconnected;
        h.StepUntilHeld(1);
        AssertHeldBy(h, "emergency-stop");
        Assert.Equal("emergency stop input unreadable (disconnected)", h.State.AlarmLog.Single(a => a.Code == "emergency-stop").Detail);
        Assert.True(h.Command(CommandKind.Ack).Accepted);
        Assert.Contains("emergency stop input unreadable (disconnected)", h.Command(CommandKind.Resume).Reason);
    }

    [Fact]
    public void A_lid_switch_reads_closed_from_half_scale_and_open_below_it()
    {
        var h = new ControllerHarness();
        h.Values[Channel.LidClosed] = 1;
        h.RunTo(Phase.Hearts);
        h.Values[Channel.LidClosed] = 0.5;
        h.StepSeconds(5);
        Assert.False(h.State.Held);
        h.Values[Channel.LidClosed] = 0.4;
        h.StepUntilHeld(1);
        AssertHeldBy(h, "lid-open");
        Assert.Equal("still lid open in hearts", h.State.AlarmLog.Single(a => a.Code == "lid-open").Detail);
    }

    /// <summary>Once the batch is over the still is unloaded with its lid off: no lid alarm then, though the switch is fitted.</summary>
    [Fact]
    public void Lifting_the_lid_after_the_batch_raises_nothing()
    {
        var h = new ControllerHarness();
        h.Values[Channel.LidClosed] = 1;
        h.RunTo(Phase.Hearts);
        Assert.True(h.Command(CommandKind.Abort).Accepted);
        h.StepSeconds(5);
        var before = h.Events.Count;
        h.Values[Channel.LidClosed] = 0;
        h.StepSeconds(5);
        Assert.DoesNotContain(h.Events.Skip(before), e => e.Kind == EventKind.AlarmRaised);
        Assert.False(h.Decisions.Horn);
        Assert.False(h.Decisions.Beacon);
        Assert.Equal("", StillController.Blocking(h.State, h.Recipe, h.State.Phase));
    }

    /// <summary>
    /// An idle still raises the alarms that mean danger whatever runs (an e-stop, overpressure, scalding water or distillate, an
    /// output not driven); no cooling water is no alarm while nothing runs, only a refused start.
    /// </summary>
    [Theory]
    [InlineData(Channel.EmergencyStop, 1.0, "emergency-stop", true)]
    [InlineData(Channel.SteamPressure, 90.0, "steam-overpressure", true)]
    [InlineData(Channel.CoolingOut, 80.0, "cooling-water-outlet-trip", true)]
    [InlineData(Channel.Distillate, 60.0, "distillate-overtemperature", true)]
    [InlineData(Channel.CoolingFlow, 0.0, "cooling-water-loss", false)]
    public void An_idle_still_alarms_on_danger_but_not_on_cooling_water_it_does_not_need(Channel channel, double value, string code, bool alarmed)
    {
        var h = new ControllerHarness();
        h.Step(4);
        h.Values[channel] = value;
        h.StepSeconds(10);
        Assert.Equal(alarmed, h.Events.Any(e => e.Kind == EventKind.AlarmRaised && e.Code == code));
        Assert.Equal(alarmed, h.Decisions.Horn);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.True(h.Decisions.SteamInhibited);
        var start = h.Command(CommandKind.Start);
        Assert.False(start.Accepted);
        Assert.Equal(Phase.Idle, h.State.Phase);
    }

    [Fact]
    public void An_idle_still_alarms_on_an_output_that_is_not_driven()
    {
        var h = new ControllerHarness();
        h.Step(4);
        h.Readings.OutputFault = "cooling valve: no reply";
        h.Decisions.Clear(h.Now);
        StillController.Step(h.Readings, h.State, h.Recipe, h.Now + ControllerHarness.Period, h.Decisions);
        Assert.Contains(h.Decisions.Events, e => e.Kind == EventKind.AlarmRaised && e.Code == "output-fault" && e.Message.Contains("cooling valve"));
        Assert.True(h.Decisions.Horn);
    }

    [Fact]
    public void A_steam_valve_that_does_not_open_when_commanded_trips_too()
    {
        var h = new ControllerHarness();
        // The position feedback stays at 0 %: the valve never moves while the loading steam ramps open.
        h.Values[Channel.SteamValvePosition] = 0;
        h.RunTo(Phase.Loading);
        h.StepUntilHeld(60);
        AssertHeldBy(h, "steam-valve-not-following");
        Assert.Contains("the steam valve stands at 0 % while commanded to", h.State.AlarmLog.Single(a => a.Code == "steam-valve-not-following").Detail);
        Assert.Contains(h.Events, e => e.Kind == EventKind.InterlockTrip && e.Code == "steam-valve-not-following" && e.Channel == Channel.SteamValvePosition);
    }

    [Fact]
    public void Distillate_probes_apart_by_their_tolerance_agree_and_a_check_probe_reading_low_disagrees()
    {
        var h = new ControllerHarness();
        h.Values[Channel.DistillateCheck] = 21;
        h.RunTo(Phase.Hearts);
        h.Exact.Add(Channel.Distillate);
        h.Exact.Add(Channel.DistillateCheck);
        h.Values[Channel.DistillateCheck] = 28 - StillController.DistillateProbesToleranceCelsius;
        h.StepSeconds(StillController.DistillateProbesDisagreeSeconds * 3);
        Assert.False(h.State.Held, StillController.Describe(h.State));
        // The check probe, not the first, walks low: the first reads higher than the check.
        h.Values[Channel.DistillateCheck] = 28 - StillController.DistillateProbesToleranceCelsius - 0.5;
        h.StepSeconds(StillController.DistillateProbesDisagreeSeconds + 2);
        AssertHeldBy(h, "distillate-probes-disagree");
    }

    [Fact]
    public void A_distillate_probe_colder_than_the_water_by_the_tolerance_is_plausible_and_colder_still_trips()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Exact.Add(Channel.Distillate);
        h.Exact.Add(Channel.CoolingIn);
        h.Values[Channel.Distillate] = 20 - StillController.DistillateBelowCoolingInToleranceCelsius;
        h.StepSeconds(StillController.DistillateBelowCoolingInSeconds * 3);
        Assert.False(h.State.Held, StillController.Describe(h.State));
        h.Values[Channel.Distillate] = 20 - StillController.DistillateBelowCoolingInToleranceCelsius - 0.2;
        h.StepSeconds(StillController.DistillateBelowCoolingInSeconds + 2);
        AssertHeldBy(h, "distillate-below-cooling-water");
        Assert.Contains("(20 °C in)", h.State.AlarmLog.Single(a => a.Code == "distillate-below-cooling-water").Detail);
    }

    /// <summary>A pulse meter's smallest flow (the noise floor) is flow; below it, hot vapour at the head with no flow trips.</summary>
    [Theory]
    [InlineData(0.05, false)]
    [InlineData(0.04, true)]
    public void Vapour_at_the_head_with_flow_at_the_noise_floor_is_flowing_and_below_it_is_not(double flow, bool trips)
    {
        var h = new ControllerHarness();
        h.Pulses.Add(Channel.DistillateFlow);
        h.RunTo(Phase.Sealed);
        h.Values[Channel.Vapour] = 90;
        h.Values[Channel.DistillateFlow] = flow;
        h.StepSeconds(StillController.VapourWithoutDistillateSeconds + 15);
        Assert.Equal(Phase.Sealed, h.State.Phase);
        Assert.Equal(trips, h.State.Held);
        if (trips) AssertHeldBy(h, "vapour-without-distillate");
        else Assert.DoesNotContain(h.State.AlarmLog, a => a.Code == "vapour-without-distillate");
    }

    [Fact]
    public void Cooling_water_taking_far_more_heat_than_the_distillate_gives_trips_too()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Distilling(82);
        h.StepSeconds(30);
        Assert.False(h.State.Held);
        // The outlet probe reads far too hot (but under its own limits): by it the water would take three times the heat.
        h.Values[Channel.CoolingOut] = 65;
        h.StepSeconds(StillController.CondenserUnbalancedSeconds - 10);
        Assert.False(h.State.Held);
        h.StepSeconds(20);
        AssertHeldBy(h, "condenser-heat-unbalanced");
    }

    /// <summary>The balance's two sides are the physics of the condenser: water flow × 4.186 kJ/kg·K × its rise; distillate mass flow × (latent heat + its cooling).</summary>
    [Fact]
    public void The_heat_balance_compares_the_water_s_heat_with_the_condensing_distillate_s()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Distilling(82);
        h.StepSeconds(30);
        var r = h.Readings;
        var water = r[Channel.CoolingFlow].Value / 60 * 4.186 * (r[Channel.CoolingOut].Value - r[Channel.CoolingIn].Value);
        Assert.Equal(water, h.State.CondenserWaterKilowatts, 6);
        var strength = h.State.StrengthPercentVolume!.Value;
        var kilogramsPerSecond = r[Channel.DistillateFlow].Value / 60 * EthanolWater.DensityKilogramsPerLitreAt(strength);
        var latent = EthanolWater.LatentHeatKilojoulesPerKilogram(EthanolWater.MassFractionFromStrength(strength));
        var vapour = kilogramsPerSecond * (latent + 3.6 * (r[Channel.Vapour].Value - r[Channel.Distillate].Value));
        Assert.Equal(vapour, h.State.CondenserVapourKilowatts, 6);
        Assert.InRange(vapour, 30, 60);
    }

    [Fact]
    public void A_trickle_of_distillate_is_too_little_heat_to_judge_the_balance()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Distilling(82, flowLitresPerMinute: 0.2);
        h.Values[Channel.CoolingOut] = 65;
        h.StepSeconds(StillController.CondenserUnbalancedSeconds * 2);
        Assert.True(h.State.CondenserVapourKilowatts < 5);
        Assert.True(h.State.CondenserWaterKilowatts > 2 * h.State.CondenserVapourKilowatts);
        Assert.DoesNotContain(h.State.AlarmLog, a => a.Code == "condenser-heat-unbalanced");
        Assert.False(h.State.Held);
    }

    /// <summary>Steam closed, the condenser takes what is left in it: a held batch's balance says nothing, and is not counted toward a trip.</summary>
    [Fact]
    public void A_held_batch_s_heat_balance_is_not_judged()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Distilling(82);
        h.StepSeconds(30);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        h.Values[Channel.CoolingOut] = 24;
        h.StepSeconds(StillController.CondenserUnbalancedSeconds * 2);
        Assert.Equal(0, h.State.CondenserUnbalancedSeconds);
        Assert.DoesNotContain(h.State.AlarmLog, a => a.Code == "condenser-heat-unbalanced");
        Assert.Equal("operator-hold", h.State.HoldCause);
    }

    [Fact]
    public void An_interlock_trip_names_the_reading_behind_it()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.CoolingFlow] = 1;
        h.StepUntilHeld(2);
        Assert.Equal(Channel.CoolingFlow, h.Events.Single(e => e.Kind == EventKind.InterlockTrip).Channel);

        var g = new ControllerHarness();
        g.RunTo(Phase.Hearts);
        g.Values[Channel.Vapour] = null;
        g.StepUntilHeld(2);
        var trip = g.Events.Single(e => e.Kind == EventKind.InterlockTrip);
        Assert.Equal("sensor-fault:vapour", trip.Code);
        Assert.Equal(Channel.Vapour, trip.Channel);
        Assert.Equal("vapour reading rejected: disconnected (hearts needs it)", trip.Message);

        var o = new ControllerHarness();
        o.RunTo(Phase.Hearts);
        o.Readings.OutputFault = "steam valve: no reply";
        o.Step();
        Assert.Null(o.Events.Single(e => e.Kind == EventKind.InterlockTrip).Channel);
    }

    /// <summary>A reading the sealed still only warns about becomes a trip, in the same alarm record, when heads start to need it.</summary>
    [Fact]
    public void A_sensor_warning_becomes_a_trip_when_the_next_phase_needs_the_reading()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Sealed);
        h.Values[Channel.Vapour] = null;
        h.StepSeconds(2);
        var record = Assert.Single(h.State.AlarmLog, a => a.Code == "sensor-fault:vapour");
        Assert.Equal("warning", record.Severity);
        Assert.Equal("vapour reading rejected: disconnected", record.Detail);
        Assert.False(h.State.Held);
        h.Values[Channel.DistillateFlow] = 2.5;
        h.Step();
        Assert.Equal(Phase.Heads, h.State.Phase);
        AssertHeldBy(h, "sensor-fault:vapour");
        Assert.Same(record, Assert.Single(h.State.AlarmLog, a => a.Code == "sensor-fault:vapour"));
        Assert.Equal("trip", record.Severity);
        Assert.True(h.State.AlarmSlots[Alarms.SensorSlot(Channel.Vapour)].Trip);
        Assert.True(h.Decisions.SteamInhibited);
    }

    [Theory]
    [InlineData(27.9, false)]
    [InlineData(28.0, true)]
    public void Cooling_water_whose_reach_is_the_hearts_maximum_itself_cannot_hold_it(double inlet, bool unreachable)
    {
        var h = new ControllerHarness();
        h.Exact.Add(Channel.CoolingIn);
        h.Values[Channel.CoolingIn] = inlet;
        h.Values[Channel.Distillate] = inlet + 1;
        h.RunTo(Phase.Loading);
        Assert.True(h.Command(CommandKind.Seal).Accepted);
        h.StepSeconds(2);
        Assert.Equal(unreachable, h.State.Held);
        Assert.Equal(unreachable, h.State.AlarmLog.Any(a => a.Code == "cooling-limit-unreachable"));
    }

    [Fact]
    public void Water_too_warm_for_heads_and_hearts_names_heads_first_and_one_acceptance_records_both()
    {
        var h = new ControllerHarness();
        h.Values[Channel.CoolingIn] = 31.5;
        h.Values[Channel.Distillate] = 33;
        h.RunTo(Phase.Loading);
        Assert.True(h.Command(CommandKind.Seal).Accepted);
        h.StepSeconds(2);
        AssertHeldBy(h, "cooling-limit-unreachable");
        Assert.Contains("cannot hold the heads maximum of 33 °C", h.State.AlarmLog.Single(a => a.Code == "cooling-limit-unreachable").Detail);
        h.Command(CommandKind.Ack);
        var resumed = h.Command(CommandKind.Resume, StillController.AcceptDeviation);
        Assert.True(resumed.Accepted, resumed.Reason);
        Assert.Equal(["heads", "hearts"], h.State.Deviations.Select(d => d.Phase).ToArray());
        Assert.Contains("heads cooling limit, hearts cooling limit", resumed.Reason);
        h.StepSeconds(10);
        Assert.False(h.State.Held);
    }

    /// <summary>Tails and steaming run hot on purpose; warm cooling water is judged only against the heads' and hearts' limits.</summary>
    [Fact]
    public void Warm_cooling_water_is_not_judged_in_tails()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Tails);
        h.Values[Channel.CoolingIn] = 33;
        h.Values[Channel.Distillate] = 36;
        h.StepSeconds(10);
        Assert.False(h.State.Held, StillController.Describe(h.State));
        Assert.DoesNotContain(h.State.AlarmLog, a => a.Code == "cooling-limit-unreachable");
    }
    /// <summary>Each cross-check trips in the step its confirm time is reached, not a step later.</summary>
    [Theory]
    [InlineData("vapour-without-distillate")]
    [InlineData("distillate-below-cooling-water")]
    [InlineData("distillate-probes-disagree")]
    [InlineData("condenser-heat-unbalanced")]
    [InlineData("steam-valve-not-following")]
    public void A_cross_check_trips_when_its_confirm_time_is_reached(string code)
    {
        var h = new ControllerHarness();
        Func<double> counted;
        double confirm;
        switch (code)
        {
            case "vapour-without-distillate":
                h.RunTo(Phase.Sealed);
                h.Values[Channel.Vapour] = 90;
                (counted, confirm) = (() => h.State.VapourWithoutDistillateSeconds, StillController.VapourWithoutDistillateSeconds);
                break;
            case "distillate-below-cooling-water":
                h.RunTo(Phase.Hearts);
                h.Values[Channel.Distillate] = 10;
                (counted, confirm) = (() => h.State.DistillateBelowCoolingInSeconds, StillController.DistillateBelowCoolingInSeconds);
                break;
            case "distillate-probes-disagree":
                h.Values[Channel.DistillateCheck] = 21;
                h.RunTo(Phase.Hearts);
                h.Values[Channel.Distillate] = 24.5;
                (counted, confirm) = (() => h.State.DistillateProbesDisagreeSeconds, StillController.DistillateProbesDisagreeSeconds);
                break;
            case "condenser-heat-unbalanced":
                h.RunTo(Phase.Hearts);
                h.Distilling(82);
                h.StepSeconds(30);
                h.Values[Channel.CoolingOut] = 24;
                (counted, confirm) = (() => h.State.CondenserUnbalancedSeconds, StillController.CondenserUnbalancedSeconds);
                break;
            default:
                h.Values[Channel.SteamValvePosition] = 0;
                h.RunTo(Phase.Loading);
                (counted, confirm) = (() => h.State.ValveNotFollowingSeconds, StillController.ValveNotFollowingSeconds);
                break;
        }
        h.StepUntilHeld(confirm + 60);
        Assert.Equal(code, h.State.HoldCause);
        Assert.Equal(confirm, counted());
    }

    /// <summary>Outside a batch too, a steam valve standing open while commanded shut is an alarm; within the positioner's tolerance it is not.</summary>
    [Fact]
    public void An_idle_still_alarms_on_a_steam_valve_standing_open_past_its_tolerance()
    {
        var h = new ControllerHarness();
        h.Exact.Add(Channel.SteamValvePosition);
        h.Values[Channel.SteamValvePosition] = StillController.ValvePositionTolerancePercent;
        h.StepSeconds(StillController.ValveNotFollowingSeconds * 3);
        Assert.DoesNotContain(h.Events, e => e.Code == "steam-valve-not-following");
        Assert.Equal(0, h.State.ValveNotFollowingSeconds);
        h.Values[Channel.SteamValvePosition] = StillController.ValvePositionTolerancePercent + 0.5;
        h.StepSeconds(StillController.ValveNotFollowingSeconds + 1);
        Assert.Contains(h.Events, e => e.Kind == EventKind.AlarmRaised && e.Code == "steam-valve-not-following");
        Assert.True(h.Decisions.Horn);
        Assert.False(h.Command(CommandKind.Start).Accepted);
    }

    /// <summary>A reading every phase needs with no source configured blocks a start in words naming it and the phase.</summary>
    [Fact]
    public void A_needed_reading_with_no_source_is_named_when_a_start_is_refused()
    {
        var h = new ControllerHarness();
        h.Values.Remove(Channel.SteamPressure);
        h.StepSeconds(h.Recipe.Sensors.Barometer.StaleSeconds + 1);
        Assert.False(h.Decisions.Settling);
        var start = h.Command(CommandKind.Start);
        Assert.False(start.Accepted);
        Assert.Equal("steam may not open: steam-pressure reading rejected: no source configured (loading needs it)", start.Reason);
    }

    /// <summary>What blocks steam is said once per cause: the cooling-water rule speaks for its reading, a needed probe in its own words.</summary>
    [Fact]
    public void What_blocks_steam_names_each_cause_once_in_its_own_words()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.CoolingFlow] = null;
        h.Values[Channel.Vapour] = null;
        h.Faults[Channel.Vapour] = FaultReason.ChecksumError;
        h.StepUntilHeld(2);
        Assert.Equal("cooling-water flow not proven: reading disconnected; vapour reading rejected: checksum-error (hearts needs it)",
            StillController.Blocking(h.State, h.Recipe, Phase.Hearts));
    }

    /// <summary>At low air pressure everything boils cooler: 76 °C at the head is boiling spirit at 900 hPa, not at 1013.</summary>
    [Theory]
    [InlineData(900.0, true)]
    [InlineData(1013.25, false)]
    public void Vapour_at_the_head_is_judged_at_the_air_pressure_measured(double hectopascals, bool trips)
    {
        var h = new ControllerHarness();
        h.Values[Channel.Barometer] = hectopascals;
        h.RunTo(Phase.Sealed);
        h.Values[Channel.Vapour] = 76;
        h.StepSeconds(StillController.VapourWithoutDistillateSeconds + 10);
        Assert.Equal(trips, h.State.Held);
        Assert.Equal(trips, h.State.AlarmLog.Any(a => a.Code == "vapour-without-distillate"));
    }

    [Fact]
    public void Without_a_barometer_reading_vapour_at_the_head_is_judged_at_standard_pressure()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Sealed);
        h.Values[Channel.Barometer] = null;
        h.Values[Channel.Vapour] = 80;
        h.StepSeconds(StillController.VapourWithoutDistillateSeconds + 10);
        Assert.Equal("vapour-without-distillate", h.State.HoldCause);
    }

    /// <summary>Vapour breaking through while loading, with no distillate yet, is normal: the count starts when the lid goes on.</summary>
    [Fact]
    public void Hot_vapour_with_no_flow_while_loading_is_not_counted()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Loading);
        h.Values[Channel.Vapour] = 90;
        h.StepSeconds(StillController.VapourWithoutDistillateSeconds + 30);
        Assert.Equal(0, h.State.VapourWithoutDistillateSeconds);
        Assert.True(h.Command(CommandKind.Seal).Accepted);
        h.StepSeconds(StillController.VapourWithoutDistillateSeconds - 10);
        Assert.False(h.State.Held);
        h.StepSeconds(15);
        Assert.Equal("vapour-without-distillate", h.State.HoldCause);
    }

    /// <summary>A distillate probe colder than the water (with flow past it) is judged from sealing on, not while loading.</summary>
    [Fact]
    public void A_distillate_probe_colder_than_the_water_is_judged_from_sealing_on()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Loading);
        h.Values[Channel.DistillateFlow] = 0.1;
        h.Values[Channel.Distillate] = 12;
        h.StepSeconds(StillController.DistillateBelowCoolingInSeconds * 3);
        Assert.False(h.State.Held);
        Assert.DoesNotContain(h.Events, e => e.Code == "distillate-below-cooling-water");
        Assert.True(h.Command(CommandKind.Seal).Accepted);
        h.Step();
        Assert.Equal(Phase.Sealed, h.State.Phase);
        Assert.Equal("distillate-below-cooling-water", h.State.HoldCause);
    }

    [Fact]
    public void Distillate_probes_that_disagree_are_judged_from_sealing_on()
    {
        var h = new ControllerHarness();
        h.Values[Channel.DistillateCheck] = 26;
        h.RunTo(Phase.Loading);
        h.StepSeconds(StillController.DistillateProbesDisagreeSeconds * 3);
        Assert.False(h.State.Held);
        Assert.True(h.Command(CommandKind.Seal).Accepted);
        h.Step();
        Assert.Equal(Phase.Sealed, h.State.Phase);
        Assert.Equal("distillate-probes-disagree", h.State.HoldCause);
    }

    /// <summary>The pulse meter's smallest flow is distillate running past the probe: a probe colder than the water is judged then.</summary>
    [Fact]
    public void Distillate_at_the_flow_noise_floor_runs_past_the_probe()
    {
        var h = new ControllerHarness();
        h.Pulses.Add(Channel.DistillateFlow);
        h.RunTo(Phase.Sealed);
        h.Values[Channel.DistillateFlow] = 0.05;
        h.Values[Channel.Distillate] = 12;
        h.StepSeconds(StillController.DistillateBelowCoolingInSeconds + 5);
        Assert.Equal(Phase.Sealed, h.State.Phase);
        Assert.Equal("distillate-below-cooling-water", h.State.HoldCause);
    }

    /// <summary>Grain steaming sends weak distillate to the drain: its heat balance is not judged, nor counted for later.</summary>
    [Fact]
    public void The_heat_balance_is_not_judged_while_steaming()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Steaming);
        h.Distilling(99);
        h.Values[Channel.CoolingOut] = 24;
        h.StepSeconds(StillController.CondenserUnbalancedSeconds * 2);
        Assert.Equal(0, h.State.CondenserUnbalancedSeconds);
        Assert.False(h.State.Held);
    }

    /// <summary>A held batch stays held by what held it: a trip raised meanwhile sounds, but neither re-holds nor renames the cause.</summary>
    [Fact]
    public void A_trip_while_held_raises_its_alarm_but_keeps_the_hold_s_cause()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        var since = h.State.HeldSince;
        h.Step(4);
        h.Values[Channel.CoolingFlow] = 1;
        h.StepSeconds(2);
        Assert.Equal("operator-hold", h.State.HoldCause);
        Assert.Equal(since, h.State.HeldSince);
        Assert.DoesNotContain(h.Events, e => e.Kind == EventKind.InterlockTrip);
        Assert.Contains(h.State.AlarmLog, a => a.Code == "cooling-water-loss");
        Assert.True(h.Decisions.SteamInhibited);
    }

    /// <summary>Several trips in one step: the batch is held by the first in the table's order (the emergency stop first of all).</summary>
    [Fact]
    public void Trips_in_the_same_step_hold_the_batch_by_the_first_in_order()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.EmergencyStop] = 1;
        h.Values[Channel.CoolingFlow] = 1;
        h.Values[Channel.Vapour] = null;
        h.Step();
        Assert.Equal("emergency-stop", h.State.HoldCause);
        Assert.Equal("emergency-stop", Assert.Single(h.Events, e => e.Kind == EventKind.InterlockTrip).Code);

        var g = new ControllerHarness();
        g.RunTo(Phase.Hearts);
        g.Values[Channel.CoolingFlow] = 1;
        g.Values[Channel.Vapour] = null;
        g.Step();
        Assert.Equal("cooling-water-loss", g.State.HoldCause);

        var f = new ControllerHarness();
        f.RunTo(Phase.Hearts);
        f.Values[Channel.EmergencyStop] = 1;
        f.Values[Channel.Vapour] = null;
        f.Step();
        Assert.Equal("emergency-stop", f.State.HoldCause);
    }

    /// <summary>A sensor warning whose fault has already gone (its clear time still running) is not made a trip when the next phase needs the reading.</summary>
    [Fact]
    public void A_sensor_warning_whose_fault_has_gone_stays_a_warning_into_the_next_phase()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Sealed);
        h.Values[Channel.Vapour] = null;
        h.StepSeconds(2);
        h.Values[Channel.Vapour] = 25;
        h.StepSeconds(2);
        Assert.True(h.State.AlarmSlots[Alarms.SensorSlot(Channel.Vapour)].Active);
        h.Values[Channel.DistillateFlow] = 2.5;
        h.Step();
        Assert.Equal(Phase.Heads, h.State.Phase);
        Assert.False(h.State.Held);
        Assert.Equal("warning", h.State.AlarmLog.Single(a => a.Code == "sensor-fault:vapour").Severity);
    }

    /// <summary>Cooling water warming during hearts: the hearts limit is the one out of reach (heads are over), and it is named.</summary>
    [Fact]
    public void Cooling_water_warming_during_hearts_names_the_hearts_limit()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.CoolingIn] = 31.5;
        h.Values[Channel.Distillate] = 33;
        h.StepSeconds(5);
        Assert.Equal("cooling-limit-unreachable", h.State.HoldCause);
        Assert.Contains("cannot hold the hearts maximum of 30 °C", h.State.AlarmLog.Single(a => a.Code == "cooling-limit-unreachable").Detail);
        // Warm enough now for the heads' limit too, but heads are over: what blocks a resume is still the hearts limit.
        Assert.Equal(31.5, h.Readings[Channel.CoolingIn].Value, 1);
        Assert.Contains("cannot hold the hearts maximum of 30 °C", StillController.Blocking(h.State, h.Recipe, Phase.Hearts));
    }

    /// <summary>Water warm enough that even the sealed phase's own limit is out of reach: the first collecting phase, heads, is the one named.</summary>
    [Fact]
    public void At_sealing_the_limits_judged_are_the_collecting_phases_only()
    {
        var h = new ControllerHarness();
        h.Values[Channel.CoolingIn] = 33.5;
        h.Values[Channel.Distillate] = 35;
        h.RunTo(Phase.Loading);
        Assert.True(h.Command(CommandKind.Seal).Accepted);
        h.StepSeconds(1);
        Assert.Equal("cooling-limit-unreachable", h.State.HoldCause);
        Assert.Contains("cannot hold the heads maximum of 33 °C", h.State.AlarmLog.Single(a => a.Code == "cooling-limit-unreachable").Detail);
    }

    /// <summary>A batch aborted on a cross-check leaves no count behind that could block the next one.</summary>
    [Fact]
    public void A_new_batch_right_after_an_abort_is_not_blocked_by_the_old_batch_s_cross_checks()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Sealed);
        h.Values[Channel.Vapour] = 90;
        h.StepUntilHeld(StillController.VapourWithoutDistillateSeconds + 30);
        Assert.Equal("vapour-without-distillate", h.State.HoldCause);
        Assert.True(h.Command(CommandKind.Abort).Accepted);
        Assert.True(h.Command(CommandKind.Ack).Accepted);
        var start = h.Command(CommandKind.Start, "b-2");
        Assert.True(start.Accepted, start.Reason);
    }
}
