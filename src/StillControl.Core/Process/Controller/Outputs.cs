using StillControl.Physics;
using StillControl.Recipes;

namespace StillControl.Process;

public static partial class StillController
{
    private const double FlowTrimGainPercentPerKilogramPerMinute = 6;
    private const double FlowTrimIntegralSeconds = 60;
    private const double PressureTrimPercentPerKilopascalSecond = 1.5;
    private const double PressureTrimRecoveryPercentPerSecond = 0.5;
    /// <summary>The cooling loop starts from this opening when a phase begins.</summary>
    private const double CoolingLoopInitialPercent = 30;
    /// <summary>The cooling valve counts as fully open (the loop has nothing left to give) at or above this.</summary>
    private const double CoolingValveFullPercent = 99.5;
    /// <summary>
    /// Below this share of its target the distillate flow is not there to be trimmed: condensate has stopped arriving (or its meter
    /// has), and opening steam would only send more vapour where the condensate is not coming from.
    /// </summary>
    private const double FlowTrimMinimumShareOfTarget = 0.5;
    /// <summary>Time constant of the flow the trim compares against to tell a falling flow from noise.</summary>
    private const double FlowTrendSeconds = 30;
    /// <summary>Flow this far below its own recent average is falling: condensate is going away, and steam must not chase it.</summary>
    private const double FallingFlowShare = 0.85;
    /// <summary>With a deviation accepted, the cut-back acts this far above what the cooling water can reach.</summary>
    private const double AcceptedDeviationMarginCelsius = 2;

    private static void EstimateStrength(BatchState state, Recipe recipe, double dt)
    {
        double? strength = null;
        var meter = state.Signal(Channel.Strength);
        var vapour = state.Signal(Channel.Vapour);
        if (meter.IsGood)
        {
            strength = meter.Value;
        }
        else if (!meter.IsConfigured && vapour.IsGood)
        {
            var barometer = state.Signal(Channel.Barometer);
            var pressure = barometer.IsGood ? barometer.Value : EthanolWater.StandardPressureHectopascals;
            // Below the azeotrope's boiling point nothing is boiling at the still head yet: no strength to estimate.
            if (EthanolWater.IsVapourAtStillHead(vapour.Value, pressure))
            {
                strength = Math.Clamp(EthanolWater.StrengthFromVapourTemperature(vapour.Value, pressure) + recipe.Strength.CalibrationOffsetPercentVolume, 0, 96);
            }
        }
        state.StrengthPercentVolume = strength;
        if (strength is { } s)
        {
            var filtered = state.FilteredStrengthPercentVolume;
            var tau = recipe.Strength.FilterSeconds;
            state.FilteredStrengthPercentVolume = filtered is null || tau <= 0 ? s : filtered + (s - filtered.Value) * Math.Min(1, dt / tau);
        }
    }

    /// <summary>The cooling maximum the steam cut-back acts on: the recipe's, or with an accepted deviation what the water can reach.</summary>
    private static double EffectiveCoolingMaximum(BatchState state, Recipe recipe, Phase phase, CoolingThreshold cooling)
    {
        var inlet = state.Signal(Channel.CoolingIn);
        if (cooling.MeasuredChannel != Channel.Distillate || !state.DeviationAccepted(phase) || !inlet.IsGood)
        {
            return cooling.MaximumCelsius;
        }
        return Math.Max(cooling.MaximumCelsius, inlet.Value + recipe.CoolingControl.CondenserApproachCelsius + AcceptedDeviationMarginCelsius);
    }

