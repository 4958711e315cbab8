using StillControl.Physics;
using StillControl.Recipes;

namespace StillControl.Process;

public static partial class StillController
{
    /// <summary>Distillate flow below this is no flow at all (a pulse meter's noise floor).</summary>
    private const double NoDistillateFlowLitresPerMinute = 0.05;

    /// <summary>
    /// Vapour at the still head condenses into distillate within a minute or so; this long at the head with no flow at all means
    /// the flow meter is dead, or the vapour is going somewhere other than the condenser.
    /// </summary>
    public const double VapourWithoutDistillateSeconds = 90;

    /// <summary>Distillate leaves a condenser no colder than the water cooling it: this much colder (two probes' tolerance) is a bad probe.</summary>
    public const double DistillateBelowCoolingInToleranceCelsius = 2;

    /// <summary>How long the distillate must read colder than its cooling water, with distillate running, before it is judged.</summary>
    public const double DistillateBelowCoolingInSeconds = 10;

    /// <summary>Two distillate probes side by side agree within this (two DS18B20s' ±0.5 °C, and the flow between them).</summary>
    public const double DistillateProbesToleranceCelsius = 2;

    /// <summary>How long the two distillate probes must disagree before it is judged (a transient passes one first).</summary>
    public const double DistillateProbesDisagreeSeconds = 10;

    /// <summary>
    /// The cooling water's heat and the condensing distillate's heat may differ by this factor either way (heat lost to the air,
    /// the condenser's and the meters' lags, the strength estimate) before the balance is judged wrong.
    /// </summary>
    public const double CondenserBalanceFactor = 2;

    /// <summary>How long the heat balance must stay out before it is judged (the condenser and the flow meters lag by tens of seconds).</summary>
    public const double CondenserUnbalancedSeconds = 60;

    /// <summary>Below this much heat from the condensate (a trickle), the balance says nothing.</summary>
    private const double CondenserBalanceMinimumKilowatts = 5;

    /// <summary>The steam valve's position may lag or differ from its command by this much (a positioner's dead band, its travel).</summary>
    public const double ValvePositionTolerancePercent = 10;

    /// <summary>How long the position may disagree before it is judged: a full stroke of an actuated valve takes seconds.</summary>
    public const double ValveNotFollowingSeconds = 5;

    private const double WaterHeatCapacityKilojoulesPerKilogramKelvin = 4.186;
    private const double DistillateHeatCapacityKilojoulesPerKilogramKelvin = 3.6;

    /// <summary>
    /// One interlock: the condition that keeps steam closed, the alarm it raises and the words that both the alarm and "what
    /// blocks this command" use. <see cref="Holds"/> and <see cref="Describe"/> take the phase to judge, which for a command is the
    /// phase it would lead to. Every rule is live in every phase it names; a rule that holds in a running batch trips it.
    /// </summary>
    private sealed class InterlockRule(AlarmCode code, Channel? channel, bool raisedOutsideBatch,
        Func<BatchState, Recipe, Phase, bool> holds, Func<BatchState, Recipe, Phase, string> describe)
    {
        public AlarmCode Code { get; } = code;
        /// <summary>The reading behind it, if one.</summary>
        public Channel? Channel { get; } = channel;
        /// <summary>False: the alarm is raised only in a running batch (steam stays closed outside one in any case).</summary>
        public bool RaisedOutsideBatch { get; } = raisedOutsideBatch;
        public Func<BatchState, Recipe, Phase, bool> Holds { get; } = holds;
        public Func<BatchState, Recipe, Phase, string> Describe { get; } = describe;
    }

    /// <summary>A lid switch is fitted and does not read closed (open, or unreadable). No switch fitted: nothing to judge.</summary>
    public static bool LidNotProvenClosed(BatchState state) =>
        state.Signal(Channel.LidClosed) is { IsConfigured: true } lid && (!lid.IsGood || lid.Value < 0.5);

