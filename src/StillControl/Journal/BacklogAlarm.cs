using StillControl.Process;

namespace StillControl.Journal;

/// <summary>
/// Watches one forwarder's backlog in the journal and raises an alarm event (through <paramref name="audit"/>) when more rows
/// wait than the configured limit, and clears it when they drain. Nothing is ever dropped: the limit is for people to act on.
/// </summary>
public sealed class BacklogAlarm(string code, string destination, string setting, long limitRows, Action<ControllerEvent> audit, TimeProvider? time = null)
{
    private readonly TimeProvider clock = time ?? TimeProvider.System;
    private bool raised;
    private DateTimeOffset lastCheck;

    public void Check(JournalReader reader, ForwarderCursor cursor)
    {
        // Counting the backlog is a query: a few times a minute is enough for an alarm measured in days of data.
        var now = clock.GetUtcNow();
        if (now - lastCheck < TimeSpan.FromSeconds(5)) return;
        lastCheck = now;
        var (samples, events) = reader.Backlog(cursor);
        var over = samples + events > limitRows;
        if (over == raised) return;
        raised = over;
        audit(new ControllerEvent(over ? EventKind.AlarmRaised : EventKind.AlarmCleared, now, Phase.Idle, code,
            over ? $"{samples + events} journal rows wait for {destination}, over {setting} = {limitRows}; nothing is dropped"
                 : $"backlog for {destination} back under {limitRows} rows"));
    }
}
