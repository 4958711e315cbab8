using StillControl.Recipes;

namespace StillControl.Process;

/// <summary>
/// The rules that trust no single sensor, no recipe and no restart: each test fails when its rule is taken out of the controller.
/// </summary>
public class SafetyRuleTests
{
    private static void AssertHeldBy(ControllerHarness h, string code)
    {
        Assert.True(h.State.Held, $"not held; phase {h.State.Phase}");
        Assert.Equal(code, h.State.HoldCause);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
        Assert.False(h.Decisions.SteamIsolationOpen);
    }

    [Fact]
    public void Hot_still_head_vapour_with_no_distillate_flow_trips_after_the_confirm_time_and_not_before()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Sealed);
        // A dead flow meter: it reads 0 while vapour reaches the still head.
        h.Values[Channel.Vapour] = 90;
        h.StepSeconds(10);
        h.StepSeconds(StillController.VapourWithoutDistillateSeconds - 15);
        Assert.False(h.State.Held);
        Assert.Equal(Phase.Sealed, h.State.Phase);
        h.StepSeconds(10);
        AssertHeldBy(h, "vapour-without-distillate");
        var alarm = Assert.Single(h.State.AlarmLog, a => a.Code == "vapour-without-distillate");
        Assert.Equal("trip", alarm.Severity);
        Assert.Contains("flow meter is dead", alarm.Detail);
    }

    [Fact]
    public void Cold_vapour_with_no_flow_is_no_fault()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Sealed);
        h.Values[Channel.Vapour] = 60;
        h.StepSeconds(300);
        Assert.False(h.State.Held);
        Assert.DoesNotContain(h.State.AlarmLog, a => a.Code == "vapour-without-distillate");
    }

    [Fact]
    public void A_distillate_reading_colder_than_its_cooling_water_trips_and_blocks_resume_even_once_the_flow_stops()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        // The probe drifts down (no spike) to 10 °C while 20 °C water cools the condenser.
        h.Values[Channel.Distillate] = 10;
        h.StepSeconds(StillController.DistillateBelowCoolingInSeconds + 5);
        AssertHeldBy(h, "distillate-below-cooling-water");
        h.Values[Channel.DistillateFlow] = 0;
        h.StepSeconds(30);
        Assert.True(h.Command(CommandKind.Ack).Accepted);
        var resume = h.Command(CommandKind.Resume);
        Assert.False(resume.Accepted);
        Assert.Contains("colder than the cooling water", resume.Reason);
        // The probe put right: the condition clears and the batch may go on.
        h.Values[Channel.Distillate] = 24;
        h.StepSeconds(5);
        h.Command(CommandKind.Ack);
        Assert.True(h.Command(CommandKind.Resume).Accepted);
    }

    [Fact]
    public void Two_distillate_probes_that_disagree_trip_and_agreeing_ones_do_not()
    {
        var h = new ControllerHarness();
        h.Values[Channel.DistillateCheck] = 21;
        h.RunTo(Phase.Hearts);
        h.StepSeconds(60);
        Assert.False(h.State.Held);
        // The first probe walks away a little at a time, inside every plausible band and never below the cooling water.
        h.Values[Channel.Distillate] = 24.5;
        h.StepSeconds(StillController.DistillateProbesDisagreeSeconds - 2);
        Assert.False(h.State.Held);
        h.StepSeconds(4);
        AssertHeldBy(h, "distillate-probes-disagree");
        Assert.Contains("(check probe)", h.State.AlarmLog.Single(a => a.Code == "distillate-probes-disagree").Detail);
    }

    [Fact]
    public void A_fitted_check_probe_that_fails_is_a_reading_the_batch_needs_from_sealing_on()
    {
        var h = new ControllerHarness();
        h.Values[Channel.DistillateCheck] = 21;
        h.RunTo(Phase.Hearts);
        h.Values[Channel.DistillateCheck] = null;
        h.StepUntilHeld(2);
        Assert.Equal("sensor-fault:distillate-check", h.State.HoldCause);
    }

    [Fact]
    public void A_condenser_whose_cooling_water_takes_far_less_heat_than_the_distillate_gives_trips_after_the_confirm_time()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Distilling(82);
        h.StepSeconds(30);
        Assert.False(h.State.Held);
        Assert.InRange(h.State.CondenserWaterKilowatts / h.State.CondenserVapourKilowatts, 1 / StillController.CondenserBalanceFactor, StillController.CondenserBalanceFactor);
        // The cooling-water outlet probe slides down to 24 °C: by it, the water would be taking a fifth of the heat.
        h.Values[Channel.CoolingOut] = 24;
        h.StepSeconds(StillController.CondenserUnbalancedSeconds - 10);
        Assert.False(h.State.Held);
        h.StepSeconds(20);
        AssertHeldBy(h, "condenser-heat-unbalanced");
        Assert.Contains("the cooling water takes", h.State.AlarmLog.Single(a => a.Code == "condenser-heat-unbalanced").Detail);
    }

    [Fact]
    public void A_steam_valve_that_stays_open_when_commanded_shut_is_a_trip_named_with_its_position()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        // The position transmitter follows the command while the valve works.
        for (var i = 0; i < 40; i++)
        {
            h.Values[Channel.SteamValvePosition] = h.State.SteamValvePercent;
            h.Step();
        }
        Assert.False(h.State.Held);
        var stuckAt = h.State.SteamValvePercent;
        Assert.True(stuckAt > StillController.ValvePositionTolerancePercent);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        // Commanded shut; the valve stays where it was.
        h.Jump(Channel.SteamValvePosition, stuckAt);
        h.StepSeconds(StillController.ValveNotFollowingSeconds - 1);
        Assert.DoesNotContain(h.State.AlarmLog, a => a.Code == "steam-valve-not-following");
        h.StepSeconds(2);
        var alarm = Assert.Single(h.State.AlarmLog, a => a.Code == "steam-valve-not-following");
        Assert.Equal("trip", alarm.Severity);
        Assert.False(h.Decisions.SteamIsolationOpen);
        var resume = h.Command(CommandKind.Resume);
        Assert.False(resume.Accepted);
        Assert.Contains("the steam valve stands at", resume.Reason);
    }

    [Fact]
    public void A_dry_distillate_probe_colder_than_the_water_is_not_judged()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Sealed);
        // Winter: the empty outlet pipe sits at air temperature, below the (warmer) cooling water.
        h.Values[Channel.Distillate] = 12;
        h.StepSeconds(60);
        Assert.False(h.State.Held);
    }

    [Fact]
    public void The_flow_trim_never_opens_steam_while_condensate_flow_falls()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Distilling(86, flowLitresPerMinute: 2.5);
        h.StepSeconds(120);
        var before = h.Decisions.SteamValvePercent;
        var highest = before;
        // Condensate stops arriving while the vapour stays hot (cooling lost, readings stuck elsewhere).
        foreach (var flow in new[] { 2.0, 1.5, 1.0, 0.6, 0.3, 0.1, 0.0 })
        {
            h.Values[Channel.DistillateFlow] = flow;
            for (var i = 0; i < 20; i++)
            {
                h.Step();
                if (!h.State.Held) highest = Math.Max(highest, h.Decisions.SteamValvePercent);
            }
        }
        Assert.True(highest <= before + 1e-9, $"steam rose from {before:0.##} % to {highest:0.##} % as the flow fell");
    }

    [Fact]
    public void A_low_but_steady_flow_is_still_trimmed_up_toward_its_target()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Distilling(86, flowLitresPerMinute: 1.8);
        h.StepSeconds(5);
        var before = h.Decisions.SteamValvePercent;
        h.StepSeconds(120);
        Assert.True(h.Decisions.SteamValvePercent > before, $"{before} → {h.Decisions.SteamValvePercent}");
    }

    [Fact]
    public void A_phase_past_its_maximum_is_warned_about_then_held_after_the_grace_and_resumes_with_a_new_grace()
    {
        // Short limits (still inside what the validator accepts) so the test simulates minutes, not hours: the rule is the same.
        var recipe = DefaultRecipe.Create();
        recipe.Hearts.MaximumDurationMinutes = 4;
        recipe.Watchdogs.OverdueHoldAfterMinutes = 2;
        Assert.Empty(RecipeValidator.Validate(recipe));
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Hearts);
        h.Distilling(82);
        var maximum = h.Recipe.Hearts.MaximumDurationMinutes * 60;
        h.StepSeconds(maximum - h.State.PhaseRunningSeconds + 2);
        var warning = Assert.Single(h.State.AlarmLog, a => a.Code == "phase-overdue");
        Assert.Equal("warning", warning.Severity);
        Assert.False(h.State.Held);
        h.StepSeconds(h.Recipe.Watchdogs.OverdueHoldAfterMinutes * 60);
        AssertHeldBy(h, "phase-overdue");
        Assert.Contains(h.State.AlarmLog, a => a.Code == "phase-overdue" && a.Severity == "trip");

        h.Command(CommandKind.Ack);
        Assert.True(h.Command(CommandKind.Resume).Accepted);
        h.StepSeconds(60);
        Assert.False(h.State.Held);
        h.StepSeconds(h.Recipe.Watchdogs.OverdueHoldAfterMinutes * 60);
        AssertHeldBy(h, "phase-overdue");
    }

    [Fact]
    public void Steam_commanded_at_nothing_for_the_starved_time_holds_the_batch()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Distilling(82);
        // Pressure above the phase's maximum but below the trip: the pressure trim closes the valve entirely.
        h.Values[Channel.SteamPressure] = h.Recipe.Hearts.Steam.PressureMaximumKilopascals + 25;
        h.StepSeconds(h.Recipe.Watchdogs.SteamStarvedMinutes * 60 - 60);
        Assert.False(h.State.Held);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        h.StepSeconds(120);
        AssertHeldBy(h, "steam-starved");
    }

    [Fact]
    public void Cooling_water_too_warm_for_the_hearts_limit_holds_at_sealing_and_continues_only_with_the_deviation_recorded()
    {
        var h = new ControllerHarness();
        h.Values[Channel.CoolingIn] = 29;
        h.Values[Channel.Distillate] = 31;
        h.RunTo(Phase.Loading);
        h.StepSeconds(30);
        Assert.False(h.State.Held);
        Assert.True(h.Command(CommandKind.Seal).Accepted);
        h.Step();
        AssertHeldBy(h, "cooling-limit-unreachable");
        var alarm = Assert.Single(h.State.AlarmLog, a => a.Code == "cooling-limit-unreachable");
        Assert.Contains("hearts maximum of 30 °C", alarm.Detail);

        h.Command(CommandKind.Ack);
        var plain = h.Command(CommandKind.Resume);
        Assert.False(plain.Accepted);
        Assert.Contains(StillController.AcceptDeviation, plain.Reason);
        Assert.Empty(h.State.Deviations);

        var accepted = h.Command(CommandKind.Resume, StillController.AcceptDeviation);
        Assert.True(accepted.Accepted, accepted.Reason);
        var deviation = Assert.Single(h.State.Deviations);
        Assert.Equal("hearts", deviation.Phase);
        Assert.Equal("tester", deviation.Operator);
        h.StepSeconds(30);
        Assert.False(h.State.Held);
        Assert.True(h.Decisions.SteamValvePercent > 0);
    }

    [Fact]
    public void Accept_deviation_is_refused_when_no_limit_is_out_of_reach_and_changes_nothing()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        var result = h.Command(CommandKind.Resume, StillController.AcceptDeviation);
        Assert.False(result.Accepted);
        Assert.Empty(h.State.Deviations);
        Assert.True(h.State.Held);
        Assert.False(h.Command(CommandKind.Resume, "whatever").Accepted);
    }

    [Theory]
    [InlineData("b-1\nforged line")]
    [InlineData("a batch with spaces")]
    [InlineData("../../etc/passwd")]
    public void A_batch_id_that_could_not_travel_safely_is_refused(string id)
    {
        var h = new ControllerHarness();
        h.Step(4);
        var result = h.Command(CommandKind.Start, id);
        Assert.False(result.Accepted);
        Assert.Contains("letters, digits and - _ . : only", result.Reason);
        Assert.DoesNotContain("\n", result.Reason);
        Assert.Equal(Phase.Idle, h.State.Phase);
    }

    [Fact]
    public void Start_is_refused_while_an_alarm_waits_for_acknowledgement()
    {
        var h = new ControllerHarness();
        h.Step(4);
        h.Values[Channel.CoolingOut] = 72;
        h.StepSeconds(10);
        h.Values[Channel.CoolingOut] = 22;
        h.StepSeconds(10 + StillController.WarningClearSeconds + 5);
        Assert.False(h.State.AnyActive());
        Assert.True(h.State.AnyUnacknowledged());
        var refused = h.Command(CommandKind.Start);
        Assert.False(refused.Accepted);
        Assert.Contains("acknowledge", refused.Reason);
        Assert.Equal(Phase.Idle, h.State.Phase);
        h.Command(CommandKind.Ack);
        Assert.True(h.Command(CommandKind.Start).Accepted);
    }

    [Fact]
    public void A_flapping_warning_is_one_alarm_with_a_count()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Distilling(82);
        for (var i = 0; i < 6; i++)
        {
            h.Jump(Channel.CoolingOut, 71);
            h.StepSeconds(3);
            h.Jump(Channel.CoolingOut, 69);
            h.StepSeconds(3);
        }
        var warning = Assert.Single(h.State.AlarmLog, a => a.Code == "cooling-water-outlet-high");
        Assert.Null(warning.ClearedAt);
        // Away from the limit for long enough, it clears once; back within minutes, the same record counts it again.
        h.StepSeconds(StillController.WarningClearSeconds + 2);
        Assert.NotNull(warning.ClearedAt);
        h.Jump(Channel.CoolingOut, 71);
        h.StepSeconds(2);
        Assert.Single(h.State.AlarmLog, a => a.Code == "cooling-water-outlet-high");
        Assert.Equal(2, warning.Occurrences);
        Assert.Null(warning.ClearedAt);
    }

    [Fact]
    public void After_a_start_nothing_is_judged_until_the_readings_arrive_so_no_false_trips_are_written()
    {
        var h = new ControllerHarness();
        var values = new Dictionary<Channel, double?>(h.Values);
        h.Values.Clear();
        h.Step(4);
        Assert.True(h.Decisions.Settling);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.DoesNotContain(h.Events, e => e.Kind == EventKind.AlarmRaised);
        Assert.False(h.Command(CommandKind.Start).Accepted);
        foreach (var (channel, value) in values) h.Values[channel] = value;
        h.Step(2);
        Assert.False(h.Decisions.Settling);
        Assert.DoesNotContain(h.Events, e => e.Kind == EventKind.AlarmRaised);
        Assert.True(h.Command(CommandKind.Start).Accepted);
    }

    [Fact]
    public void A_reading_that_never_arrives_is_judged_once_its_stale_limit_has_passed()
    {
        var h = new ControllerHarness();
        h.Values.Remove(Channel.CoolingFlow);
        h.StepSeconds(2);
        Assert.True(h.Decisions.Settling);
        h.StepSeconds(h.Recipe.Sensors.Barometer.StaleSeconds + 1);
        Assert.False(h.Decisions.Settling);
        var start = h.Command(CommandKind.Start);
        Assert.False(start.Accepted);
        Assert.Contains("cooling-water flow not proven: reading not configured", start.Reason);
    }

    [Fact]
    public void A_restart_keeps_unacknowledged_alarms_and_latched_trips()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.EmergencyStop] = 1;
        h.StepUntilHeld(2);
        var json = System.Text.Json.JsonSerializer.Serialize(h.State);
        var restored = System.Text.Json.JsonSerializer.Deserialize<BatchState>(json)!;
        var slot = restored.AlarmSlots[Alarms.Slot(AlarmCode.EmergencyStop)];
        Assert.True(slot.Unacknowledged);
        Assert.True(slot.Active);
        Assert.True(slot.Trip);
        Assert.Equal(h.State.AlarmSlots[Alarms.Slot(AlarmCode.EmergencyStop)].LogIndex, slot.LogIndex);
        var decisions = new Decisions();
        StillController.RestoreAfterPowerLoss(restored, h.Now, decisions);
        Assert.True(restored.AlarmSlots[Alarms.Slot(AlarmCode.EmergencyStop)].Unacknowledged);
        Assert.Null(restored.AlarmLog.Single(a => a.Code == "emergency-stop").ClearedAt);
        Assert.True(restored.Held);
        Assert.Equal("emergency-stop", restored.HoldCause);
    }

    [Fact]
    public void The_isolation_valve_may_open_only_while_steam_is_wanted_and_nothing_holds()
    {
        var h = new ControllerHarness();
        h.Step(4);
        Assert.False(h.Decisions.SteamIsolationOpen);
        h.RunTo(Phase.Hearts);
        Assert.True(h.Decisions.SteamIsolationOpen);
        h.Readings.OutputFault = "steam valve: no reply";
        h.Step();
        Assert.False(h.Decisions.SteamIsolationOpen);
        Assert.Equal("output-fault", h.State.HoldCause);
    }

    [Fact]
    public void What_blocks_a_command_and_what_trips_the_step_say_the_same_words()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.CoolingFlow] = 1;
        h.StepUntilHeld(2);
        var alarm = h.State.AlarmLog.Single(a => a.Code == "cooling-water-loss");
        var blocking = StillController.Blocking(h.State, h.Recipe, h.State.Phase);
        Assert.Contains(alarm.Detail, blocking);
    }
}
