using System.Globalization;
using StillControl.Physics;
using StillControl.Recipes;

namespace StillControl.Process;

/// <summary>
/// The pure controller: from readings, the batch state, the recipe and the time it decides valve positions, the receiver, alarms
/// and phase transitions. No I/O, no clock of its own, no logging. Interlocks are evaluated every step in every phase and are
/// applied last, so nothing earlier in the step can open steam while one holds.
/// </summary>
public static class StillController
{
    /// <summary>Longest gap between steps integrated as elapsed time; a longer one (a stall) is not treated as running time.</summary>
    private const double MaximumStepSeconds = 5;
    private const double FlowTrimGainPercentPerKilogramPerMinute = 6;
    private const double FlowTrimIntegralSeconds = 60;
    private const double PressureTrimPercentPerKilopascalSecond = 1.5;
    private const double PressureTrimRecoveryPercentPerSecond = 0.5;
    private const double CoverAdvisoryHysteresisCelsius = 10;

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

        var inhibit = Interlocks(state, recipe, now, decisions);

        var phase = state.Phase;
        if (phase.IsActive())
        {
            Accumulate(state, recipe, dt);
            if (!state.Held)
            {
                state.PhaseRunningSeconds += dt;
                Advance(state, recipe, now, decisions);
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

    /// <summary>Applies an operator command. A command not valid now is refused with a reason and changes nothing.</summary>
    public static CommandResult Apply(OperatorCommand command, BatchState state, Recipe recipe, DateTimeOffset now, Decisions decisions)
    {
        var wasRunning = state.Phase.IsActive();
        var result = Decide(command, state, recipe, now, decisions);
        if (state.BatchId is not null && (wasRunning || state.Phase.IsActive()))
        {
            state.Actions.Add(new OperatorAction
            {
                At = now, Command = command.Kind.Name(), Operator = command.Operator, Source = command.Source, Argument = command.Argument,
                Accepted = result.Accepted, Reason = result.Reason,
            });
        }
        var kind = result.Accepted ? EventKind.CommandAccepted : EventKind.CommandRefused;
        var id = command.Id is null ? "" : $", id {command.Id}";
        decisions.Events.Add(new ControllerEvent(kind, now, state.Phase, command.Kind.Name(), $"{command.Kind.Name()} by {command.Operator} ({command.Source}{id}): {result.Reason}"));
        return result;
    }

    /// <summary>
    /// A journal held an unfinished batch when the service started: the still lost power or the service died. The batch comes back
    /// held with a power-loss alarm; its phase, volumes and record are kept. A distiller must acknowledge and resume.
    /// </summary>
    public static void RestoreAfterPowerLoss(BatchState state, DateTimeOffset now, Decisions decisions)
    {
        if (!state.Phase.IsActive())
        {
            return;
        }
        foreach (var record in state.AlarmLog)
        {
            record.ClearedAt ??= now;
        }
        state.LastStepAt = null;
        state.SteamValvePercent = 0;
        state.CoolingValvePercent = 100;
        state.CoolingLoop.Reset();
        state.FlowTrim.Reset();
        state.PressureTrimPercent = 0;
        if (!state.Held)
        {
            Hold(state, now, Alarms.Code(Alarms.Slot(AlarmCode.PowerLoss)), decisions);
        }
        var lastSeen = state.Phases.Count > 0 ? state.Phases[^1].StartedAt : now;
        Raise(state, Alarms.Slot(AlarmCode.PowerLoss), trip: false, $"service restarted with batch {state.BatchId} unfinished in {state.Phase.Name()} (phase began {lastSeen:O})", now, decisions);
        // Power is back: the condition itself has passed, the alarm waits for acknowledgement.
        Clear(state, Alarms.Slot(AlarmCode.PowerLoss), now, decisions);
        decisions.SetSafe();
    }

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
            Channel.BedSurface => phase == Phase.Loading,
            Channel.Distillate or Channel.CoolingOut => phase >= Phase.Sealed || channel == cooling,
            Channel.DistillateFlow => phase >= Phase.Sealed,
            Channel.CoolingIn => phase == Phase.Sealed && recipe.Sealed.FirstDistillate.RiseAboveCoolingInCelsius is not null,
            Channel.Vapour => phase.IsCollecting() && !strengthMeter,
            Channel.Strength => phase.IsCollecting() && strengthMeter,
            _ => false,
        };
    }

