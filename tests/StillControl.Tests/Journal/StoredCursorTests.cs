using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using StillControl.Process;

namespace StillControl.Journal;

/// <summary>A cursor file that cannot be written is one alarm and forwarding from memory, never a resend loop.</summary>
public class StoredCursorTests
{
    [Fact]
    public void A_locked_cursor_file_raises_one_alarm_is_retried_later_and_clears_when_stored_again()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        new BatchJournal(journal, TimeProvider.System, TimeSpan.FromSeconds(1)).Dispose();
        using var reader = new JournalReader(journal);
        var events = new List<ControllerEvent>();
        var logged = new List<string>();
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var stored = new StoredCursor(reader, "mqtt", journal, events.Add, logged.Add, clock);
        stored.Save(new ForwarderCursor(10, 1));
        Assert.Equal(new ForwarderCursor(10, 1), stored.Load());

        // Another process holds the cursor file (as a full disk or a read-only file would refuse it).
        using (var blocker = new SqliteConnection($"Data Source={JournalReader.CursorPath(journal)};Pooling=False"))
        {
            blocker.Open();
            using (var begin = blocker.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                begin.ExecuteNonQuery();
            }
            stored.Save(new ForwarderCursor(20, 2));
            Assert.True(stored.Failing);
            var raised = Assert.Single(events);
            Assert.Equal(EventKind.AlarmRaised, raised.Kind);
            Assert.Equal("cursor-not-stored", raised.Code);
            Assert.Contains(JournalReader.CursorPath(journal), raised.Message);
            Assert.Single(logged);
            // Until the retry time, saving costs nothing and says nothing more.
            stored.Save(new ForwarderCursor(30, 3));
            clock.Advance(StoredCursor.RetryAfter - TimeSpan.FromSeconds(1));
            stored.Save(new ForwarderCursor(40, 4));
            Assert.Single(events);
        }
        clock.Advance(TimeSpan.FromSeconds(2));
        stored.Save(new ForwarderCursor(50, 5));
        Assert.False(stored.Failing);
        Assert.Equal(2, events.Count);
        Assert.Equal(EventKind.AlarmCleared, events[1].Kind);
        Assert.Equal(new ForwarderCursor(50, 5), stored.Load());
    }
}
