using StillControl.Process;

namespace StillControl.Journal;

public class BatchJournalTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_checkpoint_returns_at_once_and_the_main_file_alone_then_holds_what_was_committed()
    {
        using var files = new TestFiles();
        var path = files.PathOf("journal.db");
        var state = new BatchState { BatchId = "b-1", Phase = Phase.Sealed, StartedAt = Start };
        using var journal = new BatchJournal(path, TimeProvider.System, TimeSpan.FromSeconds(10));
        journal.BeginBatch("b-1", Start, "test-recipe", "{\"name\":\"test-recipe\"}");
        journal.SaveState(state, Start.AddSeconds(1), null);
        Assert.Equal(0, journal.CheckpointsCompleted);
        journal.Checkpoint();
        // The copy runs on the checkpointer's thread: wait for it (a signal, with a deadline), then read the main file alone, as
        // after a write-ahead log lost with the service still running.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (journal.CheckpointsCompleted < 1 && DateTime.UtcNow < deadline) await Task.Delay(5);
        Assert.Equal(1, journal.CheckpointsCompleted);
        var copy = files.PathOf("copy.db");
        File.Copy(path, copy);
        using var alone = new BatchJournal(copy, TimeProvider.System, TimeSpan.FromSeconds(10));
        var found = alone.FindUnfinished();
        Assert.NotNull(found);
        Assert.Equal("b-1", found!.Value.Id);
        Assert.Equal(Phase.Sealed, found.Value.State.Phase);
    }

    [Fact]
    public void Batches_events_samples_and_state_survive_closing_and_reopening()
    {
        using var files = new TestFiles();
        var path = files.PathOf("journal.db");
        var state = new BatchState { BatchId = "b-1", Phase = Phase.Hearts, StartedAt = Start };
        state.Fractions.Add(new Fraction { Receiver = "hearts-1", Phase = "hearts", VolumeLitres = 12.5, EthanolLitres = 8.5 });
        state.Signals[(int)Channel.Vapour] = new SignalMemory { Status = ReadingQuality.Good, Value = 84.25 };
        state.Signals[(int)Channel.Distillate] = new SignalMemory { Status = ReadingQuality.Faulted, Fault = FaultReason.Stuck };
        using (var journal = new BatchJournal(path, TimeProvider.System, TimeSpan.FromSeconds(10)))
        {
            journal.BeginBatch("b-1", Start, "test-recipe", "{\"name\":\"test-recipe\"}");
            journal.AppendEvent("b-1", new ControllerEvent(EventKind.PhaseChanged, Start.AddSeconds(10), Phase.Hearts, "hearts", "heads → hearts: test"));
            journal.AppendSample(state, new Decisions { SteamValvePercent = 22.5, CoolingValvePercent = 40, Receiver = "hearts-1", StrengthPercentVolume = 77.1 }, Start.AddSeconds(11));
            journal.SaveState(state, Start.AddSeconds(11), null);
            journal.Commit(force: true);
        }

        using var reopened = new BatchJournal(path, TimeProvider.System, TimeSpan.FromSeconds(10));
        var unfinished = reopened.FindUnfinished();
        Assert.NotNull(unfinished);
        Assert.Equal("b-1", unfinished!.Value.Id);
        Assert.Equal(12.5, unfinished.Value.State.Fractions.Single().VolumeLitres);
        var summary = Assert.Single(reopened.ListBatches());
        Assert.Equal("unfinished", summary.Outcome);
        Assert.Equal("hearts", summary.Phase);
        var e = Assert.Single(reopened.Events("b-1"));
        Assert.Equal("phase-changed", e.Kind);
        Assert.Equal(1, reopened.CountSamples("b-1"));

        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT readings, steam_percent, receiver FROM samples";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal("""{"vapour":{"value":84.25,"quality":"good"},"distillate":{"quality":"faulted","fault":"stuck"}}""", reader.GetString(0));
        Assert.Equal(22.5, reader.GetDouble(1));
        Assert.Equal("hearts-1", reader.GetString(2));
    }

    [Fact]
    public void Writes_not_yet_committed_are_not_visible_to_a_second_reader_and_committed_ones_are()
    {
        using var files = new TestFiles();
        var path = files.PathOf("journal.db");
        using var journal = new BatchJournal(path, TimeProvider.System, TimeSpan.FromHours(1));
        journal.BeginBatch("b-2", Start, "r", "{}");
        journal.AppendEvent("b-2", new ControllerEvent(EventKind.AlarmRaised, Start, Phase.Loading, "emergency-stop", "pressed"));
        journal.Commit();
        Assert.True(journal.CommitDue == false);
        using (var reader = new BatchJournal(path, TimeProvider.System, TimeSpan.FromHours(1)))
        {
            Assert.Empty(reader.ListBatches());
        }
        journal.Commit(force: true);
        using (var reader = new BatchJournal(path, TimeProvider.System, TimeSpan.FromHours(1)))
        {
            Assert.Single(reader.ListBatches());
        }
    }
}
