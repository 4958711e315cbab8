using Microsoft.Extensions.Logging.Abstractions;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Reports;
using StillControl.Simulation;

namespace StillControl.Hosting;

/// <summary>Batch ids are unique by construction, a start never takes over a record, and an ended batch is never written again.</summary>
public class BatchIdTests
{
    private sealed class Rig : IDisposable
    {
        public readonly TestFiles Files = new();
        public readonly SimulationClock Clock = new(new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero));
        public readonly BatchJournal Journal;
        public readonly ControlCycle Cycle;

        public Rig()
        {
            var scenario = new Scenario();
            var still = new SimulatedStill(scenario, new FaultSchedule(), seed: 1);
            Journal = new BatchJournal(Files.PathOf("journal.db"), TimeProvider.System, TimeSpan.FromMilliseconds(1));
            Cycle = new ControlCycle(still, still, DefaultRecipe.Create(), Journal, Clock, new ControlOptions(), NullLogger<ControlCycle>.Instance);
            Cycle.Start();
            Step(20);
        }

        public void Step(int count)
        {
            for (var i = 0; i < count; i++)
            {
                Clock.Advance(TimeSpan.FromMilliseconds(250));
                Cycle.Tick();
            }
        }

        public CommandResult Command(CommandKind kind, string? argument = null)
        {
            var result = Cycle.Submit(new OperatorCommand(kind, "tester", "test", argument));
            Step(1);
            Assert.True(result.IsCompleted);
            return result.Result;
        }

        public void Dispose()
        {
            Cycle.Stop();
            Journal.Dispose();
            Files.Dispose();
        }
    }

    [Fact]
    public void Two_batches_started_in_the_same_second_get_different_ids_and_a_start_naming_a_taken_id_is_refused()
    {
        using var rig = new Rig();
        Assert.True(rig.Command(CommandKind.Start).Accepted);
        var first = rig.Cycle.State.BatchId!;
        Assert.True(rig.Command(CommandKind.Abort).Accepted);
        Assert.True(rig.Command(CommandKind.Start).Accepted);
        var second = rig.Cycle.State.BatchId!;
        Assert.NotEqual(first, second);
        Assert.Equal(first + "-2", second);
        Assert.True(rig.Command(CommandKind.Abort).Accepted);

        var taken = rig.Command(CommandKind.Start, first);
        Assert.False(taken.Accepted);
        Assert.Contains($"batch id '{first}' is taken", taken.Reason);
        Assert.Equal(second, rig.Cycle.State.BatchId);
        rig.Journal.Commit(force: true);
        using var query = new JournalQuery(rig.Files.PathOf("journal.db"));
        Assert.Contains(query.Events(second), e => e.Kind == "command-refused" && e.Message.Contains("is taken"));
        Assert.Equal(2, query.List(new BatchFilter()).Count);
    }

    [Fact]
    public void An_ended_batch_is_never_written_again()
    {
        using var rig = new Rig();
        Assert.True(rig.Command(CommandKind.Start, "b-1").Accepted);
        rig.Step(8);
        Assert.True(rig.Command(CommandKind.Abort).Accepted);
        rig.Step(8);
        rig.Journal.Commit(force: true);
        // Whatever writes the state of that batch afterwards (a stray save, a second service) changes nothing.
        var stray = new BatchState { BatchId = "b-1", Phase = Phase.Loading };
        rig.Journal.SaveState(stray, rig.Clock.GetUtcNow(), null);
        rig.Journal.Commit(force: true);
        using var query = new JournalQuery(rig.Files.PathOf("journal.db"));
        var (state, _, outcome, _) = query.Load("b-1")!.Value;
        Assert.Equal("aborted", outcome);
        Assert.Equal(Phase.Aborted, state.Phase);
    }
}