    /// <summary>Every interlock but the per-channel reading faults (<see cref="ReadingFaulted"/>), in the order they are judged.</summary>
    private static readonly InterlockRule[] Rules =
    [
        new(AlarmCode.EmergencyStop, Channel.EmergencyStop, true,
            static (s, _, _) => s.Signal(Channel.EmergencyStop) is { IsConfigured: true } e && (!e.IsGood || e.Value >= 0.5),
            static (s, _, _) => s.Signal(Channel.EmergencyStop) is { IsGood: true }
                ? "emergency stop pressed"
                : $"emergency stop input unreadable ({s.Signal(Channel.EmergencyStop).Fault.Name()})"),

        // Once sealed, steam must not reach a still whose lid is off: vapour and spirit would pour out at the top.
        new(AlarmCode.LidOpen, Channel.LidClosed, true,
            static (s, _, p) => p >= Phase.Sealed && p.IsActive() && LidNotProvenClosed(s),
            static (s, _, p) => s.Signal(Channel.LidClosed) is { IsGood: true }
                ? $"still lid open in {p.Name()}"
                : $"lid switch unreadable ({s.Signal(Channel.LidClosed).Fault.Name()}) in {p.Name()}"),

        // An output that does not take its value leaves steam or cooling where nobody decided: stop the batch, close what can be
        // closed, and tell the distiller which output.
        new(AlarmCode.OutputFault, null, true,
            static (s, _, _) => s.OutputFault is not null,
            static (s, _, _) => $"output not driven: {s.OutputFault}"),

        new(AlarmCode.CoolingWaterLoss, Channel.CoolingFlow, false,
            static (s, r, _) => s.Signal(Channel.CoolingFlow) is var f && (!f.IsGood || f.Value < r.Interlocks.CoolingFlowMinimumLitresPerMinute),
            static (s, r, _) => s.Signal(Channel.CoolingFlow) is { IsGood: true } f
                ? $"cooling-water flow {F(f.Value)} L/min below {F(r.Interlocks.CoolingFlowMinimumLitresPerMinute)} L/min"
                : $"cooling-water flow not proven: reading {FaultOf(s.Signal(Channel.CoolingFlow))}"),

        new(AlarmCode.SteamOverpressure, Channel.SteamPressure, true,
            static (s, r, _) => s.Signal(Channel.SteamPressure) is { IsGood: true } p && p.Value > r.Interlocks.SteamPressureTripKilopascals,
            static (s, r, _) => $"steam pressure {F(s.Signal(Channel.SteamPressure).Value)} kPa above {F(r.Interlocks.SteamPressureTripKilopascals)} kPa"),

        new(AlarmCode.CoolingOutTrip, Channel.CoolingOut, true,
            static (s, r, _) => s.Signal(Channel.CoolingOut) is { IsGood: true } o && o.Value > r.Interlocks.CoolingOutTripCelsius,
            static (s, r, _) => $"cooling-water outlet {F(s.Signal(Channel.CoolingOut).Value)} °C above {F(r.Interlocks.CoolingOutTripCelsius)} °C"),

        new(AlarmCode.DistillateOvertemperature, Channel.Distillate, true,
            static (s, r, _) => s.Signal(Channel.Distillate) is { IsGood: true } d && d.Value > r.Interlocks.DistillateTripCelsius,
            static (s, r, _) => $"distillate {F(s.Signal(Channel.Distillate).Value)} °C above {F(r.Interlocks.DistillateTripCelsius)} °C: vapour is leaving the condenser"),

        // Cross-checks: channels that cannot all be telling the truth at once.
        new(AlarmCode.VapourWithoutDistillate, Channel.DistillateFlow, true,
            static (s, _, p) => p >= Phase.Sealed && p.IsActive() && s.VapourWithoutDistillateSeconds >= VapourWithoutDistillateSeconds,
            static (s, _, _) => $"still-head vapour at {F(s.Signal(Channel.Vapour).Value)} °C for {F(s.VapourWithoutDistillateSeconds)} s with no distillate flow " +
                $"({(s.Signal(Channel.DistillateFlow).IsGood ? F(s.Signal(Channel.DistillateFlow).Value) + " L/min" : FaultOf(s.Signal(Channel.DistillateFlow)))}): " +
                "the flow meter is dead or the vapour is not reaching the condenser"),

        new(AlarmCode.DistillateBelowCoolingWater, Channel.Distillate, true,
            static (s, _, p) => p >= Phase.Sealed && p.IsActive() && s.DistillateBelowCoolingInSeconds >= DistillateBelowCoolingInSeconds,
            static (s, _, _) => $"distillate reads {F(s.Signal(Channel.Distillate).Value)} °C, colder than the cooling water that cools it " +
                $"({F(s.Signal(Channel.CoolingIn).Value)} °C in): the distillate probe is off (offset, drift or misplaced)"),

        new(AlarmCode.DistillateProbesDisagree, Channel.DistillateCheck, true,
            static (s, _, p) => p >= Phase.Sealed && p.IsActive() && s.DistillateProbesDisagreeSeconds >= DistillateProbesDisagreeSeconds,
            static (s, _, _) => $"the distillate probes disagree: {F(s.Signal(Channel.Distillate).Value)} °C and {F(s.Signal(Channel.DistillateCheck).Value)} °C " +
                "(check probe): one has drifted, stepped or come out of its well"),

        new(AlarmCode.CondenserHeatUnbalanced, Channel.CoolingFlow, true,
            static (s, _, p) => p.IsCollecting() && s.CondenserUnbalancedSeconds >= CondenserUnbalancedSeconds,
            static (s, _, _) => $"the cooling water takes {F(s.CondenserWaterKilowatts)} kW while the condensing distillate gives {F(s.CondenserVapourKilowatts)} kW " +
                $"(more than {F(CondenserBalanceFactor)} times apart for {F(s.CondenserUnbalancedSeconds)} s): the cooling-flow, cooling-water or distillate-flow reading is wrong"),

        // Checked in every phase and outside a batch too: a valve commanded shut that stands open is steam nobody asked for.
        new(AlarmCode.SteamValveNotFollowing, Channel.SteamValvePosition, true,
            static (s, _, _) => s.ValveNotFollowingSeconds >= ValveNotFollowingSeconds,
            static (s, _, _) => $"the steam valve stands at {F(s.Signal(Channel.SteamValvePosition).Value)} % while commanded to {F(s.SteamValvePercent)} % " +
                $"for {F(s.ValveNotFollowingSeconds)} s: stuck or disconnected; the isolation valve shuts the steam"),

        // The cooling water is too warm for a collecting phase's limit: a person decides (abort, or resume accepting the deviation).
        new(AlarmCode.CoolingLimitUnreachable, Channel.CoolingIn, true,
            static (s, r, p) => UnreachableCoolingPhase(s, r, p) is not null,
            static (s, r, p) => UnreachableText(s, r, UnreachableCoolingPhase(s, r, p) ?? p)),
    ];

