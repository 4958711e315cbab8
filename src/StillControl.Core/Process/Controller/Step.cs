using System.Globalization;
using StillControl.Physics;
using StillControl.Recipes;

namespace StillControl.Process;

/// <summary>
/// The pure controller: from readings, the batch state, the recipe and the time it decides valve positions, the receiver, alarms
/// and phase transitions. No I/O, no clock of its own, no logging. Interlocks are evaluated every step in every phase and are
/// applied last, so nothing earlier in the step can open steam while one holds.
/// </summary>
/// <remarks>
/// One class over one file per concern: this step, <c>Commands.cs</c> (operator commands), <c>Interlocks.cs</c> (the one table
/// of interlock rules and the cross-checks between channels), <c>Alarming.cs</c> (raising, clearing, counting alarms),
/// <c>Holding.cs</c> (the only writers of the hold state), <c>Phases.cs</c> (the phase machine and its watchdogs) and
/// <c>Outputs.cs</c> (the steam and cooling loops, the strength estimate).
/// </remarks>
public static partial class StillController
{
    /// <summary>Longest gap between steps integrated as elapsed time; a longer one (a stall) is not treated as running time.</summary>
    private const double MaximumStepSeconds = 5;

    /// <summary>
    /// One control step. Events are appended to <see cref="Decisions.Events"/>, after any the step's commands added; the caller
    /// clears them (<see cref="Decisions.Clear"/>) at the start of each cycle.
    /// </summary>
    public static void Step(ReadingSnapshot readings, BatchState state, Recipe recipe, DateTimeOffset now, Decisions decisions)
    {
        decisions.ResetOutputs(now);
        var dt = state.LastStepAt is { } last ? Math.Clamp((now - last).TotalSeconds, 0, MaximumStepSeconds) : 0;
        state.LastStepAt = now;

        SignalCheck.Update(readings, state.Signals, recipe, now);
        state.OutputFault = readings.OutputFault;
        EstimateStrength(state, recipe, dt);

        if (Settling(state, recipe, now))
        {
            // The sensors' first samples have not all arrived since the service started: judging them now would write false
            // trips ("no source configured"). Outputs stay safe and nothing is judged until they arrive or their stale limit passes.
            decisions.SetSafe();
            decisions.Horn = state.AnyUnacknowledged();
            decisions.Beacon = true;
            decisions.SteamInhibited = true;
            decisions.Settling = true;
            state.SteamValvePercent = 0;
            state.CoolingValvePercent = 100;
            return;
        }

        UpdateCrossChecks(state, recipe, dt);
        var inhibit = Interlocks(state, recipe, now, decisions);

        var phase = state.Phase;
        if (phase.IsActive())
        {
            Accumulate(state, recipe, dt);
            if (!state.Held)
            {
                state.PhaseRunningSeconds += dt;
                Advance(state, recipe, now, decisions);
                Watchdogs(state, recipe, dt, now, decisions);
            }
        }
        if (state.Phase != phase && state.Phase.IsActive())
        {
            // The new phase may need a reading the old one did not: judge the interlocks again before any steam is decided.
            inhibit = Interlocks(state, recipe, now, decisions);
        }

        ComputeOutputs(state, recipe, dt, now, decisions);

        // The interlocks have the last word, whatever the phase logic wanted.
        if (inhibit)
        {
            decisions.SteamValvePercent = 0;
            decisions.CoolingValvePercent = 100;
        }
        state.SteamValvePercent = decisions.SteamValvePercent;
        state.CoolingValvePercent = decisions.CoolingValvePercent;
        decisions.SteamInhibited = state.SteamInhibited;
        // The isolation valve (a second, independent shut-off) is open only while steam is wanted and nothing doubts the still.
        decisions.SteamIsolationOpen = decisions.SteamValvePercent > 0 && !inhibit && state.Phase.IsActive() && !state.Held;

        RecordPhaseFigures(state, recipe, dt);

        decisions.Receiver = state.Phase.IsActive() || state.Held ? state.Current?.Receiver : null;
        decisions.StrengthPercentVolume = state.StrengthPercentVolume;
        if (state.Signal(Channel.DistillateFlow).IsGood)
        {
            decisions.DistillateKilogramsPerMinute = state.Signal(Channel.DistillateFlow).Value * EthanolWater.DensityKilogramsPerLitreAt(state.StrengthPercentVolume ?? 0);
        }
        decisions.CoverLayerAdvised = state.Phase == Phase.Loading && state.CoverAdvised;
        decisions.Horn = state.AnyUnacknowledged();
        decisions.Beacon = state.AnyActive() || state.Held;
    }

    /// <summary>
    /// True while the service has just started and a reading the still needs has not yet arrived (its stale limit not yet passed).
    /// Ends for good at the first step that judges the readings.
    /// </summary>
    private static bool Settling(BatchState state, Recipe recipe, DateTimeOffset now)
    {
        if (state.SettledAt is not null)
        {
            return false;
        }
        state.FirstStepAt ??= now;
        var waited = (now - state.FirstStepAt.Value).TotalSeconds;
        var phase = state.Phase.IsActive() ? state.Phase : Phase.Loading;
        var longestStale = 0.0;
        var missing = false;
        foreach (var channel in Channels.All)
        {
            var limits = recipe.LimitsFor(channel);
            longestStale = Math.Max(longestStale, limits.StaleSeconds);
            if (Requires(phase, channel, state, recipe) && state.Signal(channel).Status == ReadingQuality.NotConfigured)
            {
                missing = true;
            }
        }
        if (missing && waited < Math.Min(longestStale, SafetyEnvelope.StaleSecondsMaximum.Value))
        {
            return true;
        }
        state.SettledAt = now;
        return false;
    }

    public static string Describe(BatchState state)
    {
        var text = state.Phase.Name();
        return state.Held ? $"{text}, held ({state.HoldCause})" : text;
    }

    private static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
}
