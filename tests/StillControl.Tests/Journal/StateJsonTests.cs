using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using StillControl.Hosting;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Simulation;

namespace StillControl.Journal;

/// <summary>
/// The loop writes the batch state with the write-only JSON context; resumes and reviews read it with the full one. The two must
/// write the same bytes for every state a batch passes through, or a resumed batch would read something else than was saved.
/// </summary>
public sealed class StateJsonTests : IDisposable
{
    private readonly TestFiles files = new();

    public void Dispose() => files.Dispose();

    [Fact]
    public void The_write_only_context_writes_what_the_full_context_writes_for_every_state_of_a_batch_with_trips_holds_and_alarms()
    {
        var (scenario, errors) = Scenario.Parse("""
            { "seed": 7,
              "faults": [
                { "kind": "cooling-water-loss", "phase": "hearts", "afterSeconds": 300, "forSeconds": 180 },
                { "kind": "sensor-spike", "channel": "distillate", "phase": "heads", "afterSeconds": 30, "forSeconds": 2 },
                { "kind": "sensor-disconnect", "channel": "vapour", "atSeconds": 2400, "forSeconds": 30 } ],
              "operator": [ { "command": "resume", "phase": "hearts", "afterSeconds": 600 } ] }
            """);
        Assert.Empty(errors);
        var clock = new SimulationClock(new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero));
        var schedule = new FaultSchedule();
        var still = new SimulatedStill(scenario!, schedule, seed: 7);
        using var journal = new BatchJournal(files.PathOf("journal.db"), TimeProvider.System, TimeSpan.FromMilliseconds(100));
        var cycle = new ControlCycle(still, still, DefaultRecipe.Create(), journal, clock, new ControlOptions(), NullLogger<ControlCycle>.Instance);
        cycle.AddObserver(new SimulatedDistiller(still, schedule, scenario!, false, TimeSpan.FromHours(12), endWhenDone: false));
        cycle.Start();

        var compared = 0;
        for (var step = 0; step < 12 * 3600 * 4 && !cycle.State.Phase.IsFinished(); step++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(250));
            cycle.Tick();
            if (cycle.Decisions.Events.Count == 0 && step % 400 != 0) continue;
            Assert.Equal(JsonSerializer.Serialize(cycle.State, JournalJsonContext.Default.BatchState),
                JsonSerializer.Serialize(cycle.State, JournalWriteContext.Default.BatchState));
            Assert.Equal(JsonSerializer.Serialize(still.Model.State, JournalJsonContext.Default.StillModelState),
                JsonSerializer.Serialize(still.Model.State, JournalWriteContext.Default.StillModelState));
            compared++;
        }
        cycle.Stop();

        // The batch went through what a state can hold: every list filled, a hold and its release, a finished outcome.
        var state = cycle.State;
        Assert.Equal(Phase.Complete, state.Phase);
        Assert.True(compared > 50, $"{compared} states compared");
        Assert.NotEmpty(state.AlarmLog);
        Assert.NotEmpty(state.Actions);
        Assert.NotEmpty(state.Fractions);
        Assert.True(state.Phases.Count >= 5, $"{state.Phases.Count} phases");
        Assert.Contains(state.AlarmLog, a => a.Code.Contains("cooling", StringComparison.Ordinal));
    }
}
