using StillControl.Recipes;

namespace StillControl.Process;

public class StillControllerTests
{
    [Fact]
    public void Idle_still_never_opens_steam_and_keeps_cooling_open()
    {
        var h = new ControllerHarness();
        h.Step(20);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
        Assert.Null(h.Decisions.Receiver);
    }

    [Fact]
    public void Start_is_refused_without_proven_cooling_water_and_changes_nothing()
    {
        var h = new ControllerHarness();
        h.Values[Channel.CoolingFlow] = 2;
        h.Step(4);
        var result = h.Command(CommandKind.Start);
        Assert.False(result.Accepted);
        Assert.Contains("cooling-water flow 2", result.Reason);
        Assert.Equal(Phase.Idle, h.State.Phase);
        Assert.Null(h.State.BatchId);
    }

    [Fact]
    public void A_batch_runs_through_its_phases_in_order_with_reasons()
    {
        // The shortest steaming the validator accepts, so the test simulates fewer minutes.
        var recipe = DefaultRecipe.Create();
        recipe.Steaming.MinimumDurationMinutes = 20;
        Assert.Empty(RecipeValidator.Validate(recipe));
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Steaming);
        h.StepSeconds(h.Recipe.Steaming.MinimumDurationMinutes * 60 + 1);
        Assert.Equal(Phase.Complete, h.State.Phase);
        var phases = h.Events.Where(e => e.Kind == EventKind.PhaseChanged).Select(e => e.Code).ToArray();
        Assert.Equal(["loading", "sealed", "heads", "hearts", "tails", "steaming", "complete"], phases);
        Assert.All(h.Events.Where(e => e.Kind == EventKind.PhaseChanged), e => Assert.Contains(":", e.Message));
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
    }

    [Fact]
    public void Heads_end_at_their_mass_and_hearts_start_in_the_first_grade_receiver()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Heads);
        Assert.Equal("heads", h.Decisions.Receiver);
        h.StepSeconds(30);
        Assert.Equal(Phase.Hearts, h.State.Phase);
        Assert.Equal("hearts-1", h.Decisions.Receiver);
        var heads = h.State.Fractions.Single(f => f.Phase == "heads");
        Assert.InRange(heads.MassKilograms, 0.5, 0.6);
        Assert.Contains(h.Events, e => e.Kind == EventKind.PhaseChanged && e.Code == "hearts" && e.Message.Contains("0.5 kg"));
    }

    [Fact]
    public void Hearts_grades_are_cut_by_strength_only_after_the_confirm_time()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        // 92 °C at the head is about 57 % vol: below hearts-1's 65, above hearts-2's 50.
        h.Values[Channel.Vapour] = 92;
        h.StepSeconds(h.Recipe.Hearts.StrengthConfirmSeconds / 2);
        Assert.Equal(0, h.State.HeartsGrade);
        h.StepSeconds(h.Recipe.Hearts.StrengthConfirmSeconds * 2 + h.Recipe.Strength.FilterSeconds * 3);
        Assert.Equal(1, h.State.HeartsGrade);
        Assert.Equal("hearts-2", h.Decisions.Receiver);
        Assert.Equal(Phase.Hearts, h.State.Phase);
        h.Values[Channel.Vapour] = 96.5;
        h.StepSeconds(h.Recipe.Hearts.StrengthConfirmSeconds * 2 + h.Recipe.Strength.FilterSeconds * 3);
        Assert.Equal(Phase.Tails, h.State.Phase);
        Assert.Equal("tails", h.Decisions.Receiver);
    }

    [Fact]
    public void Slow_steam_in_hearts_and_strong_steam_in_tails()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.StepSeconds(120);
        var hearts = h.Decisions.SteamValvePercent;
        Assert.InRange(hearts, h.Recipe.Hearts.Steam.ValveMinimumPercent, h.Recipe.Hearts.Steam.ValveMaximumPercent);
        h.Command(CommandKind.Cut);
        h.Command(CommandKind.Cut);
        h.Values[Channel.Vapour] = 96;
        h.StepSeconds(120);
        Assert.Equal(Phase.Tails, h.State.Phase);
        Assert.Equal(h.Recipe.Tails.Steam.ValvePercent, h.Decisions.SteamValvePercent, 3);
        Assert.True(h.Decisions.SteamValvePercent > h.Recipe.Hearts.Steam.ValveMaximumPercent);
    }

    [Fact]
    public void Steam_opens_no_faster_than_the_ramp()
    {
        var h = new ControllerHarness();
        h.Step(4);
        h.Command(CommandKind.Start);
        var previous = 0.0;
        var ramp = h.Recipe.Loading.Steam.RampPercentPerSecond * ControllerHarness.Period.TotalSeconds;
        for (var i = 0; i < 200; i++)
        {
            h.Step();
            Assert.True(h.Decisions.SteamValvePercent - previous <= ramp + 1e-9, $"step {i}: {previous} → {h.Decisions.SteamValvePercent}");
            previous = h.Decisions.SteamValvePercent;
        }
        Assert.Equal(h.Recipe.Loading.Steam.ValvePercent, previous, 3);
    }

    [Fact]
    public void Steam_pressure_above_the_phase_maximum_throttles_the_valve()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Tails);
        h.StepSeconds(60);
        var before = h.Decisions.SteamValvePercent;
        h.Values[Channel.SteamPressure] = h.Recipe.Tails.Steam.PressureMaximumKilopascals + 8;
        h.StepSeconds(10);
        Assert.True(h.Decisions.SteamValvePercent < before - 20, $"{before} → {h.Decisions.SteamValvePercent}");
        Assert.False(h.State.Held);
    }

    [Fact]
    public void Cooling_valve_opens_when_the_distillate_runs_hot_and_closes_toward_its_minimum_when_cold()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Distillate] = 35;
        h.StepSeconds(60);
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
        // Cold cooling water, so a 15 °C distillate is one the condenser can make (colder than its water would be a bad probe).
        h.Values[Channel.CoolingIn] = 8;
        h.Values[Channel.Distillate] = 15;
        h.StepSeconds(5);
        Assert.True(h.Decisions.CoolingValvePercent < 60, "anti-windup: the valve leaves full open within seconds of the error turning");
        h.StepSeconds(300);
        Assert.Equal(h.Recipe.CoolingControl.ValveMinimumPercent, h.Decisions.CoolingValvePercent, 3);
    }

    [Fact]
    public void Cooling_over_its_maximum_with_the_valve_open_cuts_steam_back_and_raises_an_alarm()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.StepSeconds(60);
        var steamBefore = h.Decisions.SteamValvePercent;
        h.Values[Channel.Distillate] = h.Recipe.Hearts.Cooling.MaximumCelsius + 3;
        h.StepSeconds(40);
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
        Assert.Contains(h.Events, e => e.Kind == EventKind.AlarmRaised && e.Code == "cooling-over-maximum");
        Assert.True(h.Decisions.SteamValvePercent < steamBefore * 0.6, $"{steamBefore} → {h.Decisions.SteamValvePercent}");
        Assert.False(h.State.Held, "below the hard limit the batch runs on with less steam");
        h.Values[Channel.Distillate] = h.Recipe.Interlocks.DistillateTripCelsius + 1;
        Assert.Equal(0, h.StepUntilHeld());
        Assert.Equal("distillate-overtemperature", h.State.HoldCause);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
    }

    [Theory]
    [InlineData(Channel.CoolingFlow, 1.0, "cooling-water-loss")]
    [InlineData(Channel.SteamPressure, 90.0, "steam-overpressure")]
    [InlineData(Channel.EmergencyStop, 1.0, "emergency-stop")]
    [InlineData(Channel.CoolingOut, 80.0, "cooling-water-outlet-trip")]
    [InlineData(Channel.Distillate, 60.0, "distillate-overtemperature")]
    public void Each_interlock_trips_in_the_step_that_sees_it(Channel channel, double value, string code)
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.StepSeconds(30);
        Assert.True(h.Decisions.SteamValvePercent > 0);
        h.Values[channel] = value;
        Assert.Equal(0, h.StepUntilHeld());
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
        Assert.True(h.Decisions.Horn);
        Assert.True(h.State.Held);
        Assert.Equal(code, h.State.HoldCause);
        Assert.Contains(h.Decisions.Events, e => e.Kind == EventKind.InterlockTrip && e.Code == code);
    }

    [Fact]
    public void With_a_lid_switch_fitted_sealing_needs_the_lid_on_and_a_lid_opened_while_distilling_trips()
    {
        var h = new ControllerHarness();
        h.Values[Channel.LidClosed] = 0;
        h.RunTo(Phase.Loading);
        // Loading runs with the lid off: steam flows.
        h.StepSeconds(20);
        Assert.True(h.Decisions.SteamValvePercent > 0);
        Assert.False(h.State.Held);
        var refused = h.Command(CommandKind.Seal);
        Assert.False(refused.Accepted);
        Assert.Contains("lid switch reads open", refused.Reason);
        Assert.Equal(Phase.Loading, h.State.Phase);

        h.Values[Channel.LidClosed] = 1;
        h.Step();
        Assert.True(h.Command(CommandKind.Seal).Accepted);
        h.Distilling(82);
        h.StepSeconds(60);
        Assert.Equal(Phase.Hearts, h.State.Phase);
        Assert.True(h.Decisions.SteamValvePercent > 0);

        h.Values[Channel.LidClosed] = 0;
        Assert.Equal(0, h.StepUntilHeld());
        Assert.Equal("lid-open", h.State.HoldCause);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
        Assert.True(h.Command(CommandKind.Ack).Accepted);
        var resume = h.Command(CommandKind.Resume);
        Assert.False(resume.Accepted);
        Assert.Contains("lid open", resume.Reason);

        h.Values[Channel.LidClosed] = 1;
        h.Step(2);
        Assert.True(h.Command(CommandKind.Ack).Accepted || !h.State.AlarmSlots.Any(a => a.Unacknowledged));
        Assert.True(h.Command(CommandKind.Resume).Accepted);
        h.StepSeconds(5);
        Assert.True(h.Decisions.SteamValvePercent > 0);
    }

    [Fact]
    public void An_unreadable_lid_switch_trips_once_sealed()
    {
        var h = new ControllerHarness();
        h.Values[Channel.LidClosed] = 1;
        h.RunTo(Phase.Hearts);
        h.Values[Channel.LidClosed] = null;
        h.Faults[Channel.LidClosed] = FaultReason.Stale;
        Assert.Equal(0, h.StepUntilHeld());
        Assert.Equal("lid-open", h.State.HoldCause);
        Assert.Contains(h.Events, e => e.Code == "lid-open" && e.Message.Contains("unreadable"));
    }

    [Fact]
    public void An_output_that_does_not_take_its_value_trips_the_batch_and_names_the_output()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.True(h.Decisions.SteamValvePercent > 0);

        h.Readings.OutputFault = "steam valve (Hardware:Outputs:Steam, unit 5 register 0): no reply";
        h.Step();
        Assert.True(h.State.Held);
        Assert.Equal("output-fault", h.State.HoldCause);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
        Assert.True(h.Decisions.Horn);
        Assert.Contains(h.Events, e => e.Kind == EventKind.InterlockTrip && e.Code == "output-fault" && e.Message.Contains("Hardware:Outputs:Steam"));
        Assert.True(h.Command(CommandKind.Ack).Accepted);
        var refused = h.Command(CommandKind.Resume);
        Assert.False(refused.Accepted);
        Assert.Contains("output not driven", refused.Reason);

        // The module answers again: the alarm clears, but steam waits for the distiller to resume.
        h.Readings.OutputFault = null;
        h.Step(2);
        Assert.True(h.State.Held);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.True(h.Command(CommandKind.Resume).Accepted);
        h.StepSeconds(5);
        Assert.True(h.Decisions.SteamValvePercent > 0);
    }

    [Fact]
    public void A_fault_on_a_reading_the_phase_needs_trips_and_one_it_does_not_need_only_warns()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Steam] = null;
        h.Step();
        Assert.False(h.State.Held);
        Assert.Contains(h.Decisions.Events, e => e.Code == "sensor-fault:steam" && e.Kind == EventKind.AlarmRaised);
        Assert.True(h.Decisions.SteamValvePercent > 0);

        h.Values[Channel.Vapour] = null;
        h.Faults[Channel.Vapour] = FaultReason.ChecksumError;
        h.Step();
        Assert.True(h.State.Held);
        Assert.Equal("sensor-fault:vapour", h.State.HoldCause);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.Contains(h.Decisions.Events, e => e.Kind == EventKind.InterlockTrip && e.Message.Contains("checksum-error"));
    }

    [Fact]
    public void Entering_a_phase_whose_needed_reading_is_faulted_never_opens_steam_even_for_one_step()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Sealed);
        h.StepSeconds(30);
        Assert.True(h.Decisions.SteamValvePercent > 0);
        // Sealed does not need the vapour probe, heads does: the first distillate arrives while the probe is faulted.
        h.Values[Channel.Vapour] = null;
        h.Step();
        Assert.False(h.State.Held);
        h.Values[Channel.DistillateFlow] = 2.5;
        h.Step();
        Assert.Equal(Phase.Heads, h.State.Phase);
        Assert.True(h.State.Held);
        Assert.Equal("sensor-fault:vapour", h.State.HoldCause);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
    }

    [Fact]
    public void Resume_needs_the_cause_cleared_and_the_alarm_acknowledged()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.CoolingFlow] = 0;
        Assert.Equal(0, h.StepUntilHeld(1));

        var early = h.Command(CommandKind.Resume);
        Assert.False(early.Accepted);
        Assert.Contains("cooling-water flow 0", early.Reason);
        Assert.True(h.State.Held);

        h.Values[Channel.CoolingFlow] = 40;
        h.Step(4);
        var unacknowledged = h.Command(CommandKind.Resume);
        Assert.False(unacknowledged.Accepted);
        Assert.Contains("acknowledge", unacknowledged.Reason);

        Assert.True(h.Command(CommandKind.Ack).Accepted);
        Assert.True(h.Command(CommandKind.Resume).Accepted);
        Assert.False(h.State.Held);
        h.StepSeconds(30);
        Assert.True(h.Decisions.SteamValvePercent > 0);
        var alarm = h.State.AlarmLog.Single(a => a.Code == "cooling-water-loss");
        Assert.NotNull(alarm.ClearedAt);
        Assert.NotNull(alarm.AcknowledgedAt);
    }

    [Theory]
    [InlineData(CommandKind.Seal)]
    [InlineData(CommandKind.Resume)]
    [InlineData(CommandKind.Cut)]
    [InlineData(CommandKind.Hold)]
    [InlineData(CommandKind.Abort)]
    [InlineData(CommandKind.Ack)]
    public void Commands_not_valid_when_idle_are_refused_with_a_reason_and_change_nothing(CommandKind kind)
    {
        var h = new ControllerHarness();
        h.Step(4);
        var before = System.Text.Json.JsonSerializer.Serialize(h.State);
        var result = h.Command(kind);
        Assert.False(result.Accepted);
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
        Assert.Equal(before, System.Text.Json.JsonSerializer.Serialize(h.State));
        Assert.Contains(h.Decisions.Events, e => e.Kind == EventKind.CommandRefused);
    }

    [Fact]
    public void Cut_in_hearts_moves_to_the_next_grade_then_to_tails()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.True(h.Command(CommandKind.Cut).Accepted);
        Assert.Equal(1, h.State.HeartsGrade);
        Assert.Equal(Phase.Hearts, h.State.Phase);
        Assert.True(h.Command(CommandKind.Cut).Accepted);
        Assert.Equal(Phase.Tails, h.State.Phase);
        Assert.Equal(["heads", "hearts-1", "hearts-2", "tails"], h.State.Fractions.Select(f => f.Receiver).ToArray());
    }

    [Fact]
    public void Abort_closes_steam_and_ends_the_batch()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.True(h.Command(CommandKind.Abort).Accepted);
        h.Step();
        Assert.Equal(Phase.Aborted, h.State.Phase);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.NotNull(h.State.EndedAt);
        Assert.False(h.Command(CommandKind.Resume).Accepted);
    }

    [Fact]
    public void Loading_advises_covering_a_layer_when_the_bed_surface_warms_and_again_after_a_new_layer()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Loading);
        h.Values[Channel.BedSurface] = h.Recipe.Loading.CoverLayerAtBedSurfaceCelsius + 1;
        h.StepSeconds(5);
        Assert.True(h.Decisions.CoverLayerAdvised);
        h.Values[Channel.BedSurface] = 30;
        h.StepSeconds(10);
        Assert.False(h.Decisions.CoverLayerAdvised);
        h.Values[Channel.BedSurface] = h.Recipe.Loading.CoverLayerAtBedSurfaceCelsius + 2;
        h.StepSeconds(5);
        Assert.Equal(2, h.Events.Count(e => e.Kind == EventKind.Advisory && e.Code == "cover-layer"));
    }

    [Fact]
    public void Power_loss_restores_the_batch_held_with_its_volumes_and_needs_ack_and_resume()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.StepSeconds(120);
        var hearts = h.State.Fractions.Where(f => f.Phase == "hearts").Sum(f => f.VolumeLitres);
        Assert.True(hearts > 1);

        var json = System.Text.Json.JsonSerializer.Serialize(h.State, new System.Text.Json.JsonSerializerOptions { IncludeFields = true });
        var restored = System.Text.Json.JsonSerializer.Deserialize<BatchState>(json, new System.Text.Json.JsonSerializerOptions { IncludeFields = true })!;
        var decisions = new Decisions();
        var later = h.Now + TimeSpan.FromMinutes(3);
        StillController.RestoreAfterPowerLoss(restored, later, decisions);
        Assert.True(restored.Held);
        Assert.Equal("power-loss", restored.HoldCause);
        Assert.Equal(Phase.Hearts, restored.Phase);
        Assert.Equal(hearts, restored.Fractions.Where(f => f.Phase == "hearts").Sum(f => f.VolumeLitres), 9);
        Assert.Contains(decisions.Events, e => e.Kind == EventKind.AlarmRaised && e.Code == "power-loss");
        Assert.Equal(0, decisions.SteamValvePercent);
        Assert.Equal(100, decisions.CoolingValvePercent);
        Assert.True(restored.AnyUnacknowledged());
    }

    [Fact]
    public void Strength_comes_from_an_online_meter_when_one_is_fitted()
    {
        var h = new ControllerHarness();
        h.Values[Channel.Strength] = 61.5;
        h.RunTo(Phase.Hearts);
        Assert.Equal(61.5, h.Decisions.StrengthPercentVolume!.Value, 1);
        h.Values[Channel.Vapour] = null;
        h.Step();
        Assert.False(h.State.Held, "with a meter fitted the vapour probe is not needed for the cuts");
    }

    [Fact]
    public void Strength_estimate_uses_the_barometer_and_the_calibration_offset()
    {
        var recipe = DefaultRecipe.Create();
        recipe.Strength.CalibrationOffsetPercentVolume = 2;
        var h = new ControllerHarness(recipe);
        h.Values[Channel.Barometer] = 950;
        h.RunTo(Phase.Hearts);
        // At 950 hPa everything boils about 1.7 °C lower: 87.3 °C there is the 89.0 °C (67.4 % vol) of standard pressure.
        h.Values[Channel.Vapour] = 89.0 - 63.25 * 0.0265;
        h.StepSeconds(5);
        Assert.InRange(h.Decisions.StrengthPercentVolume!.Value, 67.4 + 2 - 0.6, 67.4 + 2 + 0.6);
    }
}