    private static readonly InterlockRule?[] RuleBySlot = BuildRuleBySlot();

    private static InterlockRule?[] BuildRuleBySlot()
    {
        var bySlot = new InterlockRule?[Alarms.SlotCount];
        foreach (var rule in Rules) bySlot[Alarms.Slot(rule.Code)] = rule;
        return bySlot;
    }

    /// <summary>A reading the phase needs is not good, or any configured reading is faulted (a warning where not needed).</summary>
    private static bool ReadingFaulted(BatchState state, Recipe recipe, Phase phase, Channel channel, out bool required)
    {
        var signal = state.Signal(channel);
        required = Requires(phase, channel, state, recipe);
        return required ? !signal.IsGood : signal.Status == ReadingQuality.Faulted;
    }

    private static string ReadingFaultText(BatchState state, Phase phase, Channel channel, bool required) =>
        $"{channel.Name()} reading rejected: {(state.Signal(channel).IsConfigured ? state.Signal(channel).Fault.Name() : "no source configured")}" +
        (required ? $" ({phase.Name()} needs it)" : "");

    private static string FaultOf(SignalMemory signal) => signal.IsConfigured ? signal.Fault.Name() : "not configured";

    /// <summary>The readings a phase cannot run without: a fault on one of these trips the batch.</summary>
    public static bool Requires(Phase phase, Channel channel, BatchState state, Recipe recipe)
    {
        if (!phase.IsActive())
        {
            return false;
        }
        var cooling = recipe.CoolingFor(phase).MeasuredChannel;
        var strengthMeter = state.Signal(Channel.Strength).IsConfigured;
        return channel switch
        {
            Channel.SteamPressure or Channel.CoolingFlow => true,
            Channel.EmergencyStop => state.Signal(Channel.EmergencyStop).IsConfigured,
            Channel.LidClosed => phase >= Phase.Sealed && state.Signal(Channel.LidClosed).IsConfigured,
            Channel.DistillateCheck => phase >= Phase.Sealed && state.Signal(Channel.DistillateCheck).IsConfigured,
            Channel.BedSurface => phase == Phase.Loading,
            Channel.Distillate or Channel.CoolingOut => phase >= Phase.Sealed || channel == cooling,
            Channel.DistillateFlow => phase >= Phase.Sealed,
            Channel.CoolingIn => phase == Phase.Sealed && recipe.Sealed.FirstDistillate.RiseAboveCoolingInCelsius is not null,
            Channel.Vapour => phase.IsCollecting() && !strengthMeter,
            Channel.Strength => phase.IsCollecting() && strengthMeter,
            _ => false,
        };
    }

