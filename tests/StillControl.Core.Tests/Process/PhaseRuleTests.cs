using StillControl.Physics;
using StillControl.Recipes;

namespace StillControl.Process;

/// <summary>
/// The phase machine at its edges: each way a phase ends, the warnings and holds of its watchdogs, what the record keeps, and
/// the distillate counted into each receiver. Written where mutation testing of <c>Phases.cs</c> found changes no test noticed.
/// </summary>
public class PhaseRuleTests
{
    private static Recipe Valid(Action<Recipe> change)
    {
        var recipe = DefaultRecipe.Create();
        change(recipe);
        Assert.Empty(RecipeValidator.Validate(recipe));
        return recipe;
    }

    [Theory]
    [InlineData(Phase.Loading, 60.0)]
    [InlineData(Phase.Sealed, 20.0)]
    [InlineData(Phase.Heads, 20.0)]
    [InlineData(Phase.Hearts, 120.0)]
    [InlineData(Phase.Tails, null)]
    [InlineData(Phase.Steaming, null)]
    [InlineData(Phase.Idle, null)]
    public void A_phase_s_maximum_is_its_recipe_s_and_phases_that_end_themselves_have_none(Phase phase, double? minutes)
    {
        Assert.Equal(minutes, StillController.MaximumMinutes(phase, DefaultRecipe.Create()));
    }

    [Fact]
    public void Loading_past_its_maximum_is_a_warning_then_held_after_the_grace()
    {
        var recipe = Valid(r => { r.Loading.MaximumDurationMinutes = 2; r.Watchdogs.OverdueHoldAfterMinutes = 1; });
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Loading);
        while (h.State.PhaseRunningSeconds < 120) h.Step();
        // At the maximum itself: not yet over it.
        Assert.Equal(120, h.State.PhaseRunningSeconds);
        Assert.DoesNotContain(h.State.AlarmLog, a => a.Code == "loading-overdue");
        h.Step();
        Assert.Single(h.State.AlarmLog, a => a.Code == "loading-overdue");
        h.StepSeconds(4);
        var warning = Assert.Single(h.State.AlarmLog, a => a.Code == "loading-overdue");
        Assert.Equal("warning", warning.Severity);
        Assert.Equal("loading has run 2 min, over 2 min", warning.Detail);
        Assert.False(h.State.Held);
        Assert.True(h.Decisions.SteamValvePercent > 0);