    private static CommandResult Decide(OperatorCommand command, BatchState state, Recipe recipe, DateTimeOffset now, Decisions decisions)
    {
        var phase = state.Phase;
        switch (command.Kind)
        {
            case CommandKind.Start:
                if (phase.IsActive())
                {
                    return CommandResult.Refuse($"batch {state.BatchId} is already running ({Describe(state)}); abort it first");
                }
                if (string.IsNullOrWhiteSpace(command.Argument))
                {
                    return CommandResult.Refuse("start needs a batch id");
                }
                if (state.LastStepAt is null)
                {
                    return CommandResult.Refuse("no readings yet: wait for the first control step");
                }
                var blocking = Blocking(state, recipe, Phase.Loading);
                if (blocking.Length > 0)
                {
                    return CommandResult.Refuse($"steam may not open: {blocking}");
                }
                state.BeginBatch(command.Argument, now);
                state.Phases.Add(new PhaseRecord { Phase = Phase.Loading.Name(), StartedAt = now, Reason = "start", CoolingChannel = recipe.Loading.Cooling.Channel });
                decisions.Events.Add(new ControllerEvent(EventKind.BatchStarted, now, Phase.Loading, command.Argument, $"batch {command.Argument} started on recipe {recipe.Name}"));
                decisions.Events.Add(new ControllerEvent(EventKind.PhaseChanged, now, Phase.Loading, Phase.Loading.Name(), "idle → loading: start"));
                return CommandResult.Accept($"batch {command.Argument} started: loading");

            case CommandKind.Seal:
                if (phase != Phase.Loading || state.Held)
                {
                    return CommandResult.Refuse($"seal is for a loading batch that is not held; now {Describe(state)}");
                }
                var lidSwitch = state.Signal(Channel.LidClosed);
                if (lidSwitch.IsConfigured && (!lidSwitch.IsGood || lidSwitch.Value < 0.5))
                {
                    return CommandResult.Refuse(lidSwitch.IsGood ? "the lid switch reads open: put the lid on before sealing" : $"the lid switch is unreadable ({lidSwitch.Fault.Name()})");
                }
                EnterPhase(state, recipe, Phase.Sealed, now, "lid on (seal)", decisions);
                return CommandResult.Accept("sealed: waiting for the first distillate");

            case CommandKind.Hold:
                if (!phase.IsActive() || state.Held)
                {
                    return CommandResult.Refuse($"hold is for a running batch; now {Describe(state)}");
                }
                Hold(state, now, "operator-hold", decisions);
                return CommandResult.Accept($"held in {phase.Name()}: steam closed, cooling open");

            case CommandKind.Resume:
                if (!state.Held)
                {
                    return CommandResult.Refuse($"resume is for a held batch; now {Describe(state)}");
                }
                if (state.LastStepAt is null)
                {
                    return CommandResult.Refuse("no readings since restart yet: wait for the first control step");
                }
                var stillBlocking = Blocking(state, recipe, phase);
                if (stillBlocking.Length > 0)
                {
                    return CommandResult.Refuse($"the cause has not cleared: {stillBlocking}");
                }
                if (state.AnyUnacknowledged())
                {
                    return CommandResult.Refuse($"acknowledge the alarms first: {UnacknowledgedCodes(state)}");
                }
                var cause = state.HoldCause;
                state.Held = false;
                state.HoldCause = null;
                state.HeldSince = null;
                state.CoolingLoop.Reset();
                state.FlowTrim.Reset();
                decisions.Events.Add(new ControllerEvent(EventKind.Resumed, now, phase, phase.Name(), $"resumed {phase.Name()} after {cause}"));
                return CommandResult.Accept($"resumed {phase.Name()}");

            case CommandKind.Abort:
                if (!phase.IsActive())
                {
                    return CommandResult.Refuse($"no batch to abort; now {Describe(state)}");
                }
                state.Held = false;
                EnterPhase(state, recipe, Phase.Aborted, now, $"aborted by {command.Operator}", decisions);
                return CommandResult.Accept($"batch {state.BatchId} aborted: steam closed, cooling open");

            case CommandKind.Cut:
                if (!phase.IsCollecting() || state.Held)
                {
                    return CommandResult.Refuse($"cut ends heads, a hearts grade or tails of a running batch; now {Describe(state)}");
                }
                var before = Describe(state);
                CutCurrent(state, recipe, now, $"cut by {command.Operator}", decisions);
                return CommandResult.Accept($"cut: {before} → {Describe(state)}");

            case CommandKind.Ack:
                var wanted = command.Argument;
                if (wanted is not null && Alarms.SlotOf(wanted) < 0)
                {
                    return CommandResult.Refuse($"no alarm code '{wanted}'; acknowledge all by sending ack without an argument");
                }
                var count = 0;
                for (var i = 0; i < state.AlarmSlots.Length; i++)
                {
                    ref var slot = ref state.AlarmSlots[i];
                    if (!slot.Unacknowledged || (wanted is not null && Alarms.Code(i) != wanted)) continue;
                    slot.Unacknowledged = false;
                    if (slot.LogIndex >= 0 && slot.LogIndex < state.AlarmLog.Count) state.AlarmLog[slot.LogIndex].AcknowledgedAt = now;
                    if (!slot.Active) slot.LogIndex = -1;
                    decisions.Events.Add(new ControllerEvent(EventKind.AlarmAcknowledged, now, phase, Alarms.Code(i), $"{Alarms.Code(i)} acknowledged by {command.Operator}", Alarms.ChannelOf(i)));
                    count++;
                }
                return count == 0
                    ? CommandResult.Refuse(wanted is null ? "no alarm waits for acknowledgement" : $"alarm {wanted} is not waiting for acknowledgement")
                    : CommandResult.Accept($"{count} alarm(s) acknowledged");
        }
        return CommandResult.Refuse($"unknown command {command.Kind}");
    }

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

