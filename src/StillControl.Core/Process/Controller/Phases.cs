using StillControl.Physics;
using StillControl.Recipes;

namespace StillControl.Process;

public static partial class StillController
{
    private const double CoverAdvisoryHysteresisCelsius = 10;

    /// <summary>Commanded steam below this counts as none for the steam-starved watchdog.</summary>
    private const double StarvedSteamPercent = 0.5;

    /// <summary>Distillate reaching the receiver is counted in every phase of a running batch, held or not: it is in the receiver.</summary>
    private static void Accumulate(BatchState state, Recipe recipe, double dt)
    {
        var flow = state.Signal(Channel.DistillateFlow);
        var fraction = state.Current;
        if (fraction is null)
        {
            return;
        }
        var strength = state.StrengthPercentVolume;
        if (strength is { } known && fraction.UnassayedLitres > 0)
        {
            // The first drops ran before the still-head probe read vapour: they take the first strength measured.
            fraction.EthanolLitres += fraction.UnassayedLitres * known / 100;
            fraction.MassKilograms += fraction.UnassayedLitres * EthanolWater.DensityKilogramsPerLitreAt(known);
            fraction.UnassayedLitres = 0;
        }
        if (!flow.IsGood || dt <= 0 || flow.Value <= 0)
        {
            return;
        }
        var litres = flow.Value * dt / 60;
        fraction.VolumeLitres += litres;
        if (strength is { } s)
        {
            fraction.EthanolLitres += litres * s / 100;
            fraction.MassKilograms += litres * EthanolWater.DensityKilogramsPerLitreAt(s);
        }
        else
        {
            fraction.UnassayedLitres += litres;
        }
    }

    private static void Advance(BatchState state, Recipe recipe, DateTimeOffset now, Decisions d)
    {
        switch (state.Phase)
        {
            case Phase.Loading:
            {
                var surface = state.Signal(Channel.BedSurface);
                if (surface.IsGood)
                {
                    if (!state.CoverAdvised && surface.Value >= recipe.Loading.CoverLayerAtBedSurfaceCelsius)
                    {
                        state.CoverAdvised = true;
                        state.CoverAdvisories++;
                        d.Events.Add(new ControllerEvent(EventKind.Advisory, now, Phase.Loading, "cover-layer",
                            $"bed surface {F(surface.Value)} °C: vapour about to break through, cover the next layer ({state.CoverAdvisories})", Channel.BedSurface));
                    }
                    else if (state.CoverAdvised && surface.Value < recipe.Loading.CoverLayerAtBedSurfaceCelsius - CoverAdvisoryHysteresisCelsius)
                    {
                        state.CoverAdvised = false;
                    }
                }
                var overdue = state.PhaseRunningSeconds > recipe.Loading.MaximumDurationMinutes * 60;
                if (Condition(state, AlarmCode.LoadingOverdue, overdue, now, d))
                {
                    Raise(state, Alarms.Slot(AlarmCode.LoadingOverdue), false, $"loading has run {F(state.PhaseRunningSeconds / 60)} min, over {F(recipe.Loading.MaximumDurationMinutes)} min", now, d);
                }
                break;
            }
            case Phase.Sealed:
            {
                var first = recipe.Sealed.FirstDistillate;
                var flow = state.Signal(Channel.DistillateFlow);
                var distillate = state.Signal(Channel.Distillate);
                var coolingIn = state.Signal(Channel.CoolingIn);
                string? why = null;
                if (first.FlowLitresPerMinute is { } minimum && flow.IsGood && flow.Value >= minimum)
                {
                    why = $"first distillate: flow {F(flow.Value)} L/min";
                }
                else if (first.RiseAboveCoolingInCelsius is { } rise && distillate.IsGood && coolingIn.IsGood && distillate.Value - coolingIn.Value >= rise)
                {
                    why = $"first distillate: outlet {F(distillate.Value)} °C, {F(distillate.Value - coolingIn.Value)} °C above cooling water";
                }
                var late = why is null && state.PhaseRunningSeconds > recipe.Sealed.MaximumWaitMinutes * 60;
                if (Condition(state, AlarmCode.NoFirstDistillate, late, now, d))
                {
                    Raise(state, Alarms.Slot(AlarmCode.NoFirstDistillate), false, $"no distillate {F(state.PhaseRunningSeconds / 60)} min after sealing", now, d);
                }
                if (why is not null)
                {
                    EnterPhase(state, recipe, Phase.Heads, now, why, d);
                }
                break;
            }
            case Phase.Heads:
            {
                var end = recipe.Heads.End;
                var fraction = state.Current;
                string? why = null;
                if (end.MassKilograms is { } mass && fraction is not null && fraction.MassKilograms >= mass)
                {
                    why = $"heads {F(fraction.MassKilograms)} kg collected (end {F(mass)} kg)";
                }
                else if (end.VolumeLitres is { } volume && fraction is not null && fraction.VolumeLitres >= volume)
                {
                    why = $"heads {F(fraction.VolumeLitres)} L collected (end {F(volume)} L)";
                }
                else if (end.DurationMinutes is { } minutes && state.PhaseRunningSeconds >= minutes * 60)
                {
                    why = $"heads ran {F(minutes)} min";
                }
                if (why is not null)
                {
                    EnterPhase(state, recipe, Phase.Hearts, now, why, d);
                }
                break;
            }
            case Phase.Hearts:
            {
                var grade = recipe.Hearts.Grades[Math.Min(state.HeartsGrade, recipe.Hearts.Grades.Count - 1)];
                if (BelowFor(state, grade.EndBelowStrengthPercentVolume, recipe.Hearts.StrengthConfirmSeconds))
                {
                    CutCurrent(state, recipe, now, $"strength {F(state.FilteredStrengthPercentVolume ?? 0)} % vol below {F(grade.EndBelowStrengthPercentVolume)} % vol", d);
                }
                break;
            }
            case Phase.Tails:
            {
                var tails = recipe.Tails;
                if (BelowFor(state, tails.EndBelowStrengthPercentVolume, recipe.Hearts.StrengthConfirmSeconds))
                {
                    EnterPhase(state, recipe, Phase.Steaming, now, $"strength {F(state.FilteredStrengthPercentVolume ?? 0)} % vol below {F(tails.EndBelowStrengthPercentVolume)} % vol", d);
                }
                else if (state.PhaseRunningSeconds >= tails.MaximumDurationMinutes * 60)
                {
                    EnterPhase(state, recipe, Phase.Steaming, now, $"tails reached their maximum {F(tails.MaximumDurationMinutes)} min", d);
                }
                break;
            }
            case Phase.Steaming:
                if (state.PhaseRunningSeconds >= recipe.Steaming.MinimumDurationMinutes * 60)
                {
                    EnterPhase(state, recipe, Phase.Complete, now, $"grain steamed {F(recipe.Steaming.MinimumDurationMinutes)} min", d);
                }
                break;
        }
    }

