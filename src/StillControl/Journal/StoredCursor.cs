using Microsoft.Data.Sqlite;
using StillControl.Process;

namespace StillControl.Journal;

/// <summary>
/// A forwarder's cursor as it is stored in <c>JOURNAL.cursors</c>. When the file cannot be written (read-only, locked, disk
/// full) the forwarder does not stop or start over: it goes on from the cursor it holds in memory, so nothing is sent twice
/// in this run, says so once (<c>cursor-not-stored</c>, an alarm with the file and the reason), tries again every
/// <see cref="RetryAfter"/>, and clears the alarm when a cursor is stored again. Only a restart while it is failing sends the
/// rows after the last stored cursor again (the same rows, the same values).
/// </summary>
public sealed class StoredCursor(JournalReader reader, string forwarder, string journalPath, Action<ControllerEvent> audit, Action<string> logFailure,
    TimeProvider? time = null)
{
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);
    public const string Code = "cursor-not-stored";

    private readonly TimeProvider clock = time ?? TimeProvider.System;
    private DateTimeOffset retryAt = DateTimeOffset.MinValue;

    public bool Failing { get; private set; }

    public ForwarderCursor Load() => reader.LoadCursor(forwarder);

    public void Save(ForwarderCursor cursor)
    {
        var now = clock.GetUtcNow();
        if (Failing && now < retryAt) return;
        try
        {
            reader.SaveCursor(forwarder, cursor);
        }
        catch (SqliteException ex)
        {
            retryAt = now + RetryAfter;
            if (Failing) return;
            Failing = true;
            var message = $"the {forwarder} cursor cannot be stored in {JournalReader.CursorPath(journalPath)} ({ex.Message}); forwarding goes on from memory " +
                $"and tries again every {RetryAfter.TotalSeconds:0} s; a restart before it is stored sends the rows since the last stored cursor again";
            logFailure(message);
            audit(new ControllerEvent(EventKind.AlarmRaised, now, Phase.Idle, Code, message));
            return;
        }
        if (!Failing) return;
        Failing = false;
        audit(new ControllerEvent(EventKind.AlarmCleared, now, Phase.Idle, Code, $"the {forwarder} cursor is stored again in {JournalReader.CursorPath(journalPath)}"));
    }
}