    /// <summary>Counts how long each cross-check's condition has held; the rules judge the counts.</summary>
    private static void UpdateCrossChecks(BatchState state, Recipe recipe, double dt)
    {
        var vapour = state.Signal(Channel.Vapour);
        var flow = state.Signal(Channel.DistillateFlow);
        var barometer = state.Signal(Channel.Barometer);
        var air = barometer.IsGood ? barometer.Value : EthanolWater.StandardPressureHectopascals;
        var vapourAtHead = vapour.IsGood && EthanolWater.IsVapourAtStillHead(vapour.Value, air);
        var noFlow = !flow.IsGood || flow.Value < NoDistillateFlowLitresPerMinute;
        state.VapourWithoutDistillateSeconds = state.Phase >= Phase.Sealed && state.Phase.IsActive() && vapourAtHead && noFlow
            ? state.VapourWithoutDistillateSeconds + dt
            : 0;

        var distillate = state.Signal(Channel.Distillate);
        var coolingIn = state.Signal(Channel.CoolingIn);
        var colder = distillate.IsGood && coolingIn.IsGood && distillate.Value < coolingIn.Value - DistillateBelowCoolingInToleranceCelsius;
        // Judged only while distillate runs past the probe (a dry probe may sit at air temperature); once judged, it stays judged
        // until the probe reads plausibly again, flowing or not.
        var running = flow.IsGood && flow.Value >= NoDistillateFlowLitresPerMinute;
        var judged = state.AlarmSlots[Alarms.Slot(AlarmCode.DistillateBelowCoolingWater)].Active;
        state.DistillateBelowCoolingInSeconds = colder && (running || judged) ? state.DistillateBelowCoolingInSeconds + dt : 0;

        UpdateHeatBalance(state, vapour, flow, dt);

        var position = state.Signal(Channel.SteamValvePosition);
        var notFollowing = position.IsGood && Math.Abs(position.Value - state.SteamValvePercent) > ValvePositionTolerancePercent;
        state.ValveNotFollowingSeconds = notFollowing ? state.ValveNotFollowingSeconds + dt : 0;

        var check = state.Signal(Channel.DistillateCheck);
        var disagree = distillate.IsGood && check.IsGood && Math.Abs(distillate.Value - check.Value) > DistillateProbesToleranceCelsius;
        state.DistillateProbesDisagreeSeconds = disagree ? state.DistillateProbesDisagreeSeconds + dt : 0;
    }

