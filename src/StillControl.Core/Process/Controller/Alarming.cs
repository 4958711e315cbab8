namespace StillControl.Process;

public static partial class StillController
{
    /// <summary>A warning's condition must stay absent this long before it clears, so a value hovering at a limit is one alarm.</summary>
    public const double WarningClearSeconds = 30;

    /// <summary>A warning raised again this soon after it cleared reopens its record (counted) instead of starting a new one.</summary>
    public const double WarningReopenSeconds = 300;

    private static bool Condition(BatchState state, AlarmCode code, bool condition, DateTimeOffset now, Decisions d) =>
        Condition(state, Alarms.Slot(code), condition, now, d);

    /// <summary>Clears the alarm if its condition has gone (a warning only after <see cref="WarningClearSeconds"/>); returns true when it must be raised.</summary>
    private static bool Condition(BatchState state, int slot, bool condition, DateTimeOffset now, Decisions d)
    {
        ref var alarm = ref state.AlarmSlots[slot];
        if (condition)
        {
            alarm.ClearPendingSince = null;
            return !alarm.Active;
        }
        if (alarm.Active)
        {
            if (!alarm.Trip)
            {
                alarm.ClearPendingSince ??= now;
                if ((now - alarm.ClearPendingSince.Value).TotalSeconds < WarningClearSeconds) return false;
            }
            Clear(state, slot, now, d);
        }
        return false;
    }

    private static void Raise(BatchState state, int slot, bool trip, string detail, DateTimeOffset now, Decisions d)
    {
        ref var alarm = ref state.AlarmSlots[slot];
        alarm.Active = true;
        alarm.Unacknowledged = true;
        alarm.Trip = trip;
        alarm.Detail = detail;
        alarm.ClearPendingSince = null;
        if (state.BatchId is not null && !state.Phase.IsFinished() && state.Phase != Phase.Idle)
        {
            var last = alarm.LogIndex >= 0 && alarm.LogIndex < state.AlarmLog.Count ? state.AlarmLog[alarm.LogIndex] : LastRecordOf(state, slot);
            if (!trip && last is { IsTrip: false, ClearedAt: { } cleared } && (now - cleared).TotalSeconds <= WarningReopenSeconds && last.Phase == state.Phase.Name())
            {
                // The same warning back within minutes: one alarm that came back, counted, not a new one.
                last.ClearedAt = null;
                last.AcknowledgedAt = null;
                last.Occurrences++;
                last.Detail = detail;
                alarm.LogIndex = state.AlarmLog.IndexOf(last);
            }
            else
            {
                state.AlarmLog.Add(new AlarmRecord { Code = Alarms.Code(slot), Severity = trip ? "trip" : "warning", Phase = state.Phase.Name(), RaisedAt = now, Detail = detail });
                alarm.LogIndex = state.AlarmLog.Count - 1;
            }
        }
        else
        {
            alarm.LogIndex = -1;
        }
        d.Events.Add(new ControllerEvent(EventKind.AlarmRaised, now, state.Phase, Alarms.Code(slot), detail, Alarms.ChannelOf(slot)));
    }

    private static AlarmRecord? LastRecordOf(BatchState state, int slot)
    {
        var code = Alarms.Code(slot);
        for (var i = state.AlarmLog.Count - 1; i >= 0; i--)
        {
            if (state.AlarmLog[i].Code == code) return state.AlarmLog[i];
        }
        return null;
    }

    private static void Clear(BatchState state, int slot, DateTimeOffset now, Decisions d)
    {
        ref var alarm = ref state.AlarmSlots[slot];
        alarm.Active = false;
        alarm.ClearPendingSince = null;
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

    /// <summary>An alarm that is an event, not a lasting condition (a watchdog hold, a power loss): raised, then cleared at once, waiting for acknowledgement.</summary>
    private static void RaiseOnce(BatchState state, AlarmCode code, bool trip, string detail, DateTimeOffset now, Decisions d)
    {
        var slot = Alarms.Slot(code);
        if (state.AlarmSlots[slot].Active) Clear(state, slot, now, d);
        Raise(state, slot, trip, detail, now, d);
        Clear(state, slot, now, d);
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
}
