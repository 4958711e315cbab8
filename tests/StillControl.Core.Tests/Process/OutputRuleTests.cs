using StillControl.Physics;
using StillControl.Recipes;

namespace StillControl.Process;

/// <summary>
/// The output loops and the strength estimate in figures: the cut-back's and the pressure trim's rates, the strength's filter
/// and bounds, the phase record's figures. Written where mutation testing of <c>Outputs.cs</c> found changes no test noticed.
/// </summary>
public class OutputRuleTests
{
    private static readonly double Dt = ControllerHarness.Period.TotalSeconds;

    [Fact]
    public void A_fitted_strength_meter_that_fails_leaves_no_strength_and_holds_the_cuts()
    {
        var h = new ControllerHarness();
        h.Values[Channel.Strength] = 60;
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Strength] = null;
        h.StepUntilHeld(2);
        Assert.Equal("sensor-fault:strength", h.State.HoldCause);
        // The still-head probe still reads: a failed meter is not silently replaced by the estimate the recipe did not choose.
        Assert.True(h.Readings[Channel.Vapour].IsGood);
        Assert.Null(h.State.StrengthPercentVolume);
        Assert.Null(h.Decisions.StrengthPercentVolume);
    }

    [Fact]
    public void Without_a_barometer_reading_the_estimate_uses_standard_air_pressure()
    {
        var h = new ControllerHarness();
        h.Values[Channel.Barometer] = 950;
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Barometer] = null;
        h.Values[Channel.Vapour] = 89;
        h.StepSeconds(3);
        h.Exact.Add(Channel.Vapour);
        h.StepSeconds(2);
        Assert.False(h.State.Held, StillController.Describe(h.State));
        Assert.Equal(EthanolWater.StrengthFromVapourTemperature(89, EthanolWater.StandardPressureHectopascals), h.State.StrengthPercentVolume!.Value, 6);
    }

    [Theory]
    [InlineData(99.95, -5.0, 0.0)]
    public void The_calibrated_estimate_stays_between_water_and_the_strongest_a_still_can_make(double vapour, double offset, double bound)
    {
        var recipe = DefaultRecipe.Create();
        recipe.Strength.CalibrationOffsetPercentVolume = offset;
        Assert.Empty(RecipeValidator.Validate(recipe));
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Hearts);
        h.Exact.Add(Channel.Vapour);
        h.Values[Channel.Vapour] = vapour;
        h.StepSeconds(10);
        Assert.Equal(bound, h.State.StrengthPercentVolume!.Value, 9);
        var raw = EthanolWater.StrengthFromVapourTemperature(vapour, EthanolWater.StandardPressureHectopascals) + offset;
        Assert.True(offset > 0 ? raw > bound : raw < bound, $"the test needs an estimate past the bound; {raw}");
    }

    /// <summary>The strength used for cuts follows the estimate with the recipe's time constant: about 63 % of a step in one.</summary>
    [Fact]
    public void The_filtered_strength_follows_a_step_with_the_recipe_s_time_constant()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Exact.Add(Channel.Vapour);
        h.Values[Channel.Vapour] = 82;
        h.StepSeconds(60);
        var from = h.State.FilteredStrengthPercentVolume!.Value;
        Assert.Equal(h.State.StrengthPercentVolume!.Value, from, 2);
        // 6 °C at the process's pace: two steps.
        h.Values[Channel.Vapour] = 88;
        var steps = 0;
        for (; steps < 10 && h.Readings[Channel.Vapour].Value != 88; steps++) h.Step();
        var to = h.State.StrengthPercentVolume!.Value;
        Assert.True(from - to > 5);
        h.Step((int)(h.Recipe.Strength.FilterSeconds / Dt) - steps);
        var moved = (from - h.State.FilteredStrengthPercentVolume!.Value) / (from - to);
        Assert.InRange(moved, 0.58, 0.68);
    }

    [Fact]
    public void With_no_filter_time_the_cuts_use_the_estimate_as_it_is()
    {
        var recipe = DefaultRecipe.Create();
        recipe.Strength.FilterSeconds = 0;
        Assert.Empty(RecipeValidator.Validate(recipe));
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Vapour] = 88;
        for (var i = 0; i < 4; i++)
        {
            h.Step();
            Assert.NotNull(h.State.StrengthPercentVolume);
            Assert.Equal(h.State.StrengthPercentVolume, h.State.FilteredStrengthPercentVolume);
        }
    }

    /// <summary>Over its maximum with the valve full open, steam is cut back at the recipe's rate; back under it, restored at a quarter of that.</summary>
    [Fact]
    public void The_cooling_cut_back_takes_steam_at_its_rate_and_gives_it_back_at_a_quarter()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.StepSeconds(60);
        h.Values[Channel.Distillate] = h.Recipe.Hearts.Cooling.MaximumCelsius + 3;
        for (var i = 0; i < 400 && !h.State.AlarmSlots[Alarms.Slot(AlarmCode.CoolingOverMaximum)].Active; i++) h.Step();
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
        Assert.InRange(h.State.OverMaximumSeconds, h.Recipe.CoolingControl.OverMaximumConfirmSeconds, h.Recipe.CoolingControl.OverMaximumConfirmSeconds + Dt);
        var alarm = h.State.AlarmLog.Single(a => a.Code == "cooling-over-maximum");
        Assert.Equal("warning", alarm.Severity);
        // Raised in the very step the confirm time is reached, with the first step of cut-back.
        Assert.Equal(h.Recipe.CoolingControl.OverMaximumConfirmSeconds, h.State.OverMaximumSeconds);
        Assert.Equal(h.Recipe.CoolingControl.SteamCutbackPercentPerSecond * Dt, h.State.SteamCutbackPercent, 9);
        Assert.Matches(@"^distillate 33(\.\d)? °C above the hearts maximum 30 °C with the cooling valve fully open: steam cut back$", alarm.Detail);
        var cut = h.State.SteamCutbackPercent;
        h.Step(4);
        Assert.Equal(cut + h.Recipe.CoolingControl.SteamCutbackPercentPerSecond, h.State.SteamCutbackPercent, 9);

        // At the maximum itself the distillate is within it again: the cut-back is given back.
        h.Exact.Add(Channel.Distillate);
        h.Values[Channel.Distillate] = h.Recipe.Hearts.Cooling.MaximumCelsius;
        h.Step(4);
        Assert.Equal(h.Recipe.Hearts.Cooling.MaximumCelsius, h.Readings[Channel.Distillate].Value);
        var restoring = h.State.SteamCutbackPercent;
        h.Step(4);
        Assert.Equal(restoring - h.Recipe.CoolingControl.SteamCutbackPercentPerSecond / 4, h.State.SteamCutbackPercent, 9);
        Assert.Equal(0, h.State.OverMaximumSeconds);
        Assert.False(h.State.Held);
    }

    [Fact]
    public void A_hold_ends_the_cut_back_and_its_alarm_at_once()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.StepSeconds(60);
        h.Values[Channel.Distillate] = h.Recipe.Hearts.Cooling.MaximumCelsius + 3;
        h.StepSeconds(40);
        Assert.True(h.State.SteamCutbackPercent > 0);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        h.Step();
        Assert.Equal(0, h.State.SteamCutbackPercent);
        Assert.Equal(0, h.State.OverMaximumSeconds);
        Assert.False(h.State.AlarmSlots[Alarms.Slot(AlarmCode.CoolingOverMaximum)].Active);
        Assert.Equal(h.Now, h.State.AlarmLog.Single(a => a.Code == "cooling-over-maximum").ClearedAt);
    }

    /// <summary>With the deviation accepted, the cut-back acts at what the cooling water can reach plus a margin, not at the recipe's maximum.</summary>
    [Fact]
    public void With_a_deviation_accepted_the_cut_back_acts_above_what_the_water_can_reach()
    {
        var h = new ControllerHarness();
        h.Exact.Add(Channel.CoolingIn);
        h.Values[Channel.CoolingIn] = 29;
        h.Values[Channel.Distillate] = 31;
        h.RunTo(Phase.Loading);
        Assert.True(h.Command(CommandKind.Seal).Accepted);
        h.Step();
        h.Command(CommandKind.Ack);
        Assert.True(h.Command(CommandKind.Resume, StillController.AcceptDeviation).Accepted);
        h.Distilling(82);
        h.Values[Channel.Distillate] = 31;
        h.StepSeconds(40);
        Assert.Equal(Phase.Hearts, h.State.Phase);
        // 29 °C in + 2 °C approach + 2 °C margin: 33 °C, over the recipe's 30.
        h.Values[Channel.Distillate] = 32.5;
        h.StepSeconds(60);
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
        Assert.Equal(0, h.State.SteamCutbackPercent);
        Assert.DoesNotContain(h.State.AlarmLog, a => a.Code == "cooling-over-maximum");
        h.Values[Channel.Distillate] = 34;
        h.StepSeconds(30);
        Assert.Contains("above the hearts maximum 33 °C", h.State.AlarmLog.Single(a => a.Code == "cooling-over-maximum").Detail);
        Assert.True(h.State.SteamCutbackPercent > 0);
    }

    /// <summary>Over the phase's pressure maximum the trim closes 1.5 % per kPa over per second, to at most 100 %; under it, it recovers 0.5 % per second.</summary>
    [Fact]
    public void The_pressure_trim_closes_in_proportion_to_the_excess_and_recovers_slowly()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Tails);
        h.StepSeconds(30);
        h.Exact.Add(Channel.SteamPressure);
        var maximum = h.Recipe.Tails.Steam.PressureMaximumKilopascals;
        h.Values[Channel.SteamPressure] = maximum + 8;
        h.StepSeconds(3);
        var trim = h.State.PressureTrimPercent;
        h.Step();
        Assert.Equal(trim - 1.5 * 8 * Dt, h.State.PressureTrimPercent, 9);

        h.Values[Channel.SteamPressure] = maximum + 15;
        h.StepSeconds(30);
        Assert.Equal(-100, h.State.PressureTrimPercent);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.False(h.State.Held);
        // No steam wanted: the isolation valve shuts too, though nothing holds the batch.
        Assert.False(h.Decisions.SteamIsolationOpen);

        h.Values[Channel.SteamPressure] = maximum;
        h.StepSeconds(3);
        var recovering = h.State.PressureTrimPercent;
        h.Step(4);
        Assert.Equal(recovering + 0.5, h.State.PressureTrimPercent, 9);
        h.StepSeconds(300);
        Assert.Equal(0, h.State.PressureTrimPercent);
    }

    /// <summary>Time below a grade's end counts only while the batch runs: a hold starts the confirmation afresh.</summary>
    [Fact]
    public void A_hold_restarts_the_strength_confirmation_of_a_cut()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Vapour] = 92;
        for (var i = 0; i < 400 && h.State.BelowEndSeconds < 20; i++) h.Step();
        Assert.Equal(0, h.State.HeartsGrade);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        h.Step();
        Assert.Equal(0, h.State.BelowEndSeconds);
        h.StepSeconds(60);
        Assert.True(h.Command(CommandKind.Resume).Accepted);
        h.StepSeconds(h.Recipe.Hearts.StrengthConfirmSeconds - 5);
        Assert.Equal(0, h.State.HeartsGrade);
        h.StepSeconds(10);
        Assert.Equal(1, h.State.HeartsGrade);
        Assert.Equal(0, h.State.BelowEndSeconds);
    }

    /// <summary>The strength has to stay below the end the whole confirm time: a moment back above it starts the count again.</summary>
    [Fact]
    public void Strength_back_above_the_end_restarts_the_confirmation()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Vapour] = 92;
        h.StepSeconds(h.Recipe.Strength.FilterSeconds * 2);
        Assert.True(h.State.BelowEndSeconds > 0);
        h.Values[Channel.Vapour] = 82;
        h.StepSeconds(h.Recipe.Strength.FilterSeconds * 3);
        Assert.Equal(0, h.State.BelowEndSeconds);
        Assert.Equal(0, h.State.HeartsGrade);
    }

    [Fact]
    public void The_phase_record_keeps_running_time_mean_steam_and_the_hottest_cooling_reading()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.StepSeconds(60);
        h.Values[Channel.Distillate] = 29.5;
        h.StepSeconds(10);
        h.Values[Channel.Distillate] = 27;
        h.StepSeconds(10);
        var running = h.State.PhaseRunningSeconds;
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        h.StepSeconds(120);
        var record = h.State.Phases[^1];
        Assert.Equal("hearts", record.Phase);
        Assert.Equal(running, h.State.PhaseRunningSeconds);
        // The record counts the step that began the phase as well; held time it does not count.
        Assert.InRange(record.RunningSeconds - running, 0, Dt + 1e-9);
        Assert.InRange(record.SteamMeanPercent!.Value, h.Recipe.Hearts.Steam.ValveMinimumPercent, h.Recipe.Hearts.Steam.ValveMaximumPercent);
        Assert.InRange(record.CoolingMaxCelsius!.Value, 29.49, 29.51);
    }
    /// <summary>The flow the trim compares against follows the distillate mass flow with a 30 s time constant, so noise is not a fall.</summary>
    [Fact]
    public void The_recent_flow_follows_the_mass_flow_with_a_half_minute_time_constant()
    {
        var h = new ControllerHarness();
        h.Pulses.Add(Channel.DistillateFlow);
        h.RunTo(Phase.Hearts);
        h.Distilling(82, flowLitresPerMinute: 2.5);
        h.StepSeconds(300);
        var density = EthanolWater.DensityKilogramsPerLitreAt(h.State.StrengthPercentVolume!.Value);
        var before = 2.5 * density;
        Assert.Equal(before, h.State.DistillateFlowTrendKilogramsPerMinute!.Value, 2);
        h.Values[Channel.DistillateFlow] = 2.0;
        h.StepSeconds(30);
        var moved = (before - h.State.DistillateFlowTrendKilogramsPerMinute!.Value) / (before - 2.0 * density);
        Assert.InRange(moved, 0.60, 0.67);
    }

    /// <summary>A flow under half its target is condensate not arriving: the trim does not open steam toward it, however long it lasts.</summary>
    [Fact]
    public void A_flow_under_half_its_target_is_never_trimmed_up()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Distilling(82, flowLitresPerMinute: 0.8);
        // The cooling water warms by what that little distillate gives it, so the condenser's balance holds.
        h.Values[Channel.CoolingOut] = 25;
        h.StepSeconds(2);
        var start = h.Decisions.SteamValvePercent;
        var highest = start;
        for (var i = 0; i < 600; i++)
        {
            h.Step();
            highest = Math.Max(highest, h.Decisions.SteamValvePercent);
        }
        Assert.False(h.State.Held);
        Assert.True(highest <= Math.Max(start, h.Recipe.Hearts.Steam.ValveMinimumPercent) + 1e-9, $"steam rose from {start:0.##} % to {highest:0.##} %");
        Assert.True(highest <= h.Recipe.Hearts.Steam.ValvePercent + 1e-9);
        Assert.True(h.Decisions.SteamValvePercent >= h.Recipe.Hearts.Steam.ValveMinimumPercent - 1e-9);
    }
    /// <summary>Steam trimmed up for a low flow goes back to the recipe's own opening once condensate stops arriving.</summary>
    [Fact]
    public void Steam_trimmed_up_falls_back_to_the_recipe_s_opening_when_the_flow_collapses()
    {
        var h = SteamTrimmedUp(out _);
        h.Values[Channel.DistillateFlow] = 0.8;
        h.StepSeconds(10);
        Assert.False(h.State.Held);
        Assert.True(h.Decisions.SteamValvePercent <= h.Recipe.Hearts.Steam.ValvePercent + 1e-9, $"{h.Decisions.SteamValvePercent}");
    }
    /// <summary>The cut-back takes at most all the steam: it stops growing at 100 %.</summary>
    [Fact]
    public void The_cut_back_stops_at_all_the_steam()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Distillate] = h.Recipe.Hearts.Cooling.MaximumCelsius + 3;
        h.StepSeconds(200);
        Assert.Equal(100, h.State.SteamCutbackPercent);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
    }

    /// <summary>With no deviation accepted, the cut-back acts at the recipe's maximum even when the water is close to it.</summary>
    [Fact]
    public void Without_a_deviation_the_cut_back_acts_at_the_recipe_s_maximum()
    {
        var h = new ControllerHarness();
        h.Values[Channel.CoolingIn] = 27;
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Distillate] = 30.8;
        h.StepSeconds(150);
        Assert.False(h.State.Held, StillController.Describe(h.State));
        Assert.True(h.State.SteamCutbackPercent > 0);
        Assert.Contains("above the hearts maximum 30 °C", h.State.AlarmLog.Single(a => a.Code == "cooling-over-maximum").Detail);
    }

    /// <summary>After a hold the steam comes back toward the recipe's opening (the trim starts there), not from nothing.</summary>
    [Fact]
    public void After_a_resume_the_trimmed_steam_returns_to_the_recipe_s_opening()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Distilling(82, flowLitresPerMinute: 2.5);
        h.StepSeconds(60);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        h.StepSeconds(10);
        Assert.True(h.Command(CommandKind.Resume).Accepted);
        h.StepSeconds(70);
        Assert.InRange(h.Decisions.SteamValvePercent, h.Recipe.Hearts.Steam.ValvePercent - 3, h.Recipe.Hearts.Steam.ValvePercent + 3);
    }

    /// <summary>A falling flow holds steam where it is: it neither chases the flow up nor drops to the recipe's opening.</summary>
    [Fact]
    public void A_falling_flow_holds_steam_where_it_is()
    {
        var h = SteamTrimmedUp(out var before);
        // Down by a quarter: falling, but still over half the target.
        h.Values[Channel.DistillateFlow] = 1.35;
        h.StepSeconds(10);
        Assert.InRange(h.Decisions.SteamValvePercent, before - 1, before + 1e-9);
    }

    /// <summary>
    /// While condensate is not arriving the trim's memory follows the steam down, so flow coming back does not find steam
    /// remembered from before the collapse: it starts again from where the steam is.
    /// </summary>
    [Fact]
    public void After_a_collapse_the_trim_does_not_remember_the_steam_it_had_before()
    {
        var h = SteamTrimmedUp(out var trimmedUp);
        h.Values[Channel.DistillateFlow] = 0.8;
        h.StepSeconds(30);
        Assert.True(h.State.FlowTrim.Integral <= h.Recipe.Hearts.Steam.ValvePercent + 1e-9, $"the trim remembers {h.State.FlowTrim.Integral:0.##} %");
        // The flow comes back where it was: the trim starts from the recipe's opening again, not from the steam it had.
        h.Values[Channel.DistillateFlow] = 1.8;
        h.StepSeconds(20);
        Assert.False(h.State.Held);
        Assert.True(h.Decisions.SteamValvePercent < trimmedUp - 1, $"steam back at {h.Decisions.SteamValvePercent:0.##} % of {trimmedUp:0.##} % at once");
    }

    /// <summary>A hold forgets the trim: after the resume the steam comes back to the recipe's opening, not to the trimmed-up figure it had.</summary>
    [Fact]
    public void A_hold_forgets_steam_trimmed_up_before_it()
    {
        var h = SteamTrimmedUp(out var trimmedUp);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        h.StepSeconds(5);
        Assert.Equal(0, h.State.FlowTrim.Integral);
        Assert.True(h.Command(CommandKind.Resume).Accepted);
        h.Step();
        Assert.True(h.State.FlowTrim.Integral <= h.Recipe.Hearts.Steam.ValvePercent + 1, $"the trim restarted from {h.State.FlowTrim.Integral:0.##} %");
    }

    /// <summary>With no filter time, a restart's first step (no time elapsed) still gives the strength as it is, not a number divided by nothing.</summary>
    [Fact]
    public void With_no_filter_time_a_restart_s_first_step_keeps_a_strength()
    {
        var recipe = DefaultRecipe.Create();
        recipe.Strength.FilterSeconds = 0;
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Hearts);
        StillController.RestoreAfterPowerLoss(h.State, h.Now, new Decisions());
        h.Step();
        Assert.NotNull(h.State.StrengthPercentVolume);
        Assert.Equal(h.State.StrengthPercentVolume, h.State.FilteredStrengthPercentVolume);
    }

    /// <summary>Hearts for ten minutes at a flow under its target (over half of it): the trim has opened steam well past the recipe's opening.</summary>
    private static ControllerHarness SteamTrimmedUp(out double trimmedUp)
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Distilling(86, flowLitresPerMinute: 1.8);
        h.StepSeconds(600);
        trimmedUp = h.Decisions.SteamValvePercent;
        Assert.True(trimmedUp > h.Recipe.Hearts.Steam.ValvePercent + 2, $"{trimmedUp}");
        return h;
    }
}