    /// <summary>
    /// The longest a phase may run before the distiller is warned; null for phases that end themselves on time (tails at their
    /// maximum, steaming at its minimum).
    /// </summary>
    public static double? MaximumMinutes(Phase phase, Recipe recipe) => phase switch
    {
        Phase.Loading => recipe.Loading.MaximumDurationMinutes,
        Phase.Sealed => recipe.Sealed.MaximumWaitMinutes,
        Phase.Heads => recipe.Heads.MaximumDurationMinutes,
        Phase.Hearts => recipe.Hearts.MaximumDurationMinutes,
        _ => null,
    };

    /// <summary>Sets when the phase watchdog holds the batch: its maximum plus the grace, or a grace from now after a resume past it.</summary>
    private static void ArmWatchdog(BatchState state, Recipe recipe, Phase phase, bool afterResume = false)
    {
        state.SteamStarvedSeconds = 0;
        if (MaximumMinutes(phase, recipe) is not { } maximum)
        {
            state.WatchdogHoldAtSeconds = null;
            return;
        }
        var holdAt = (maximum + recipe.Watchdogs.OverdueHoldAfterMinutes) * 60;
        if (afterResume && state.PhaseRunningSeconds >= (state.WatchdogHoldAtSeconds ?? holdAt))
        {
            holdAt = state.PhaseRunningSeconds + recipe.Watchdogs.OverdueHoldAfterMinutes * 60;
        }
        state.WatchdogHoldAtSeconds = afterResume ? Math.Max(holdAt, state.WatchdogHoldAtSeconds ?? 0) : holdAt;
    }

    /// <summary>
    /// A batch never sits unattended: a phase past its maximum is warned about, then held once the grace has passed; steam
    /// commanded at nothing for the starved time is held too (something, a cut-back or a trim, is keeping the still from working).
    /// </summary>
    private static void Watchdogs(BatchState state, Recipe recipe, double dt, DateTimeOffset now, Decisions d)
    {
        var phase = state.Phase;
        if (!phase.IsActive() || state.Held)
        {
            return;
        }
        if (phase is Phase.Heads or Phase.Hearts && MaximumMinutes(phase, recipe) is { } maximum)
        {
            var overdue = state.PhaseRunningSeconds > maximum * 60;
            if (Condition(state, AlarmCode.PhaseOverdue, overdue, now, d))
            {
                Raise(state, Alarms.Slot(AlarmCode.PhaseOverdue), false, $"{phase.Name()} has run {F(state.PhaseRunningSeconds / 60)} min, over its {F(maximum)} min", now, d);
            }
        }
        if (state.WatchdogHoldAtSeconds is { } holdAt && state.PhaseRunningSeconds >= holdAt)
        {
            RaiseOnce(state, AlarmCode.PhaseOverdue, trip: true,
                $"{phase.Name()} has run {F(state.PhaseRunningSeconds / 60)} min, {F(recipe.Watchdogs.OverdueHoldAfterMinutes)} min past its maximum of {F(MaximumMinutes(phase, recipe) ?? 0)} min: held for a person to look", now, d);
            Hold(state, now, Alarms.Code(Alarms.Slot(AlarmCode.PhaseOverdue)), d);
            return;
        }
        state.SteamStarvedSeconds = state.SteamValvePercent < StarvedSteamPercent ? state.SteamStarvedSeconds + dt : 0;
        if (state.SteamStarvedSeconds >= recipe.Watchdogs.SteamStarvedMinutes * 60)
        {
            RaiseOnce(state, AlarmCode.SteamStarved, trip: true,
                $"steam commanded at nothing for {F(state.SteamStarvedSeconds / 60)} min in {phase.Name()} (cooling cut-back {F(state.SteamCutbackPercent)} %, pressure trim {F(state.PressureTrimPercent)} %): held for a person to look", now, d);
            Hold(state, now, Alarms.Code(Alarms.Slot(AlarmCode.SteamStarved)), d);
        }
    }

