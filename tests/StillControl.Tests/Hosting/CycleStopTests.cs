using Microsoft.Extensions.Logging.Abstractions;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Reports;
using StillControl.Simulation;

namespace StillControl.Hosting;

/// <summary>A loop that has stopped runs nothing more, and leaves no command without an answer or an audit event.</summary>
public sealed class CycleStopTests : IDisposable
{
    private readonly TestFiles files = new();
    private readonly SimulationClock clock = new(new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero));
    private readonly BatchJournal journal;
    private readonly ControlCycle cycle;

    public CycleStopTests()
    {
        var still = new SimulatedStill(new Scenario(), new FaultSchedule(), seed: 1);
        journal = new BatchJournal(files.PathOf("journal.db"), TimeProvider.System, TimeSpan.FromMilliseconds(1));
        cycle = new ControlCycle(still, still, DefaultRecipe.Create(), journal, clock, new ControlOptions(), NullLogger<ControlCycle>.Instance);
        cycle.Start();
        for (var i = 0; i < 20; i++) Step();
    }

    private void Step()
    {
        clock.Advance(TimeSpan.FromMilliseconds(250));
        cycle.Tick();
    }

    [Fact]
    public async Task Commands_queued_at_the_stop_or_handed_in_after_it_are_answered_not_run_and_audited_in_the_batch()
    {
        var start = cycle.Submit(new OperatorCommand(CommandKind.Start, "wang", "test"));
        Step();
        Assert.True(start.IsCompleted);
        Assert.True((await start).Accepted);
        var batch = cycle.State.BatchId!;

        var queued = cycle.Submit(new OperatorCommand(CommandKind.Hold, "wang", "mqtt", null, "h1"));
        cycle.Stop();
        Assert.True(queued.IsCompleted);
        var answer = await queued;
        Assert.False(answer.Accepted);
        Assert.Equal("not run: the service stopped", answer.Reason);
        Assert.False(cycle.State.Held);

        // After the stop (a link still answering while the host stops): answered at once, never run, journaled at once.
        var late = cycle.Submit(new OperatorCommand(CommandKind.Abort, "li", "panel"));
        Assert.True(late.IsCompleted);
        Assert.Equal("not run: the service stopped", (await late).Reason);
        cycle.Audit(new ControllerEvent(EventKind.CommandRefused, clock.GetUtcNow(), Phase.Idle, "remote", "remote command id z9 refused (mqtt): not run: the service stopped"));

        using var query = new JournalQuery(files.PathOf("journal.db"));
        var events = query.Events(batch);
        Assert.Single(events, e => e.Kind == "command-refused" && e.Message == "hold by wang (mqtt, id h1): not run: the service stopped");
        Assert.Single(events, e => e.Kind == "command-refused" && e.Message == "abort by li (panel): not run: the service stopped");
        Assert.Single(events, e => e.Message.StartsWith("remote command id z9", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.Kind is "held" or "batch-ended");
    }

    [Fact]
    public async Task An_output_test_or_a_recipe_change_handed_in_at_or_after_the_stop_is_answered_not_applied()
    {
        // Queued before the stop, never stepped: the stop answers it.
        var queuedTest = cycle.SubmitOutputTest(new OutputTestRequest(OutputTestAction.Start, "zhang", "panel", "t1", TestOutput.SteamValve, 30, null, TimeSpan.FromSeconds(30)));
        var queuedRecipe = cycle.ChangeRecipe(new RecipeChange(DefaultRecipe.Create(), "zhang", "panel", null));
        cycle.Stop();
        Assert.True(queuedTest.IsCompleted);
        Assert.True(queuedRecipe.IsCompleted);
        Assert.Equal("not run: the service stopped", (await queuedTest).Reason);
        Assert.False((await queuedRecipe).Accepted);

        // Handed in after it: answered at once; the outputs stay safe.
        var late = cycle.SubmitOutputTest(new OutputTestRequest(OutputTestAction.Start, "zhang", "panel", "t2", TestOutput.SteamValve, 30, null, TimeSpan.FromSeconds(30)));
        Assert.True(late.IsCompleted);
        Assert.False((await late).Accepted);
        Assert.False(cycle.OutputTestStatus.Active);
    }

    public void Dispose()
    {
        journal.Dispose();
        files.Dispose();
    }
}
