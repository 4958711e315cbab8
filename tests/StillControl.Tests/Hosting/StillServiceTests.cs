using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StillControl.Actuators;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Sensors;
using StillControl.Simulation;

namespace StillControl.Hosting;

public class StillServiceTests
{
    private sealed class Lifetime : IHostApplicationLifetime
    {
        private readonly CancellationTokenSource stopping = new();
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => stopping.Token;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public bool StopRequested { get; private set; }
        public void StopApplication() => StopRequested = true;
    }

    /// <summary>Outputs that remember every command, to show what the still was told and in what order.</summary>
    private sealed class RecordingActuators(IActuators inner) : IActuators
    {
        public List<OutputState> History { get; } = [];
        public OutputState Outputs => inner.Outputs;
        public void Apply(Decisions decisions) { inner.Apply(decisions); History.Add(inner.Outputs); }
        public void SetSafe() { inner.SetSafe(); History.Add(inner.Outputs); }
        public string? Fault => inner.Fault;
    }

    private sealed class FailingSensors(ISensorBank inner, int failAfter) : ISensorBank
    {
        private int reads;
        public void Read(ReadingSnapshot into, DateTimeOffset now)
        {
            if (++reads > failAfter) throw new IOException("bus fell off");
            inner.Read(into, now);
        }
    }

    private static (StillService Service, ControlCycle Cycle, RecordingActuators Outputs, ServiceOutcome Outcome, Lifetime Lifetime, BatchJournal Journal) Build(
        TestFiles files, FakeTimeProvider time, int failAfter = int.MaxValue)
    {
        var scenario = new Scenario();
        var schedule = new FaultSchedule();
        var still = new SimulatedStill(scenario, schedule, seed: 1);
        var outputs = new RecordingActuators(still);
        var journal = new BatchJournal(files.PathOf("journal.db"), TimeProvider.System, TimeSpan.Zero);
        var options = new ControlOptions();
        var cycle = new ControlCycle(new FailingSensors(still, failAfter), outputs, DefaultRecipe.Create(), journal, time, options, NullLogger<ControlCycle>.Instance);
        cycle.AddObserver(new SimulatedDistiller(still, schedule, scenario, false, TimeSpan.FromHours(12), endWhenDone: false));
        var outcome = new ServiceOutcome();
        var lifetime = new Lifetime();
        var service = new StillService(cycle, new RealTimePacer(time, options.Period), lifetime, outcome, NullLogger<StillService>.Instance);
        return (service, cycle, outputs, outcome, lifetime, journal);
    }

    /// <summary>Moves the fake clock one period at a time, each time waiting (on the wall clock) until the loop has stepped.</summary>
    private static async Task AdvanceAsync(FakeTimeProvider time, ControlCycle cycle, ServiceOutcome outcome, int periods)
    {
        for (var i = 0; i < periods && outcome.Failure is null; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (cycle.State.LastStepAt != time.GetUtcNow() && outcome.Failure is null && DateTime.UtcNow < deadline)
            {
                await Task.Delay(1);
            }
        }
    }

    [Fact]
    public async Task The_loop_steps_once_per_period_of_the_injected_clock_and_leaves_outputs_safe_at_stop()
    {
        using var files = new TestFiles();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero));
        var (service, cycle, outputs, outcome, _, journal) = Build(files, time);
        await service.StartAsync(CancellationToken.None);
        var started = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (outputs.History.Count == 0 && DateTime.UtcNow < started) await Task.Delay(5);
        await Task.Delay(50);
        Assert.Equal(OutputState.Safe, Assert.Single(outputs.History));
        Assert.Null(cycle.State.LastStepAt);

        await AdvanceAsync(time, cycle, outcome, 40);
        Assert.Equal(time.GetUtcNow(), cycle.State.LastStepAt);
        Assert.Equal(1 + 40, outputs.History.Count);
        Assert.Equal(Phase.Loading, cycle.State.Phase);
        Assert.True(outputs.Outputs.SteamValvePercent > 0, "the simulated distiller started the batch and steam is opening");

        await service.StopAsync(CancellationToken.None);
        Assert.Equal(OutputState.Safe, outputs.History[^1]);
        Assert.Null(outcome.Failure);
        journal.Dispose();
    }

    [Fact]
    public async Task A_crash_in_the_loop_sets_outputs_safe_records_the_failure_and_stops_the_host()
    {
        using var files = new TestFiles();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero));
        var (service, cycle, outputs, outcome, lifetime, journal) = Build(files, time, failAfter: 30);
        await service.StartAsync(CancellationToken.None);
        await Task.Delay(50);
        await AdvanceAsync(time, cycle, outcome, 40);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!lifetime.StopRequested && DateTime.UtcNow < deadline) await Task.Delay(5);
        Assert.IsType<IOException>(outcome.Failure);
        Assert.True(lifetime.StopRequested);
        Assert.Equal(OutputState.Safe, outputs.History[^1]);
        Assert.Contains(outputs.History.Take(outputs.History.Count - 1), o => o.SteamValvePercent > 0);
        await service.StopAsync(CancellationToken.None);
        journal.Dispose();
    }
}