    /// <summary>The filtered strength has stayed below the threshold for the confirm time (counted in <see cref="UpdateBelowEnd"/>).</summary>
    private static bool BelowFor(BatchState state, double threshold, double confirmSeconds) =>
        state.FilteredStrengthPercentVolume is { } s && s < threshold && state.BelowEndSeconds >= confirmSeconds;

    private static void CutCurrent(BatchState state, Recipe recipe, DateTimeOffset now, string reason, Decisions d)
    {
        switch (state.Phase)
        {
            case Phase.Heads:
                EnterPhase(state, recipe, Phase.Hearts, now, reason, d);
                break;
            case Phase.Hearts when state.HeartsGrade + 1 < recipe.Hearts.Grades.Count:
                var from = recipe.Hearts.Grades[state.HeartsGrade];
                state.HeartsGrade++;
                var to = recipe.Hearts.Grades[state.HeartsGrade];
                state.BelowEndSeconds = 0;
                StartFraction(state, to.Receiver, Phase.Hearts, to.Name);
                d.Events.Add(new ControllerEvent(EventKind.GradeChanged, now, Phase.Hearts, to.Name, $"{from.Name} → {to.Name} (receiver {to.Receiver}): {reason}"));
                break;
            case Phase.Hearts:
                EnterPhase(state, recipe, Phase.Tails, now, reason, d);
                break;
            case Phase.Tails:
                EnterPhase(state, recipe, Phase.Steaming, now, reason, d);
                break;
        }
    }

    private static void EnterPhase(BatchState state, Recipe recipe, Phase next, DateTimeOffset now, string reason, Decisions d)
    {
        var previous = state.Phase;
        if (state.CurrentPhaseRecord is { } record)
        {
            record.EndedAt = now;
            record.EndReason = reason;
        }
        state.Phase = next;
        state.PhaseStartedAt = now;
        state.PhaseRunningSeconds = 0;
        state.BelowEndSeconds = 0;
        state.FlowTrim.Reset();
        switch (next)
        {
            case Phase.Sealed:
                StartFraction(state, recipe.Heads.Receiver, Phase.Heads, null);
                break;
            case Phase.Heads:
                break; // the sealed phase already opened the heads receiver for the first drops
            case Phase.Hearts:
                state.HeartsGrade = 0;
                StartFraction(state, recipe.Hearts.Grades[0].Receiver, Phase.Hearts, recipe.Hearts.Grades[0].Name);
                break;
            case Phase.Tails:
                StartFraction(state, recipe.Tails.Receiver, Phase.Tails, null);
                break;
            case Phase.Steaming:
                StartFraction(state, recipe.Steaming.Receiver, Phase.Steaming, null);
                break;
            case Phase.Complete:
            case Phase.Aborted:
                state.EndedAt = now;
                state.CurrentFraction = -1;
                Release(state);
                break;
        }
        if (next.IsActive())
        {
            state.Phases.Add(new PhaseRecord { Phase = next.Name(), StartedAt = now, Reason = reason, CoolingChannel = recipe.CoolingFor(next).Channel });
            ArmWatchdog(state, recipe, next);
        }
        d.Events.Add(new ControllerEvent(EventKind.PhaseChanged, now, next, next.Name(), $"{previous.Name()} → {next.Name()}: {reason}"));
        if (next.IsFinished())
        {
            d.Events.Add(new ControllerEvent(EventKind.BatchEnded, now, next, next.Name(), $"batch {state.BatchId} {next.Name()}: {reason}"));
        }
    }

    private static void StartFraction(BatchState state, string receiver, Phase phase, string? grade)
    {
        state.Fractions.Add(new Fraction { Receiver = receiver, Phase = phase.Name(), Grade = grade });
        state.CurrentFraction = state.Fractions.Count - 1;
    }
}
