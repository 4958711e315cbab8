using StillControl.Physics;

namespace StillControl.Process;

/// <summary>
/// What one control step reports beside the valves (receiver, horn, beacon, mass flow, advice) and how it counts time: written
/// where mutation testing of <c>Step.cs</c> found changes no test noticed.
/// </summary>
public class StepRuleTests
{
    [Fact]
    public void The_step_reports_the_distillate_mass_flow_at_the_strength_measured()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.StepSeconds(5);
        var flow = h.Readings[Channel.DistillateFlow].Value;
        var strength = h.State.StrengthPercentVolume!.Value;
        Assert.Equal(strength, h.Decisions.StrengthPercentVolume);
        Assert.Equal(flow * EthanolWater.DensityKilogramsPerLitreAt(strength), h.Decisions.DistillateKilogramsPerMinute!.Value, 9);

        h.Values[Channel.DistillateFlow] = null;
        h.Step();
        Assert.Null(h.Decisions.DistillateKilogramsPerMinute);
    }

    [Fact]
    public void Before_any_strength_the_mass_flow_is_taken_at_water_s_density()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Sealed);
        h.Values[Channel.DistillateFlow] = 0.1;
        h.StepSeconds(2);
        Assert.Null(h.Decisions.StrengthPercentVolume);
        Assert.Equal(h.Readings[Channel.DistillateFlow].Value * EthanolWater.DensityKilogramsPerLitreAt(0), h.Decisions.DistillateKilogramsPerMinute!.Value, 9);
    }

    [Fact]
    public void The_cover_advice_is_for_loading_only()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Loading);
        h.Values[Channel.BedSurface] = h.Recipe.Loading.CoverLayerAtBedSurfaceCelsius + 5;
        h.StepSeconds(6);
        Assert.True(h.Decisions.CoverLayerAdvised);
        Assert.True(h.Command(CommandKind.Seal).Accepted);
        h.Step();
        Assert.False(h.Decisions.CoverLayerAdvised);
    }

    [Fact]
    public void No_receiver_outside_a_batch_and_the_heads_receiver_from_sealing_on()
    {
        var h = new ControllerHarness();
        h.Step(4);
        Assert.Null(h.Decisions.Receiver);
        h.RunTo(Phase.Loading);
        Assert.Null(h.Decisions.Receiver);
        Assert.True(h.Command(CommandKind.Seal).Accepted);
        h.Step();
        Assert.Equal("heads", h.Decisions.Receiver);
    }

    /// <summary>The horn sounds until every alarm is acknowledged; the beacon stays lit while a condition holds or the batch is held.</summary>
    [Fact]
    public void Horn_until_acknowledged_and_beacon_while_a_condition_holds_or_the_batch_is_held()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.False(h.Decisions.Horn);
        Assert.False(h.Decisions.Beacon);
        h.Values[Channel.Steam] = null;
        h.Step();
        Assert.True(h.Decisions.Horn);
        Assert.True(h.Decisions.Beacon);
        h.Command(CommandKind.Ack);
        h.Step();
        Assert.False(h.Decisions.Horn);
        Assert.True(h.Decisions.Beacon);
        h.Values[Channel.Steam] = 104;
        h.StepSeconds(StillController.WarningClearSeconds + 1);
        Assert.False(h.Decisions.Beacon);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        h.Step();
        Assert.True(h.Decisions.Beacon);
        Assert.False(h.Decisions.Horn);
    }

    /// <summary>While settling after a start, the horn sounds only for alarms that wait from before the restart; every output is safe.</summary>
    [Fact]
    public void While_settling_the_outputs_are_safe_and_the_horn_sounds_only_for_waiting_alarms()
    {
        var h = new ControllerHarness();
        h.Values.Clear();
        h.Step();
        Assert.True(h.Decisions.Settling);
        Assert.False(h.Decisions.Horn);
        Assert.True(h.Decisions.Beacon);
        Assert.True(h.Decisions.SteamInhibited);
        Assert.False(h.Decisions.SteamIsolationOpen);
        Assert.Equal((0.0, 100.0), (h.Decisions.SteamValvePercent, h.Decisions.CoolingValvePercent));
        Assert.Equal((0.0, 100.0), (h.State.SteamValvePercent, h.State.CoolingValvePercent));

        h.State.AlarmSlots[Alarms.Slot(AlarmCode.PowerLoss)].Unacknowledged = true;
        h.Step();
        Assert.True(h.Decisions.Settling);
        Assert.True(h.Decisions.Horn);
    }

    /// <summary>Settling waits at most the longest stale limit a needed reading has: then whatever has not arrived is judged.</summary>
    [Fact]
    public void Settling_ends_once_the_longest_stale_limit_has_passed()
    {
        var h = new ControllerHarness();
        h.Values.Remove(Channel.CoolingFlow);
        var longest = Channels.All.Max(c => h.Recipe.LimitsFor(c).StaleSeconds);
        h.StepSeconds(longest - 0.5);
        Assert.True(h.Decisions.Settling);
        h.StepSeconds(1);
        Assert.False(h.Decisions.Settling);
        Assert.NotNull(h.State.SettledAt);
        // Settled for good: a reading going missing later is judged at once.
        h.Values.Remove(Channel.SteamPressure);
        h.Step();
        Assert.False(h.Decisions.Settling);
    }

    [Fact]
    public void A_step_dated_before_the_last_counts_no_time()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        var before = h.State.PhaseRunningSeconds;
        var earlier = h.Now - TimeSpan.FromSeconds(30);
        h.Decisions.Clear(earlier);
        StillController.Step(h.Readings, h.State, h.Recipe, earlier, h.Decisions);
        Assert.Equal(before, h.State.PhaseRunningSeconds);
        Assert.Equal(earlier, h.State.LastStepAt);
    }

    [Fact]
    public void Describe_names_the_phase_and_any_hold_with_its_cause()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.Equal("hearts", StillController.Describe(h.State));
        h.Command(CommandKind.Hold);
        Assert.Equal("hearts, held (operator-hold)", StillController.Describe(h.State));
    }

    /// <summary>An interlock that holds outside a batch keeps the steam inhibited and says so, though no batch is there to hold.</summary>
    [Fact]
    public void An_idle_still_reports_steam_inhibited_only_while_a_condition_holds()
    {
        var h = new ControllerHarness();
        h.Step(4);
        Assert.False(h.Decisions.SteamInhibited);
        Assert.False(h.State.SteamInhibited);
        h.Values[Channel.EmergencyStop] = 1;
        h.Step();
        Assert.True(h.Decisions.SteamInhibited);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
    }
    [Fact]
    public void The_first_step_with_every_reading_there_is_not_settling()
    {
        var h = new ControllerHarness();
        h.Step();
        Assert.False(h.Decisions.Settling);
        Assert.Equal(h.Now, h.State.SettledAt);
    }

    /// <summary>Settling ends in the step its wait reaches the longest stale limit, not a step later.</summary>
    [Fact]
    public void Settling_ends_exactly_at_the_longest_stale_limit()
    {
        var h = new ControllerHarness();
        h.Values.Remove(Channel.CoolingFlow);
        var longest = Channels.All.Max(c => h.Recipe.LimitsFor(c).StaleSeconds);
        while (h.Decisions.Settling || h.State.SettledAt is null) h.Step();
        Assert.Equal(TimeSpan.FromSeconds(longest), h.State.SettledAt - h.State.FirstStepAt);
    }

    /// <summary>The step decides every output afresh: a caller that reuses its decisions without clearing them still gets this step's.</summary>
    [Fact]
    public void A_step_decides_every_output_afresh()
    {
        var h = new ControllerHarness();
        h.Values.Clear();
        var decisions = new Decisions();
        var now = h.Now;
        for (var i = 0; i < 3; i++)
        {
            now += ControllerHarness.Period;
            StillController.Step(new ReadingSnapshot(), h.State, h.Recipe, now, decisions);
        }
        Assert.True(decisions.Settling);
        var readings = new ReadingSnapshot();
        foreach (var channel in new[] { Channel.SteamPressure, Channel.CoolingFlow, Channel.Distillate, Channel.BedSurface, Channel.CoolingOut, Channel.DistillateFlow })
        {
            readings[channel] = Reading.Good(channel == Channel.CoolingFlow ? 40 : 20, now);
        }
        now += ControllerHarness.Period;
        StillController.Step(readings, h.State, h.Recipe, now, decisions);
        Assert.False(decisions.Settling);
    }

    /// <summary>A restart settles with every output safe, whatever the decisions held from before.</summary>
    [Fact]
    public void A_restart_settles_with_steam_closed_whatever_was_decided_before()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.True(h.Decisions.SteamValvePercent > 0);
        var restored = System.Text.Json.JsonSerializer.Deserialize<BatchState>(System.Text.Json.JsonSerializer.Serialize(h.State))!;
        StillController.RestoreAfterPowerLoss(restored, h.Now, new Decisions());
        // The vapour probe (which hearts needs, loading would not) has not answered yet.
        h.Readings[Channel.Vapour] = Reading.NotConfigured;
        var now = h.Now + ControllerHarness.Period;
        h.Decisions.Clear(now);
        StillController.Step(h.Readings, restored, h.Recipe, now, h.Decisions);
        Assert.True(h.Decisions.Settling);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
        Assert.False(h.Decisions.SteamIsolationOpen);
        Assert.True(h.Decisions.Horn);
    }

    /// <summary>A hold and its end start the cooling loop afresh from its starting opening: nothing it integrated before applies.</summary>
    [Fact]
    public void After_a_resume_the_cooling_loop_starts_afresh()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Distillate] = 26;
        h.StepSeconds(400);
        Assert.Equal(h.Recipe.CoolingControl.ValveMinimumPercent, h.Decisions.CoolingValvePercent, 3);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        h.Step(4);
        Assert.True(h.Command(CommandKind.Resume).Accepted);
        h.Step();
        Assert.True(h.Decisions.CoolingValvePercent > h.Recipe.CoolingControl.ValveMinimumPercent + 5, $"{h.Decisions.CoolingValvePercent}");
    }
}
