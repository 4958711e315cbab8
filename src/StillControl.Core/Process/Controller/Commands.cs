using StillControl.Recipes;

namespace StillControl.Process;

public static partial class StillController
{
    /// <summary>The argument of <c>resume</c> that continues a batch whose cooling limit the cooling water cannot reach, recording the deviation.</summary>
    public const string AcceptDeviation = "accept-deviation";

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
    /// held with a power-loss alarm; its phase, volumes, record and unacknowledged alarms are kept. A distiller must acknowledge
    /// and resume. Conditions are judged again from fresh readings once they have arrived.
    /// </summary>
    public static void RestoreAfterPowerLoss(BatchState state, DateTimeOffset now, Decisions decisions)
    {
        if (!state.Phase.IsActive())
        {
            return;
        }
        state.LastStepAt = null;
        state.SteamValvePercent = 0;
        state.CoolingValvePercent = 100;
        ResetLoops(state);
        state.PressureTrimPercent = 0;
        if (!state.Held)
        {
            Hold(state, now, Alarms.Code(Alarms.Slot(AlarmCode.PowerLoss)), decisions);
        }
        var lastSeen = state.Phases.Count > 0 ? state.Phases[^1].StartedAt : now;
        // Power is back: the condition itself has passed, the alarm waits for acknowledgement.
        RaiseOnce(state, AlarmCode.PowerLoss, trip: false, $"service restarted with batch {state.BatchId} unfinished in {state.Phase.Name()} (phase began {lastSeen:O})", now, decisions);
        decisions.SetSafe();
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
                if (!PrintableText.IsBatchId(command.Argument))
                {
                    return CommandResult.Refuse($"batch id '{PrintableText.Of(command.Argument)}' refused: 1-64 letters, digits and - _ . : only");
                }
                if (state.LastStepAt is null || state.SettledAt is null)
                {
                    return CommandResult.Refuse("no readings yet: wait for the sensors' first samples");
                }
                if (state.AnyUnacknowledged())
                {
                    return CommandResult.Refuse($"acknowledge the alarms first: {UnacknowledgedCodes(state)}");
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
                ArmWatchdog(state, recipe, Phase.Loading);
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
                if (state.LastStepAt is null || state.SettledAt is null)
                {
                    return CommandResult.Refuse("no readings since restart yet: wait for the sensors' first samples");
                }
                if (command.Argument is { } argument && argument != AcceptDeviation)
                {
                    return CommandResult.Refuse($"resume takes no argument, or '{AcceptDeviation}' to run on past a cooling limit the cooling water cannot reach; got '{argument}'");
                }
                var accepting = command.Argument == AcceptDeviation ? UnreachableCoolingPhase(state, recipe, phase) : null;
                if (command.Argument == AcceptDeviation && accepting is null)
                {
                    return CommandResult.Refuse("no cooling limit is out of reach now: nothing to accept; resume without an argument");
                }
                var accepted = new List<DeviationRecord>();
                while (accepting is { } unreachable)
                {
                    // Recorded first, so the check below sees it accepted; taken back if anything else still blocks.
                    var record = new DeviationRecord
                    {
                        At = now, Phase = unreachable.Name(), Code = Alarms.Code(Alarms.Slot(AlarmCode.CoolingLimitUnreachable)),
                        Detail = UnreachableText(state, recipe, unreachable), Operator = command.Operator,
                    };
                    state.Deviations.Add(record);
                    accepted.Add(record);
                    accepting = UnreachableCoolingPhase(state, recipe, phase);
                }
                var stillBlocking = Blocking(state, recipe, phase);
                if (stillBlocking.Length > 0)
                {
                    foreach (var record in accepted) state.Deviations.Remove(record);
                    return CommandResult.Refuse($"the cause has not cleared: {stillBlocking}");
                }
                if (state.AnyUnacknowledged())
                {
                    foreach (var record in accepted) state.Deviations.Remove(record);
                    return CommandResult.Refuse($"acknowledge the alarms first: {UnacknowledgedCodes(state)}");
                }
                var cause = Release(state);
                ArmWatchdog(state, recipe, phase, afterResume: true);
                var deviation = accepted.Count == 0 ? "" : $"; deviation accepted by {command.Operator}: {string.Join(", ", accepted.Select(r => r.Phase + " cooling limit"))}";
                decisions.Events.Add(new ControllerEvent(EventKind.Resumed, now, phase, phase.Name(), $"resumed {phase.Name()} after {cause}{deviation}"));
                return CommandResult.Accept($"resumed {phase.Name()}{deviation}");

            case CommandKind.Abort:
                if (!phase.IsActive())
                {
                    return CommandResult.Refuse($"no batch to abort; now {Describe(state)}");
                }
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
}
