using Microsoft.Extensions.Time.Testing;
using StillControl.Process;

namespace StillControl.Journal;

public class BacklogAlarmTests
{
    [Fact]
    public void Too_many_waiting_rows_raise_one_alarm_and_draining_clears_it()
    {
        using var files = new TestFiles();
        var path = files.PathOf("journal.db");
        var start = new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);
        using (var journal = new BatchJournal(path, TimeProvider.System, TimeSpan.Zero))
        {
            var state = new BatchState { BatchId = "b" };
            for (var i = 0; i < 12; i++) journal.AppendSample(state, new Decisions(), start.AddSeconds(i));
            journal.Commit(force: true);
        }
        var time = new FakeTimeProvider(start);
        var raised = new List<ControllerEvent>();
        var alarm = new BacklogAlarm("mqtt-backlog-over-limit", "the broker", "Mqtt:BacklogAlarmRows", 10, raised.Add, time);
        using var reader = new JournalReader(path);

        alarm.Check(reader, default);
        var e = Assert.Single(raised);
        Assert.Equal(EventKind.AlarmRaised, e.Kind);
        Assert.Contains("12 journal rows wait for the broker, over Mqtt:BacklogAlarmRows = 10", e.Message);

        time.Advance(TimeSpan.FromSeconds(6));
        alarm.Check(reader, default);
        Assert.Single(raised);

        time.Advance(TimeSpan.FromSeconds(6));
        alarm.Check(reader, new ForwarderCursor(Samples: 12, Events: 0));
        Assert.Equal(EventKind.AlarmCleared, raised[^1].Kind);
        Assert.Equal(2, raised.Count);
    }
}