    /// <summary>Raises and clears every alarm condition; returns whether an interlock condition holds and which trip, if any, should hold the batch.</summary>
    private static bool EvaluateInterlocks(BatchState state, Recipe recipe, DateTimeOffset now, Decisions d, out int tripSlot)
    {
        tripSlot = -1;
        var limits = recipe.Interlocks;
        var phase = state.Phase;
        var running = phase.IsActive();
        var inhibit = false;

        var estop = state.Signal(Channel.EmergencyStop);
        var estopPressed = estop.IsConfigured && (!estop.IsGood || estop.Value >= 0.5);
        if (Condition(state, AlarmCode.EmergencyStop, estopPressed, now, d))
        {
            Raise(state, Alarms.Slot(AlarmCode.EmergencyStop), true, estop.IsGood ? "emergency stop pressed" : $"emergency stop input unreadable ({estop.Fault.Name()})", now, d);
        }
        inhibit |= Note(estopPressed, AlarmCode.EmergencyStop, running, ref tripSlot);

        // Once sealed, steam must not reach a still whose lid is off: vapour and spirit would pour out at the top.
        var lid = state.Signal(Channel.LidClosed);
        var lidOpen = running && phase >= Phase.Sealed && lid.IsConfigured && (!lid.IsGood || lid.Value < 0.5);
        if (Condition(state, AlarmCode.LidOpen, lidOpen, now, d))
        {
            Raise(state, Alarms.Slot(AlarmCode.LidOpen), true, lid.IsGood ? $"still lid open in {phase.Name()}" : $"lid switch unreadable ({lid.Fault.Name()}) in {phase.Name()}", now, d);
        }
        inhibit |= Note(lidOpen, AlarmCode.LidOpen, running, ref tripSlot);

        // An output that does not take its value leaves steam or cooling where nobody decided: stop the batch, close what can be
        // closed, and tell the distiller which output.
        var outputFault = state.OutputFault is not null;
        if (Condition(state, AlarmCode.OutputFault, outputFault, now, d))
        {
            Raise(state, Alarms.Slot(AlarmCode.OutputFault), true, $"output not driven: {state.OutputFault}", now, d);
        }
        inhibit |= Note(outputFault, AlarmCode.OutputFault, running, ref tripSlot);

        var flow = state.Signal(Channel.CoolingFlow);
        var flowLost = !flow.IsGood || flow.Value < limits.CoolingFlowMinimumLitresPerMinute;
        if (Condition(state, AlarmCode.CoolingWaterLoss, flowLost && running, now, d))
        {
            Raise(state, Alarms.Slot(AlarmCode.CoolingWaterLoss), true, flow.IsGood
                ? $"cooling-water flow {F(flow.Value)} L/min below {F(limits.CoolingFlowMinimumLitresPerMinute)} L/min"
                : $"cooling-water flow not proven: reading {(flow.IsConfigured ? flow.Fault.Name() : "not configured")}", now, d);
        }
        inhibit |= Note(flowLost, AlarmCode.CoolingWaterLoss, running, ref tripSlot);

        var pressure = state.Signal(Channel.SteamPressure);
        var over = pressure.IsGood && pressure.Value > limits.SteamPressureTripKilopascals;
        if (Condition(state, AlarmCode.SteamOverpressure, over, now, d))
        {
            Raise(state, Alarms.Slot(AlarmCode.SteamOverpressure), true, $"steam pressure {F(pressure.Value)} kPa above {F(limits.SteamPressureTripKilopascals)} kPa", now, d);
        }
        inhibit |= Note(over, AlarmCode.SteamOverpressure, running, ref tripSlot);

        var coolingOut = state.Signal(Channel.CoolingOut);
        var outTrip = coolingOut.IsGood && coolingOut.Value > limits.CoolingOutTripCelsius;
        if (Condition(state, AlarmCode.CoolingOutTrip, outTrip, now, d))
        {
            Raise(state, Alarms.Slot(AlarmCode.CoolingOutTrip), true, $"cooling-water outlet {F(coolingOut.Value)} °C above {F(limits.CoolingOutTripCelsius)} °C", now, d);
        }
        inhibit |= Note(outTrip, AlarmCode.CoolingOutTrip, running, ref tripSlot);

        var outWarn = coolingOut.IsGood && coolingOut.Value > limits.CoolingOutWarnCelsius && !outTrip;
        if (Condition(state, AlarmCode.CoolingOutHigh, outWarn, now, d))
        {
            Raise(state, Alarms.Slot(AlarmCode.CoolingOutHigh), false, $"cooling-water outlet {F(coolingOut.Value)} °C above {F(limits.CoolingOutWarnCelsius)} °C", now, d);
        }

        var distillate = state.Signal(Channel.Distillate);
        var hot = distillate.IsGood && distillate.Value > limits.DistillateTripCelsius;
        if (Condition(state, AlarmCode.DistillateOvertemperature, hot, now, d))
        {
            Raise(state, Alarms.Slot(AlarmCode.DistillateOvertemperature), true, $"distillate {F(distillate.Value)} °C above {F(limits.DistillateTripCelsius)} °C: vapour is leaving the condenser", now, d);
        }
        inhibit |= Note(hot, AlarmCode.DistillateOvertemperature, running, ref tripSlot);

        for (var i = 0; i < Channels.Count; i++)
        {
            var channel = (Channel)i;
            var signal = state.Signals[i];
            var required = Requires(phase, channel, state, recipe);
            var faulted = required ? !signal.IsGood : signal.Status == ReadingQuality.Faulted;
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
                var reason = signal.IsConfigured ? signal.Fault.Name() : "no source configured";
                Raise(state, slot, required, $"{channel.Name()} reading rejected: {reason}" + (required ? $" ({phase.Name()} needs it)" : ""), now, d);
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

    private static bool Note(bool condition, AlarmCode code, bool running, ref int tripSlot)
    {
        if (condition && running && tripSlot < 0)
        {
            tripSlot = Alarms.Slot(code);
        }
        return condition;
    }

    private static bool Condition(BatchState state, AlarmCode code, bool condition, DateTimeOffset now, Decisions d) =>
        Condition(state, Alarms.Slot(code), condition, now, d);

    /// <summary>Clears the alarm if its condition has gone; returns true when it must be raised.</summary>
    private static bool Condition(BatchState state, int slot, bool condition, DateTimeOffset now, Decisions d)
    {
        var active = state.AlarmSlots[slot].Active;
        if (!condition && active)
        {
            Clear(state, slot, now, d);
        }
        return condition && !active;
    }

    private static void Raise(BatchState state, int slot, bool trip, string detail, DateTimeOffset now, Decisions d)
    {
        ref var alarm = ref state.AlarmSlots[slot];
        alarm.Active = true;
        alarm.Unacknowledged = true;
        alarm.Trip = trip;
        alarm.Detail = detail;
        alarm.LogIndex = -1;
        if (state.BatchId is not null && !state.Phase.IsFinished() && state.Phase != Phase.Idle)
        {
            state.AlarmLog.Add(new AlarmRecord { Code = Alarms.Code(slot), Severity = trip ? "trip" : "warning", Phase = state.Phase.Name(), RaisedAt = now, Detail = detail });
            alarm.LogIndex = state.AlarmLog.Count - 1;
        }
        d.Events.Add(new ControllerEvent(EventKind.AlarmRaised, now, state.Phase, Alarms.Code(slot), detail, Alarms.ChannelOf(slot)));
    }

    private static void Clear(BatchState state, int slot, DateTimeOffset now, Decisions d)
    {
        ref var alarm = ref state.AlarmSlots[slot];
        alarm.Active = false;
        if (alarm.LogIndex >= 0 && alarm.LogIndex < state.AlarmLog.Count)
        {
            state.AlarmLog[alarm.LogIndex].ClearedAt = now;
        }
        if (!alarm.Unacknowledged)
        {
            alarm.LogIndex = -1;
        }
        d.Events.Add(new ControllerEvent(EventKind.AlarmCleared, now, state.Phase, Alarms.Code(slot), $"{Alarms.Code(slot)} cleared", Alarms.ChannelOf(slot)));
    }

    private static Channel? TripChannel(int slot) => Alarms.ChannelOf(slot) ?? (AlarmCode)slot switch
    {
        AlarmCode.EmergencyStop => Channel.EmergencyStop,
        AlarmCode.LidOpen => Channel.LidClosed,
        AlarmCode.CoolingWaterLoss => Channel.CoolingFlow,
        AlarmCode.SteamOverpressure => Channel.SteamPressure,
        AlarmCode.CoolingOutTrip => Channel.CoolingOut,
        AlarmCode.DistillateOvertemperature => Channel.Distillate,
        _ => null,
    };

    private static void Hold(BatchState state, DateTimeOffset now, string cause, Decisions d)
    {
        state.Held = true;
        state.HoldCause = cause;
        state.HeldSince = now;
        state.CoolingLoop.Reset();
        state.FlowTrim.Reset();
        d.Events.Add(new ControllerEvent(EventKind.Held, now, state.Phase, cause, $"batch held in {state.Phase.Name()}: {cause}; steam closed, cooling open"));
    }

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
                state.Held = false;
                break;
        }
        if (next.IsActive())
        {
            state.Phases.Add(new PhaseRecord { Phase = next.Name(), StartedAt = now, Reason = reason, CoolingChannel = recipe.CoolingFor(next).Channel });
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
        var measured = state.Signal(cooling.MeasuredChannel);
        double coolingValve;
        var overMaximum = false;
        if (measured.IsGood)
        {
            coolingValve = state.CoolingLoop.Update(measured.Value - cooling.TargetCelsius, dt, control.ProportionalPercentPerKelvin, control.IntegralSeconds,
                control.ValveMinimumPercent, 100, initialOutput: 30);
            if (measured.Value > cooling.MaximumCelsius && coolingValve >= 99.5)
            {
                state.OverMaximumSeconds += dt;
                if (state.OverMaximumSeconds >= control.OverMaximumConfirmSeconds)
                {
                    overMaximum = true;
                    state.SteamCutbackPercent = Math.Min(100, state.SteamCutbackPercent + control.SteamCutbackPercentPerSecond * dt);
                }
            }
            else if (measured.Value <= cooling.MaximumCelsius)
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
                $"{cooling.Channel} {F(measured.Value)} °C above the {phase.Name()} maximum {F(cooling.MaximumCelsius)} °C with the cooling valve fully open: steam cut back", now, d);
        }

        var steam = recipe.SteamFor(phase);
        var wanted = steam.ValvePercent;
        var flow = state.Signal(Channel.DistillateFlow);
        if (steam.DistillateFlowTargetKilogramsPerMinute is { } target && phase is Phase.Heads or Phase.Hearts && flow.IsGood)
        {
            var massFlow = flow.Value * EthanolWater.DensityKilogramsPerLitreAt(state.StrengthPercentVolume ?? 60);
            wanted = state.FlowTrim.Update(target - massFlow, dt, FlowTrimGainPercentPerKilogramPerMinute, FlowTrimIntegralSeconds,
                steam.ValveMinimumPercent, steam.ValveMaximumPercent, initialOutput: state.SteamValvePercent > 0 ? state.SteamValvePercent : steam.ValvePercent);
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

    public static string Describe(BatchState state)
    {
        var text = state.Phase.Name();
        return state.Held ? $"{text}, held ({state.HoldCause})" : text;
    }

    /// <summary>Every interlock condition that would keep steam closed in <paramref name="phase"/>, as text; empty when none holds.</summary>
    public static string Blocking(BatchState state, Recipe recipe, Phase phase)
    {
        var parts = new List<string>();
        var limits = recipe.Interlocks;
        var estop = state.Signal(Channel.EmergencyStop);
        if (estop.IsConfigured && (!estop.IsGood || estop.Value >= 0.5)) parts.Add("emergency stop pressed or unreadable");
        if (state.OutputFault is { } output) parts.Add($"output not driven: {output}");
        var lid = state.Signal(Channel.LidClosed);
        if (phase >= Phase.Sealed && phase.IsActive() && lid.IsConfigured && (!lid.IsGood || lid.Value < 0.5)) parts.Add("still lid open or its switch unreadable");
        var flow = state.Signal(Channel.CoolingFlow);
        if (!flow.IsGood) parts.Add($"cooling-water flow not proven (reading {(flow.IsConfigured ? flow.Fault.Name() : "not configured")})");
        else if (flow.Value < limits.CoolingFlowMinimumLitresPerMinute) parts.Add($"cooling-water flow {F(flow.Value)} L/min below {F(limits.CoolingFlowMinimumLitresPerMinute)} L/min");
        var pressure = state.Signal(Channel.SteamPressure);
        if (pressure.IsGood && pressure.Value > limits.SteamPressureTripKilopascals) parts.Add($"steam pressure {F(pressure.Value)} kPa above {F(limits.SteamPressureTripKilopascals)} kPa");
        var coolingOut = state.Signal(Channel.CoolingOut);
        if (coolingOut.IsGood && coolingOut.Value > limits.CoolingOutTripCelsius) parts.Add($"cooling-water outlet {F(coolingOut.Value)} °C above {F(limits.CoolingOutTripCelsius)} °C");
        var distillate = state.Signal(Channel.Distillate);
        if (distillate.IsGood && distillate.Value > limits.DistillateTripCelsius) parts.Add($"distillate {F(distillate.Value)} °C above {F(limits.DistillateTripCelsius)} °C");
        foreach (var channel in Channels.All)
        {
            var signal = state.Signal(channel);
            if (channel is not (Channel.EmergencyStop or Channel.CoolingFlow or Channel.LidClosed) && Requires(phase, channel, state, recipe) && !signal.IsGood)
            {
                parts.Add($"{channel.Name()} reading {(signal.IsConfigured ? signal.Fault.Name() : "not configured")} ({phase.Name()} needs it)");
            }
        }
        return string.Join("; ", parts);
    }

    private static string UnacknowledgedCodes(BatchState state)
    {
        var parts = new List<string>();
        for (var i = 0; i < state.AlarmSlots.Length; i++)
        {
            if (state.AlarmSlots[i].Unacknowledged) parts.Add(Alarms.Code(i));
        }
        return string.Join(", ", parts);
    }

    private static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
}
