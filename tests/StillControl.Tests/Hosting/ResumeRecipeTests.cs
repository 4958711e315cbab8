using Microsoft.Extensions.Logging.Abstractions;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Reports;
using StillControl.Simulation;

namespace StillControl.Hosting;

/// <summary>An interrupted batch resumes on the recipe it started on, whatever recipe the service was started with since.</summary>
public sealed class ResumeRecipeTests : IDisposable
{
    private readonly TestFiles files = new();
    private readonly SimulationClock clock = new(new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero));

    private ControlCycle Cycle(BatchJournal journal, Recipe recipe)
    {
        var still = new SimulatedStill(new Scenario(), new FaultSchedule(), seed: 1);
        return new ControlCycle(still, still, recipe, journal, clock, new ControlOptions(), NullLogger<ControlCycle>.Instance);
    }

    private void Steps(ControlCycle cycle, int count)
    {
        for (var i = 0; i < count; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(250));
            cycle.Tick();
        }
    }

    [Fact]
    public async Task A_batch_interrupted_on_one_recipe_resumes_on_it_when_the_service_starts_with_another()
    {
        var path = files.PathOf("journal.db");
        var first = DefaultRecipe.Create();
        first.Name = "started-on";
        string batch;
        using (var journal = new BatchJournal(path, TimeProvider.System, TimeSpan.FromMilliseconds(1)))
        {
            var cycle = Cycle(journal, first);
            cycle.Start();
            Steps(cycle, 10);
            var start = cycle.Submit(new OperatorCommand(CommandKind.Start, "wang", "test"));
            Steps(cycle, 10);
            Assert.True((await start).Accepted);
            batch = cycle.State.BatchId!;
            // The service stops without the batch ending (a power loss keeps even less; the state is saved either way).
            cycle.Stop();
        }

        var other = DefaultRecipe.Create();
        other.Name = "uploaded-since";
        using (var journal = new BatchJournal(path, TimeProvider.System, TimeSpan.FromMilliseconds(1)))
        {
            var cycle = Cycle(journal, other);
            cycle.Start();
            Assert.Equal(batch, cycle.State.BatchId);
            Assert.True(cycle.State.Held);
            Assert.Equal("started-on", cycle.Recipe.Name);
            Steps(cycle, 4);
            cycle.Stop();
        }

        using var query = new JournalQuery(path);
        Assert.Single(query.Events(batch), e => e.Code == "recipe" && e.Message.Contains("resumes on recipe 'started-on'") && e.Message.Contains("'uploaded-since'"));
    }

    [Fact]
    public async Task A_batch_row_never_reaches_the_disk_without_its_state()
    {
        // A commit interval far longer than the test: the only commit is the one the batch's start forces (a phase change).
        var path = files.PathOf("state.db");
        using var journal = new BatchJournal(path, TimeProvider.System, TimeSpan.FromHours(1));
        var cycle = Cycle(journal, DefaultRecipe.Create());
        cycle.Start();
        Steps(cycle, 4);
        var start = cycle.Submit(new OperatorCommand(CommandKind.Start, "wang", "test"));
        Steps(cycle, 1);
        Assert.True((await start).Accepted);

        // What a kill -9 now would leave: read by another connection, the batch is there with its state, so it can be resumed.
        using (var query = new JournalQuery(path)) Assert.True(query.HasUnendedBatch());
        using (var reader = new BatchJournal(path, TimeProvider.System, TimeSpan.FromHours(1)))
        {
            var unfinished = reader.FindUnfinished();
            Assert.NotNull(unfinished);
            Assert.Equal(cycle.State.BatchId, unfinished.Value.Id);
        }
        cycle.Stop();
    }

    public void Dispose() => files.Dispose();
}
