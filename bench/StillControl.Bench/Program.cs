using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using StillControl.Hosting;
using StillControl.Journal;
using StillControl.Physics;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Simulation;

// Figures for the notes: controller step cost and allocation, and whole simulated batches against real time.
// Run: dotnet run -c Release --project bench/StillControl.Bench [-- batches N | telemetry | hardware | reports | safety [SEEDS] [BATCHES] | panel [SECONDS] | plant [STILLS] [SECONDS] [SPEED] | archive [BATCHES]]
if (args.Length >= 1 && args[0] == "plant")
{
    await StillControl.Bench.PlantBench.RunAsync(args);
    return;
}
if (args.Length >= 1 && args[0] == "archive")
{
    await StillControl.Bench.ArchiveBench.RunAsync(args);
    return;
}
if (args.Length >= 1 && args[0] == "safety")
{
    await StillControl.Bench.SafetyBench.RunAsync(args);
    return;
}
if (args.Length >= 1 && args[0] == "reports")
{
    await StillControl.Bench.ReportBench.RunAsync();
    return;
}
if (args.Length >= 1 && args[0] == "hardware")
{
    await StillControl.Bench.HardwareBench.RunAsync();
    return;
}
if (args.Length >= 2 && args[0] == "hardware-onewire-inner")
{
    await StillControl.Bench.HardwareBench.OneWireInnerAsync(args[1]);
    return;
}
if (args.Length >= 1 && args[0] == "panel")
{
    await StillControl.Bench.PanelBench.RunAsync(args);
    return;
}
if (args.Length >= 1 && args[0] == "telemetry")
{
    await StillControl.Bench.TelemetryBench.RunAsync();
    return;
}
var batches = args.Length >= 2 && args[0] == "batches" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7;
Console.WriteLine($"runtime {Environment.Version}, {Environment.ProcessorCount} cores, server GC {System.Runtime.GCSettings.IsServerGC}");
StepBenchmark();
ModelBenchmark();
BatchBenchmark(batches);
LatencyBenchmark();

static void StepBenchmark()
{
    var recipe = DefaultRecipe.Create();
    var state = new BatchState();
    var decisions = new Decisions();
    var readings = new ReadingSnapshot();
    var now = new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);
    void Fill(DateTimeOffset t, double jitter)
    {
        readings[Channel.Steam] = Reading.Good(104 + jitter, t);
        readings[Channel.SteamPressure] = Reading.Good(15 + jitter, t);
        readings[Channel.Vapour] = Reading.Good(86 + jitter, t);
        readings[Channel.BedSurface] = Reading.Good(99 + jitter, t);
        readings[Channel.CoolingIn] = Reading.Good(20 + jitter, t);
        readings[Channel.CoolingOut] = Reading.Good(40 + jitter, t);
        readings[Channel.CoolingFlow] = Reading.Good(60 + jitter, t);
        readings[Channel.Distillate] = Reading.Good(28 + jitter, t);
        readings[Channel.DistillateFlow] = Reading.Good(2.4 + jitter / 10, t);
        readings[Channel.Barometer] = Reading.Good(1005 + jitter, t);
        readings[Channel.EmergencyStop] = Reading.Good(0, t);
    }
    Fill(now, 0);
    StillController.Step(readings, state, recipe, now, decisions);
    decisions.Clear(now);
    StillController.Apply(new OperatorCommand(CommandKind.Start, "bench", "bench", "bench-1"), state, recipe, now, decisions);
    // Drive it into hearts: seal, then let first distillate and the heads mass do the rest.
    decisions.Clear(now);
    StillController.Apply(new OperatorCommand(CommandKind.Seal, "bench", "bench"), state, recipe, now, decisions);
    var period = TimeSpan.FromMilliseconds(250);
    for (var i = 0; i < 2000; i++)
    {
        now += period;
        Fill(now, (i % 7) * 0.01);
        decisions.Clear(now);
        StillController.Step(readings, state, recipe, now, decisions);
    }
    if (state.Phase != Phase.Hearts) throw new InvalidOperationException($"bench expected hearts, got {state.Phase}");

    const int steps = 1_000_000;
    var before = GC.GetAllocatedBytesForCurrentThread();
    var watch = Stopwatch.StartNew();
    for (var i = 0; i < steps; i++)
    {
        now += period;
        Fill(now, (i % 7) * 0.01);
        decisions.Clear(now);
        StillController.Step(readings, state, recipe, now, decisions);
    }
    watch.Stop();
    var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"controller Step (hearts, steady): {watch.Elapsed.TotalNanoseconds / steps:0} ns per step, {allocated / (double)steps:0.###} bytes allocated per step over {steps:N0} steps (phase still {state.Phase.Name()})"));
}