    /// <summary>
    /// The condenser's heat balance: the cooling water's flow times its temperature rise against the distillate's mass flow times
    /// its latent heat (and its cooling from the still head to the outlet). Judged only while spirit is collected and runs.
    /// </summary>
    private static void UpdateHeatBalance(BatchState state, SignalMemory vapour, SignalMemory flow, double dt)
    {
        var water = state.Signal(Channel.CoolingFlow);
        var waterIn = state.Signal(Channel.CoolingIn);
        var waterOut = state.Signal(Channel.CoolingOut);
        var distillate = state.Signal(Channel.Distillate);
        if (!state.Phase.IsCollecting() || state.Held || !water.IsGood || !waterIn.IsGood || !waterOut.IsGood || !flow.IsGood || !vapour.IsGood
            || !distillate.IsGood || state.StrengthPercentVolume is not { } strength)
        {
            state.CondenserUnbalancedSeconds = 0;
            return;
        }
        var massFlow = flow.Value / 60 * EthanolWater.DensityKilogramsPerLitreAt(strength);
        var latent = EthanolWater.LatentHeatKilojoulesPerKilogram(EthanolWater.MassFractionFromStrength(strength));
        var vapourKilowatts = massFlow * (latent + DistillateHeatCapacityKilojoulesPerKilogramKelvin * Math.Max(0, vapour.Value - distillate.Value));
        var waterKilowatts = water.Value / 60 * WaterHeatCapacityKilojoulesPerKilogramKelvin * (waterOut.Value - waterIn.Value);
        state.CondenserWaterKilowatts = waterKilowatts;
        state.CondenserVapourKilowatts = vapourKilowatts;
        var unbalanced = vapourKilowatts >= CondenserBalanceMinimumKilowatts
            && (waterKilowatts * CondenserBalanceFactor < vapourKilowatts || waterKilowatts > vapourKilowatts * CondenserBalanceFactor);
        state.CondenserUnbalancedSeconds = unbalanced ? state.CondenserUnbalancedSeconds + dt : 0;
    }

    private static bool Interlocks(BatchState state, Recipe recipe, DateTimeOffset now, Decisions decisions)
    {
        var conditions = EvaluateInterlocks(state, recipe, now, decisions, out var tripSlot);
        if (state.Phase.IsActive() && !state.Held && tripSlot >= 0)
        {
            var slot = state.AlarmSlots[tripSlot];
            Hold(state, now, Alarms.Code(tripSlot), decisions);
            decisions.Events.Add(new ControllerEvent(EventKind.InterlockTrip, now, state.Phase, Alarms.Code(tripSlot), slot.Detail, TripChannel(tripSlot)));
        }
        // No batch, or a held one: steam stays closed whatever the readings say.
        return conditions || !state.Phase.IsActive() || state.Held;
    }