        h.StepSeconds(60 - 6);
        Assert.False(h.State.Held);
        h.StepSeconds(4);
        Assert.True(h.State.Held);
        Assert.Equal("phase-overdue", h.State.HoldCause);
        var trip = Assert.Single(h.State.AlarmLog, a => a.Code == "phase-overdue");
        Assert.Equal("trip", trip.Severity);
        Assert.Equal("loading has run 3 min, 1 min past its maximum of 2 min: held for a person to look", trip.Detail);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
    }

    [Fact]
    public void No_first_distillate_within_the_wait_is_a_warning_then_held_after_the_grace()
    {
        var recipe = Valid(r => { r.Sealed.MaximumWaitMinutes = 1; r.Watchdogs.OverdueHoldAfterMinutes = 1; });
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Sealed);
        while (h.State.PhaseRunningSeconds < 60) h.Step();
        Assert.DoesNotContain(h.State.AlarmLog, a => a.Code == "no-first-distillate");
        h.Step();
        var warning = Assert.Single(h.State.AlarmLog, a => a.Code == "no-first-distillate");
        Assert.Equal("warning", warning.Severity);
        Assert.Equal("no distillate 1 min after sealing", warning.Detail);
        Assert.False(h.State.Held);
        h.StepSeconds(60);
        Assert.True(h.State.Held);
        Assert.Equal("phase-overdue", h.State.HoldCause);
        Assert.Equal(Phase.Sealed, h.State.Phase);
    }

    [Theory]
    [InlineData(0.19, false)]
    [InlineData(0.2, true)]
    public void First_distillate_is_a_flow_reaching_the_recipe_s_figure(double flow, bool heads)
    {
        var h = new ControllerHarness();
        h.Pulses.Add(Channel.DistillateFlow);
        h.RunTo(Phase.Sealed);
        h.Values[Channel.DistillateFlow] = flow;
        h.StepSeconds(5);
        Assert.Equal(heads ? Phase.Heads : Phase.Sealed, h.State.Phase);
        if (heads) Assert.Equal("first distillate: flow 0.2 L/min", h.State.Phases[^1].Reason);
    }

    [Theory]
    [InlineData(24.9, false)]
    [InlineData(25.0, true)]
    public void First_distillate_by_the_outlet_warming_above_the_cooling_water(double outlet, bool heads)
    {
        var recipe = Valid(r => { r.Sealed.FirstDistillate.FlowLitresPerMinute = null; r.Sealed.FirstDistillate.RiseAboveCoolingInCelsius = 5; });
        var h = new ControllerHarness(recipe);
        h.Exact.Add(Channel.Distillate);
        h.Exact.Add(Channel.CoolingIn);
        h.RunTo(Phase.Sealed);
        // Flow alone never ends sealing on this recipe.
        h.Values[Channel.DistillateFlow] = 1;
        h.StepSeconds(2);
        Assert.Equal(Phase.Sealed, h.State.Phase);
        h.Values[Channel.Distillate] = outlet;
        h.StepSeconds(5);
        Assert.Equal(heads ? Phase.Heads : Phase.Sealed, h.State.Phase);
        if (heads) Assert.Equal("first distillate: outlet 25 °C, 5 °C above cooling water", h.State.Phases[^1].Reason);
    }

    [Fact]
    public void Heads_may_end_at_a_volume()
    {
        var recipe = Valid(r => r.Heads.End = new HeadsEnd { MassKilograms = null, VolumeLitres = 0.5 });
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Sealed);
        h.Distilling(82);
        var oneStep = 2.5 / 60 * ControllerHarness.Period.TotalSeconds;
        h.StepSeconds(30);
        Assert.Equal(Phase.Hearts, h.State.Phase);
        var heads = h.State.Fractions.Single(f => f.Phase == "heads");
        Assert.InRange(heads.VolumeLitres, 0.5, 0.5 + oneStep + 1e-9);
        Assert.StartsWith("heads 0.5 L collected (end 0.5 L)", h.State.Phases[^1].Reason);
    }

    [Fact]
    public void Heads_may_end_after_a_time()
    {
        var recipe = Valid(r => r.Heads.End = new HeadsEnd { MassKilograms = null, DurationMinutes = 1 });
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Heads);
        h.StepSeconds(60 - h.State.PhaseRunningSeconds - 1);
        Assert.Equal(Phase.Heads, h.State.Phase);
        h.StepSeconds(2);
        Assert.Equal(Phase.Hearts, h.State.Phase);
        Assert.Equal("heads ran 1 min", h.State.Phases[^1].Reason);
        Assert.Equal("heads ran 1 min", h.State.Phases[^2].EndReason);
    }

    [Fact]
    public void Tails_end_when_the_strength_stays_below_their_end()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Tails);
        h.Values[Channel.Vapour] = 99.5;
        h.StepSeconds(h.Recipe.Strength.FilterSeconds);
        Assert.Equal(Phase.Tails, h.State.Phase);
        h.StepSeconds(h.Recipe.Hearts.StrengthConfirmSeconds + h.Recipe.Strength.FilterSeconds * 3);
        Assert.Equal(Phase.Steaming, h.State.Phase);
        Assert.Matches(@"^strength [1-9](\.\d)? % vol below 10 % vol$", h.State.Phases[^1].Reason);
        Assert.Equal("drain", h.Decisions.Receiver);
    }

    [Fact]
    public void Tails_end_at_their_maximum_time()
    {
        var recipe = Valid(r => r.Tails.MaximumDurationMinutes = 1);
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Tails);
        h.StepSeconds(60 - h.State.PhaseRunningSeconds - 1);
        Assert.Equal(Phase.Tails, h.State.Phase);
        h.StepSeconds(2);
        Assert.Equal(Phase.Steaming, h.State.Phase);
        Assert.Equal("tails reached their maximum 1 min", h.State.Phases[^1].Reason);
    }

    [Fact]
    public void Cut_ends_heads_and_tails_too()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Heads);
        var cut = h.Command(CommandKind.Cut);
        Assert.True(cut.Accepted);
        Assert.Equal("cut: heads → hearts", cut.Reason);
        Assert.Equal(Phase.Hearts, h.State.Phase);
        Assert.Equal("cut by tester", h.State.Phases[^1].Reason);
        Assert.Equal("hearts-1", h.State.Fractions[^1].Receiver);
        Assert.Equal("hearts-1", h.State.Fractions[^1].Grade);
    }

    [Fact]
    public void The_record_keeps_each_phase_with_its_start_its_end_and_why()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Tails);
        Assert.Equal(["loading", "sealed", "heads", "hearts", "tails"], h.State.Phases.Select(p => p.Phase).ToArray());
        for (var i = 0; i + 1 < h.State.Phases.Count; i++)
        {
            Assert.Equal(h.State.Phases[i + 1].StartedAt, h.State.Phases[i].EndedAt);
            Assert.Equal(h.State.Phases[i + 1].Reason, h.State.Phases[i].EndReason);
        }
        Assert.Null(h.State.Phases[^1].EndedAt);
        Assert.All(h.State.Phases, p => Assert.Equal("distillate", p.CoolingChannel));
        Assert.Equal(["heads", "hearts-1", "hearts-2", "tails"], h.State.Fractions.Select(f => f.Receiver).ToArray());
        Assert.Equal(new string?[] { null, "hearts-1", "hearts-2", null }, h.State.Fractions.Select(f => f.Grade).ToArray());
        Assert.Equal(["heads", "hearts", "hearts", "tails"], h.State.Fractions.Select(f => f.Phase).ToArray());
        Assert.Equal(h.State.Fractions.Count - 1, h.State.CurrentFraction);
        Assert.Equal(h.State.PhaseStartedAt, h.State.Phases[^1].StartedAt);
    }

    [Fact]
    public void An_aborted_batch_ends_with_its_record_closed_and_no_receiver()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        var at = h.Now;
        Assert.True(h.Command(CommandKind.Abort).Accepted);
        Assert.Equal(at, h.State.EndedAt);
        Assert.Equal(-1, h.State.CurrentFraction);
        Assert.Equal(at, h.State.Phases[^1].EndedAt);
        Assert.Equal("aborted by tester", h.State.Phases[^1].EndReason);
        Assert.Contains(h.Decisions.Events, e => e.Kind == EventKind.PhaseChanged && e.Message == "hearts → aborted: aborted by tester");
        Assert.Contains(h.Decisions.Events, e => e.Kind == EventKind.BatchEnded && e.Message == "batch batch-1 aborted: aborted by tester");
        h.Step();
        Assert.Null(h.Decisions.Receiver);
    }

    [Fact]
    public void A_held_batch_ended_by_abort_is_no_longer_held()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        Assert.True(h.Command(CommandKind.Abort).Accepted);
        Assert.False(h.State.Held);
        Assert.Null(h.State.HoldCause);
        Assert.Null(h.State.HeldSince);
    }

    [Fact]
    public void The_cover_advice_comes_at_the_bed_surface_figure_and_again_only_after_cooling_well_below_it()
    {
        var h = new ControllerHarness();
        h.Exact.Add(Channel.BedSurface);
        h.RunTo(Phase.Loading);
        var at = h.Recipe.Loading.CoverLayerAtBedSurfaceCelsius;
        h.Values[Channel.BedSurface] = at - 0.5;
        h.StepSeconds(5);
        Assert.False(h.Decisions.CoverLayerAdvised);
        h.Values[Channel.BedSurface] = at;
        h.StepSeconds(2);
        Assert.True(h.Decisions.CoverLayerAdvised);
        Assert.Equal($"bed surface {at:0} °C: vapour about to break through, cover the next layer (1)", h.Events.Single(e => e.Code == "cover-layer").Message);
        // A layer covered: the surface cools, but not by the hysteresis: one layer, one advice.
        h.Values[Channel.BedSurface] = at - 10;
        h.StepSeconds(5);
        Assert.True(h.Decisions.CoverLayerAdvised);
        h.Values[Channel.BedSurface] = at;
        h.StepSeconds(2);
        Assert.Single(h.Events, e => e.Code == "cover-layer");
        h.Values[Channel.BedSurface] = at - 10.5;
        h.StepSeconds(5);
        Assert.False(h.Decisions.CoverLayerAdvised);
        h.Values[Channel.BedSurface] = at;
        h.StepSeconds(2);
        Assert.Equal(2, h.Events.Count(e => e.Code == "cover-layer"));
        Assert.Equal(2, h.State.CoverAdvisories);
    }

    /// <summary>Drops that ran before the still head read vapour are assayed at the first strength measured.</summary>
    [Fact]
    public void Distillate_collected_before_any_strength_is_known_takes_the_first_strength()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Sealed);
        // A trickle below the first-distillate flow while the head is still cold: no strength yet.
        h.Values[Channel.DistillateFlow] = 0.1;
        h.StepSeconds(60);
        Assert.Null(h.State.StrengthPercentVolume);
        var heads = h.State.Fractions.Single();
        Assert.Equal("heads", heads.Receiver);
        Assert.InRange(heads.VolumeLitres, 0.098, 0.103);
        Assert.Equal(heads.VolumeLitres, heads.UnassayedLitres, 9);
        Assert.Equal(0, heads.EthanolLitres);
        Assert.Equal(0, heads.MassKilograms);
        Assert.Null(heads.AbvPercent);

        h.Values[Channel.Vapour] = 80;
        h.Values[Channel.DistillateFlow] = 0;
        for (var i = 0; i < 40 && h.State.StrengthPercentVolume is null; i++) h.Step();
        var strength = h.State.StrengthPercentVolume!.Value;
        Assert.Equal(0, heads.UnassayedLitres);
        Assert.Equal(heads.VolumeLitres * strength / 100, heads.EthanolLitres, 3);
        Assert.Equal(heads.VolumeLitres * EthanolWater.DensityKilogramsPerLitreAt(strength), heads.MassKilograms, 3);
    }

    [Fact]
    public void Distillate_is_counted_into_its_receiver_while_the_batch_is_held()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        var fraction = h.State.Current!;
        var before = fraction.VolumeLitres;
        h.StepSeconds(60);
        Assert.InRange(fraction.VolumeLitres - before, 2.4, 2.6);
        Assert.Equal("hearts-1", h.Decisions.Receiver);
        Assert.InRange(fraction.AbvPercent!.Value, h.State.StrengthPercentVolume!.Value - 0.5, h.State.StrengthPercentVolume!.Value + 0.5);
        // A flow meter failing while held adds nothing (no number to count).
        var counted = fraction.VolumeLitres;
        h.Values[Channel.DistillateFlow] = null;
        h.StepSeconds(5);
        Assert.Equal(counted, fraction.VolumeLitres);
        Assert.Equal(counted * fraction.AbvPercent!.Value / 100, fraction.EthanolLitres, 6);
    }

    /// <summary>A hold and resume before the maximum does not move the watchdog: held time is not running time, and the grace is not renewed.</summary>
    [Fact]
    public void A_resume_before_the_maximum_keeps_the_watchdog_where_it_was()
    {
        var recipe = Valid(r => { r.Hearts.MaximumDurationMinutes = 3; r.Watchdogs.OverdueHoldAfterMinutes = 1; });
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Hearts);
        h.Distilling(82);
        h.StepSeconds(30);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        h.StepSeconds(300);
        Assert.True(h.Command(CommandKind.Resume).Accepted);
        Assert.Equal(240, h.State.WatchdogHoldAtSeconds);
        h.StepSeconds(240 - h.State.PhaseRunningSeconds - 1);
        Assert.False(h.State.Held);
        h.StepSeconds(2);
        Assert.Equal("phase-overdue", h.State.HoldCause);
    }
    /// <summary>Tails end at their maximum and steaming at its minimum exactly, not a step later.</summary>
    [Fact]
    public void Tails_and_steaming_end_on_their_time_exactly()
    {
        var recipe = Valid(r => { r.Tails.MaximumDurationMinutes = 1; r.Steaming.MinimumDurationMinutes = 20; });
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Tails);
        while (h.State.Phase == Phase.Tails) h.Step();
        Assert.Equal(TimeSpan.FromMinutes(1), h.State.Phases[^1].StartedAt - h.State.Phases[^2].StartedAt);
        while (h.State.Phase == Phase.Steaming) h.Step();
        Assert.Equal(Phase.Complete, h.State.Phase);
        var steaming = h.State.Phases[^1];
        Assert.Equal(TimeSpan.FromMinutes(20), steaming.EndedAt - steaming.StartedAt);
        Assert.Equal("grain steamed 20 min", steaming.EndReason);
    }

    /// <summary>Past its maximum a phase is warned about in the step after the maximum, and held in the step the grace is used up.</summary>
    [Fact]
    public void The_overdue_warning_and_hold_come_on_their_time_exactly()
    {
        var recipe = Valid(r => { r.Hearts.MaximumDurationMinutes = 2; r.Watchdogs.OverdueHoldAfterMinutes = 1; });
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Hearts);
        h.Distilling(82);
        while (h.State.PhaseRunningSeconds < 120) h.Step();
        Assert.DoesNotContain(h.State.AlarmLog, a => a.Code == "phase-overdue");
        h.Step();
        var warning = Assert.Single(h.State.AlarmLog, a => a.Code == "phase-overdue");
        Assert.Equal("hearts has run 2 min, over its 2 min", warning.Detail);
        while (!h.State.Held) h.Step();
        Assert.Equal(180, h.State.PhaseRunningSeconds);
        Assert.Equal(h.Now, warning.ClearedAt);
        Assert.Equal("trip", h.State.AlarmLog.Single(a => a.Code == "phase-overdue" && a != warning).Severity);
    }

    /// <summary>A second resume before the new grace is used up keeps that grace: holds do not buy time.</summary>
    [Fact]
    public void A_second_resume_within_the_grace_keeps_the_grace_it_had()
    {
        var recipe = Valid(r => { r.Hearts.MaximumDurationMinutes = 2; r.Watchdogs.OverdueHoldAfterMinutes = 1; });
        var h = new ControllerHarness(recipe);
        h.RunTo(Phase.Hearts);
        h.Distilling(82);
        while (!h.State.Held) h.Step();
        h.Command(CommandKind.Ack);
        var first = h.Command(CommandKind.Resume);
        Assert.True(first.Accepted, first.Reason);
        var holdAt = h.State.WatchdogHoldAtSeconds!.Value;
        Assert.Equal(h.State.PhaseRunningSeconds + 60, holdAt);
        h.StepSeconds(30);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        h.StepSeconds(30);
        // Still past its maximum, the warning came back: acknowledged.
        h.Command(CommandKind.Ack);
        var second = h.Command(CommandKind.Resume);
        Assert.True(second.Accepted, second.Reason);
        Assert.Equal(holdAt, h.State.WatchdogHoldAtSeconds);
        h.Step();
        Assert.False(h.State.Held);
        while (!h.State.Held) h.Step();
        Assert.Equal(holdAt, h.State.PhaseRunningSeconds);
    }

    [Fact]
    public void Steam_starved_holds_on_its_time_with_an_alarm_that_says_why()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Distilling(82);
        h.Values[Channel.SteamPressure] = h.Recipe.Hearts.Steam.PressureMaximumKilopascals + 25;
        while (!h.State.Held) h.Step();
        Assert.Equal("steam-starved", h.State.HoldCause);
        Assert.Equal(h.Recipe.Watchdogs.SteamStarvedMinutes * 60, h.State.SteamStarvedSeconds);
        var alarm = h.State.AlarmLog.Single(a => a.Code == "steam-starved");
        Assert.Equal("trip", alarm.Severity);
        Assert.StartsWith("steam commanded at nothing for 10 min in hearts (cooling cut-back 0 %, pressure trim -", alarm.Detail);
    }

    /// <summary>A grade is cut in the step after its strength has stayed below the end for the confirm time, and the change is told.</summary>
    [Fact]
    public void A_grade_is_cut_once_the_confirm_time_is_reached_and_the_change_is_told()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Vapour] = 92;
        while (h.State.BelowEndSeconds < h.Recipe.Hearts.StrengthConfirmSeconds) h.Step();
        Assert.Equal(h.Recipe.Hearts.StrengthConfirmSeconds, h.State.BelowEndSeconds);
        Assert.Equal(0, h.State.HeartsGrade);
        h.Step();
        Assert.Equal(1, h.State.HeartsGrade);
        var change = Assert.Single(h.Events, e => e.Kind == EventKind.GradeChanged);
        Assert.Equal("hearts-2", change.Code);
        Assert.Matches(@"^hearts-1 → hearts-2 \(receiver hearts-2\): strength (5\d|6[0-4])(\.\d)? % vol below 65 % vol$", change.Message);
    }
}