    private static void ComputeOutputs(BatchState state, Recipe recipe, double dt, DateTimeOffset now, Decisions d)
    {
        var phase = state.Phase;
        if (!phase.IsActive() || state.Held)
        {
            d.SteamValvePercent = 0;
            d.CoolingValvePercent = 100;
            state.OverMaximumSeconds = 0;
            state.SteamCutbackPercent = 0;
            state.PressureTrimPercent = 0;
            if (state.AlarmSlots[Alarms.Slot(AlarmCode.CoolingOverMaximum)].Active)
            {
                Clear(state, Alarms.Slot(AlarmCode.CoolingOverMaximum), now, d);
            }
            UpdateBelowEnd(state, recipe, dt);
            return;
        }

        var control = recipe.CoolingControl;
        var cooling = recipe.CoolingFor(phase);
        var maximum = EffectiveCoolingMaximum(state, recipe, phase, cooling);
        var measured = state.Signal(cooling.MeasuredChannel);
        double coolingValve;
        var overMaximum = false;
        if (measured.IsGood)
        {
            coolingValve = state.CoolingLoop.Update(measured.Value - cooling.TargetCelsius, dt, control.ProportionalPercentPerKelvin, control.IntegralSeconds,
                control.ValveMinimumPercent, 100, initialOutput: CoolingLoopInitialPercent);
            if (measured.Value > maximum && coolingValve >= CoolingValveFullPercent)
            {
                state.OverMaximumSeconds += dt;
                if (state.OverMaximumSeconds >= control.OverMaximumConfirmSeconds)
                {
                    overMaximum = true;
                    state.SteamCutbackPercent = Math.Min(100, state.SteamCutbackPercent + control.SteamCutbackPercentPerSecond * dt);
                }
            }
            else if (measured.Value <= maximum)
            {
                state.OverMaximumSeconds = 0;
                state.SteamCutbackPercent = Math.Max(0, state.SteamCutbackPercent - control.SteamCutbackPercentPerSecond / 4 * dt);
            }
            else
            {
                overMaximum = state.AlarmSlots[Alarms.Slot(AlarmCode.CoolingOverMaximum)].Active;
            }
        }
        else
        {
            coolingValve = 100;
        }
        if (Condition(state, AlarmCode.CoolingOverMaximum, overMaximum, now, d))
        {
            Raise(state, Alarms.Slot(AlarmCode.CoolingOverMaximum), false,
                $"{cooling.Channel} {F(measured.Value)} °C above the {phase.Name()} maximum {F(maximum)} °C with the cooling valve fully open: steam cut back", now, d);
        }

        var steam = recipe.SteamFor(phase);
        var wanted = steam.ValvePercent;
        var flow = state.Signal(Channel.DistillateFlow);
        if (steam.DistillateFlowTargetKilogramsPerMinute is { } target && phase is Phase.Heads or Phase.Hearts && flow.IsGood)
        {
            var massFlow = flow.Value * EthanolWater.DensityKilogramsPerLitreAt(state.StrengthPercentVolume ?? 60);
            var trimmed = state.FlowTrim.Update(target - massFlow, dt, FlowTrimGainPercentPerKilogramPerMinute, FlowTrimIntegralSeconds,
                steam.ValveMinimumPercent, steam.ValveMaximumPercent, initialOutput: state.SteamValvePercent > 0 ? state.SteamValvePercent : steam.ValvePercent);
            var recent = state.DistillateFlowTrendKilogramsPerMinute ?? massFlow;
            state.DistillateFlowTrendKilogramsPerMinute = recent + (massFlow - recent) * Math.Min(1, dt / FlowTrendSeconds);
            if (massFlow < target * FlowTrimMinimumShareOfTarget || massFlow < recent * FallingFlowShare)
            {
                // Condensate is not arriving: never open steam because of that. The trim may close, never open, and its memory
                // follows so it does not jump open when flow returns.
                var ceiling = massFlow < target * FlowTrimMinimumShareOfTarget
                    ? Math.Min(steam.ValvePercent, Math.Max(state.SteamValvePercent, steam.ValveMinimumPercent))
                    : Math.Max(state.SteamValvePercent, steam.ValveMinimumPercent);
                trimmed = Math.Min(trimmed, ceiling);
                state.FlowTrim.Integral = Math.Min(state.FlowTrim.Integral, trimmed);
            }
            wanted = trimmed;
        }

        var pressure = state.Signal(Channel.SteamPressure);
        if (pressure.IsGood && pressure.Value > steam.PressureMaximumKilopascals)
        {
            state.PressureTrimPercent = Math.Max(-100, state.PressureTrimPercent - PressureTrimPercentPerKilopascalSecond * (pressure.Value - steam.PressureMaximumKilopascals) * dt);
        }
        else
        {
            state.PressureTrimPercent = Math.Min(0, state.PressureTrimPercent + PressureTrimRecoveryPercentPerSecond * dt);
        }

        wanted = Math.Clamp(wanted + state.PressureTrimPercent - state.SteamCutbackPercent, 0, steam.ValveMaximumPercent);
        d.SteamValvePercent = Control.RateLimit.OpeningLimited(state.SteamValvePercent, wanted, steam.RampPercentPerSecond, dt);
        d.CoolingValvePercent = coolingValve;
        UpdateBelowEnd(state, recipe, dt);
    }

    private static void UpdateBelowEnd(BatchState state, Recipe recipe, double dt)
    {
        double? threshold = state.Phase switch
        {
            Phase.Hearts => recipe.Hearts.Grades[Math.Min(state.HeartsGrade, recipe.Hearts.Grades.Count - 1)].EndBelowStrengthPercentVolume,
            Phase.Tails => recipe.Tails.EndBelowStrengthPercentVolume,
            _ => null,
        };
        if (threshold is { } t && !state.Held && state.FilteredStrengthPercentVolume is { } s && s < t)
        {
            state.BelowEndSeconds += dt;
        }
        else
        {
            state.BelowEndSeconds = 0;
        }
    }

    private static void RecordPhaseFigures(BatchState state, Recipe recipe, double dt)
    {
        if (!state.Phase.IsActive() || state.CurrentPhaseRecord is not { } record)
        {
            return;
        }
        var measured = state.Signal(recipe.CoolingFor(state.Phase).MeasuredChannel);
        if (measured.IsGood && (record.CoolingMaxCelsius is null || measured.Value > record.CoolingMaxCelsius))
        {
            record.CoolingMaxCelsius = measured.Value;
        }
        if (!state.Held)
        {
            record.SteamPercentSeconds += state.SteamValvePercent * dt;
            record.RunningSeconds += dt;
        }
    }
}