static void ModelBenchmark()
{
    var model = new StillModel(new StillModelParameters());
    for (var i = 0; i < 12; i++) model.AddLayer();
    model.Seal();
    var disturbances = new StillDisturbances { SteamSurgeFactor = 1 };
    const int steps = 200_000;
    var watch = Stopwatch.StartNew();
    for (var i = 0; i < steps; i++) model.Step(0.25, 25, 30, disturbances);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"still model step: {watch.Elapsed.TotalNanoseconds / steps:0} ns per 0.25 s step"));
}

static ControlCycle RunBatch(Scenario scenario, string path, out double wallSeconds, out int steps)
{
    var clock = new SimulationClock(new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero));
    var schedule = new FaultSchedule();
    var still = new SimulatedStill(scenario, schedule, seed: 1);
    var journal = new BatchJournal(path, TimeProvider.System, TimeSpan.FromMilliseconds(100));
    var options = new ControlOptions();
    var cycle = new ControlCycle(still, still, DefaultRecipe.Create(), journal, clock, options, NullLogger<ControlCycle>.Instance);
    cycle.AddObserver(new SimulatedDistiller(still, schedule, scenario, resumeAfterPowerLoss: false, TimeSpan.FromHours(12)));
    var started = TimeProvider.System.GetTimestamp();
    cycle.Start();
    steps = 0;
    while (!cycle.StopRequested)
    {
        clock.Advance(options.Period);
        cycle.Tick();
        steps++;
    }
    cycle.Stop();
    wallSeconds = TimeProvider.System.GetElapsedTime(started).TotalSeconds;
    journal.Dispose();
    return cycle;
}

static void LatencyBenchmark()
{
    string[] faults =
    [
        """{ "kind": "cooling-water-loss", "phase": "hearts", "afterSeconds": 300 }""",
        """{ "kind": "steam-pressure-surge", "factor": 3, "phase": "tails", "afterSeconds": 60 }""",
        """{ "kind": "sensor-disconnect", "channel": "vapour", "phase": "hearts", "afterSeconds": 100 }""",
        """{ "kind": "sensor-spike", "channel": "distillate", "phase": "heads", "afterSeconds": 5 }""",
        """{ "kind": "sensor-power-on-reading", "channel": "cooling-out", "phase": "hearts", "afterSeconds": 50 }""",
        """{ "kind": "emergency-stop", "atSeconds": 900 }""",
        """{ "kind": "lid-open", "phase": "hearts", "afterSeconds": 100 }""",
    ];
    foreach (var fault in faults)
    {
        var (scenario, errors) = Scenario.Parse($$"""{ "faults": [ {{fault}} ] }""");
        if (scenario is null) throw new InvalidOperationException(string.Join("; ", errors));
        var path = Path.Combine(Path.GetTempPath(), $"stillcontrol-bench-latency-{Environment.ProcessId}.db");
        try
        {
            var cycle = RunBatch(scenario, path, out _, out _);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"interlock latency, {scenario.Faults[0].Kind,-24}: {cycle.InterlockLatencyMaxMilliseconds:0} ms (period 250 ms), held in {cycle.State.Phase.Name()} by {cycle.State.HoldCause}"));
        }
        finally
        {
            foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(path + suffix);
        }
    }
}

static void BatchBenchmark(int count)
{
    var ratios = new List<double>();
    for (var run = 0; run < count; run++)
    {
        var path = Path.Combine(Path.GetTempPath(), $"stillcontrol-bench-{Environment.ProcessId}-{run}.db");
        try
        {
            var cycle = RunBatch(new Scenario(), path, out var wall, out var steps);
            var simulated = ((cycle.State.EndedAt ?? DateTimeOffset.MinValue) - cycle.State.StartedAt!.Value).TotalSeconds;
            var ratio = simulated / wall;
            if (run > 0) ratios.Add(ratio);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"batch {run + 1}{(run == 0 ? " (cold JIT, not counted)" : "")}: {cycle.State.Phase.Name()}, {simulated:0} s simulated in {wall:0.000} s wall = {ratio:0}x real time ({steps:N0} steps, {wall * 1e6 / steps:0.0} µs per step with journal)"));
        }
        finally
        {
            foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(path + suffix);
        }
    }
    ratios.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"full default batch, warm, median of {ratios.Count}: {ratios[ratios.Count / 2]:0}x real time (slowest {ratios[0]:0}x)"));
}