    /// <summary>Raises and clears every interlock alarm; returns whether any condition holds and which trip, if any, should hold the batch.</summary>
    private static bool EvaluateInterlocks(BatchState state, Recipe recipe, DateTimeOffset now, Decisions d, out int tripSlot)
    {
        tripSlot = -1;
        var phase = state.Phase;
        var running = phase.IsActive();
        var inhibit = false;

        foreach (var rule in Rules)
        {
            var holds = rule.Holds(state, recipe, phase);
            var slot = Alarms.Slot(rule.Code);
            if (Condition(state, slot, holds && (running || rule.RaisedOutsideBatch), now, d))
            {
                Raise(state, slot, true, rule.Describe(state, recipe, phase), now, d);
            }
            if (holds)
            {
                inhibit = true;
                if (running && tripSlot < 0) tripSlot = slot;
            }
        }

        var coolingOut = state.Signal(Channel.CoolingOut);
        var outWarn = coolingOut.IsGood && coolingOut.Value > recipe.Interlocks.CoolingOutWarnCelsius && coolingOut.Value <= recipe.Interlocks.CoolingOutTripCelsius;
        if (Condition(state, AlarmCode.CoolingOutHigh, outWarn, now, d))
        {
            Raise(state, Alarms.Slot(AlarmCode.CoolingOutHigh), false, $"cooling-water outlet {F(coolingOut.Value)} °C above {F(recipe.Interlocks.CoolingOutWarnCelsius)} °C", now, d);
        }

        for (var i = 0; i < Channels.Count; i++)
        {
            var channel = (Channel)i;
            var faulted = ReadingFaulted(state, recipe, phase, channel, out var required);
            var slot = Alarms.SensorSlot(channel);
            ref var alarm = ref state.AlarmSlots[slot];
            if (faulted && alarm.Active && required && !alarm.Trip)
            {
                // A warning becomes a trip when the phase starts to need the channel.
                alarm.Trip = true;
                if (alarm.LogIndex >= 0) state.AlarmLog[alarm.LogIndex].Severity = "trip";
            }
            if (Condition(state, slot, faulted, now, d))
            {
                Raise(state, slot, required, ReadingFaultText(state, phase, channel, required), now, d);
            }
            if (faulted && required)
            {
                inhibit = true;
                if (running && tripSlot < 0) tripSlot = slot;
            }
        }

        state.SteamInhibited = inhibit;
        return inhibit;
    }

    /// <summary>
    /// Every interlock condition that would keep steam closed in <paramref name="phase"/>, as text; empty when none holds. The same
    /// rules and words as the step's own judgement.
    /// </summary>
    public static string Blocking(BatchState state, Recipe recipe, Phase phase)
    {
        var parts = new List<string>();
        foreach (var rule in Rules)
        {
            if (rule.Holds(state, recipe, phase)) parts.Add(rule.Describe(state, recipe, phase));
        }
        foreach (var channel in Channels.All)
        {
            // Cooling flow, the e-stop and the lid speak through their own rules above.
            if (channel is Channel.EmergencyStop or Channel.CoolingFlow or Channel.LidClosed) continue;
            if (ReadingFaulted(state, recipe, phase, channel, out var required) && required) parts.Add(ReadingFaultText(state, phase, channel, required));
        }
        return string.Join("; ", parts);
    }

    private static Channel? TripChannel(int slot) => Alarms.ChannelOf(slot) ?? RuleBySlot[slot]?.Channel;

    /// <summary>
    /// The first collecting phase from <paramref name="phase"/> on (heads, then hearts) whose cooling maximum the cooling water
    /// cannot let the condenser reach (inlet plus the condenser's approach), and whose deviation nobody has accepted; null if none.
    /// Judged from sealing on, so the distiller hears it before the spirit runs.
    /// </summary>
    private static Phase? UnreachableCoolingPhase(BatchState state, Recipe recipe, Phase phase)
    {
        if (phase is not (Phase.Sealed or Phase.Heads or Phase.Hearts))
        {
            return null;
        }
        var inlet = state.Signal(Channel.CoolingIn);
        if (!inlet.IsGood)
        {
            return null;
        }
        var reachable = inlet.Value + recipe.CoolingControl.CondenserApproachCelsius;
        for (var p = phase < Phase.Heads ? Phase.Heads : phase; p <= Phase.Hearts; p++)
        {
            var cooling = recipe.CoolingFor(p);
            if (cooling.MeasuredChannel == Channel.Distillate && reachable >= cooling.MaximumCelsius && !state.DeviationAccepted(p))
            {
                return p;
            }
        }
        return null;
    }

    private static string UnreachableText(BatchState state, Recipe recipe, Phase phase) =>
        $"cooling water in at {F(state.Signal(Channel.CoolingIn).Value)} °C plus the condenser's {F(recipe.CoolingControl.CondenserApproachCelsius)} °C approach " +
        $"cannot hold the {phase.Name()} maximum of {F(recipe.CoolingFor(phase).MaximumCelsius)} °C at any steam rate: abort, or resume with argument " +
        $"'{AcceptDeviation}' to run on with the deviation recorded on the batch";
}
