using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using StillControl.Hosting;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Simulation;

namespace StillControl.Bench;

/// <summary>
/// Safety figures: fault onset (in the simulated world) to steam commanded closed and to steam shut at the still, per fault kind,
/// p50 and worst over seeds and onset offsets inside a control period; and nuisance trips over fault-free seeded batches.
/// Run: dotnet run -c Release --project bench/StillControl.Bench -- safety [SEEDS] [BATCHES]
/// </summary>
public static class SafetyBench
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);

    /// <summary>Faults that show in a reading at once, with the sampling interval of the sensor that shows them (ms).</summary>
    private static readonly (string Fault, double SamplingMs)[] Immediate =
    [
        ("""{ "kind": "cooling-water-loss", "phase": "hearts", "afterSeconds": 300 }""", 1000),
        ("""{ "kind": "sensor-disconnect", "channel": "vapour", "phase": "hearts", "afterSeconds": 100 }""", 100),
        ("""{ "kind": "sensor-disconnect", "channel": "distillate", "phase": "hearts", "afterSeconds": 100 }""", 750),
        ("""{ "kind": "sensor-spike", "channel": "distillate", "phase": "hearts", "afterSeconds": 50 }""", 750),
        ("""{ "kind": "sensor-power-on-reading", "channel": "cooling-out", "phase": "hearts", "afterSeconds": 50 }""", 750),
        ("""{ "kind": "sensor-offset", "channel": "distillate", "value": -30, "phase": "hearts", "afterSeconds": 50 }""", 750),
        ("""{ "kind": "emergency-stop", "phase": "hearts", "afterSeconds": 100, "forSeconds": 0.1 }""", 50),
        ("""{ "kind": "lid-open", "phase": "hearts", "afterSeconds": 100 }""", 50),
        ("""{ "kind": "steam-valve-unresponsive", "phase": "hearts", "afterSeconds": 100 }""", 0),
    ];

    /// <summary>Faults that need time to show by their nature (a value must repeat, vapour must go without flow), for the record.</summary>
    private static readonly string[] Slow =
    [
        """{ "kind": "sensor-stuck", "channel": "distillate", "phase": "hearts", "afterSeconds": 60 }""",
        """{ "kind": "sensor-dead", "channel": "distillate-flow", "phase": "hearts", "afterSeconds": 60 }""",
        """{ "kind": "sensor-power-on-reading", "channel": "vapour", "phase": "hearts", "afterSeconds": 400 }""",
        """{ "kind": "steam-pressure-surge", "factor": 3, "phase": "tails", "afterSeconds": 60 }""",
    ];

    public static Task RunAsync(string[] args)
    {
        var seeds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8;
        var batches = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100;
        Console.WriteLine($"runtime {Environment.Version}, {Environment.ProcessorCount} cores; period {Period.TotalMilliseconds} ms; {seeds} seeds per fault, onsets spread over a period");
        Console.WriteLine("fault onset to steam commanded closed / steam shut at the still (ms): p50, worst; bound = period + sensor sampling interval");
        foreach (var (fault, sampling) in Immediate) Report(fault, seeds, Period.TotalMilliseconds + sampling);
        foreach (var fault in Slow) Report(fault, seeds, null);
        NuisanceTrips(batches);
        return Task.CompletedTask;
    }

    private static void Report(string fault, int seeds, double? bound)
    {
        var commanded = new List<double>();
        var shut = new List<double>();
        var never = 0;
        string? kind = null;
        for (var seed = 1; seed <= seeds; seed++)
        {
            // Spread the onset over one control period, so a fault just after a step and one just before are both measured.
            var offset = (seed - 1) * Period.TotalSeconds / seeds;
            var json = fault.Replace("\"afterSeconds\": ", $"\"afterSeconds\": {offset.ToString("0.###", CultureInfo.InvariantCulture)} + ", StringComparison.Ordinal);
            json = System.Text.RegularExpressions.Regex.Replace(json, @"([0-9.]+) \+ ([0-9.]+)", m =>
                (double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToString("0.###", CultureInfo.InvariantCulture));
            var (scenario, errors) = Scenario.Parse($$"""{ "faults": [ {{json}} ] }""");
            if (scenario is null) throw new InvalidOperationException(string.Join("; ", errors));
            kind = scenario.Faults[0].Kind + (scenario.Faults[0].Channel is { } c ? " " + c : "");
            var reaction = Run(scenario, seed, out _).Single();
            if (!reaction.SteamOpenAtOnset) continue;
            if (reaction.ClosedMs is not { } closed)
            {
                never++;
                continue;
            }
            commanded.Add(reaction.CommandedClosedMs ?? closed);
            shut.Add(closed);
        }
        static double P50(List<double> v) => v.Order().ElementAt(v.Count / 2);
        var verdict = bound is { } b ? shut.Count > 0 && shut.Max() <= b && never == 0 ? $"within {b:0} ms" : $"OVER {b:0} ms" : "by the fault's nature";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {kind,-40} commanded {(commanded.Count > 0 ? $"{P50(commanded),7:0} / {commanded.Max(),7:0}" : "      —")}   shut {(shut.Count > 0 ? $"{P50(shut),7:0} / {shut.Max(),7:0}" : "      —")}   {(never > 0 ? $"NEVER SHUT in {never} runs; " : "")}{verdict}"));
    }

    private static void NuisanceTrips(int count)
    {
        var trips = 0;
        var warnings = 0;
        var held = 0;
        var incomplete = 0;
        var heartsOverMaximum = 0;
        var started = TimeProvider.System.GetTimestamp();
        for (var seed = 1; seed <= count; seed++)
        {
            Run(new Scenario(), seed, out var state);
            trips += state.AlarmLog.Count(a => a.IsTrip);
            warnings += state.AlarmLog.Count(a => !a.IsTrip);
            if (state.Held) held++;
            if (state.Phase != Phase.Complete) incomplete++;
            var hearts = state.Phases.Where(p => p.Phase == "hearts").ToList();
            if (hearts.Any(p => p.CoolingMaxCelsius > DefaultRecipe.Create().Hearts.Cooling.MaximumCelsius)) heartsOverMaximum++;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"nuisance: {count} fault-free seeded batches in {TimeProvider.System.GetElapsedTime(started).TotalSeconds:0} s: {trips} trips, {warnings} warnings, {held} held, {incomplete} not completed, {heartsOverMaximum} with hearts over their cooling maximum"));
    }

    private static IReadOnlyList<FaultReaction> Run(Scenario scenario, int seed, out BatchState state)
    {
        var path = Path.Combine(Path.GetTempPath(), $"stillcontrol-bench-safety-{Environment.ProcessId}.db");
        try
        {
            var clock = new SimulationClock(new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero));
            var schedule = new FaultSchedule();
            var still = new SimulatedStill(scenario, schedule, seed);
            using var journal = new BatchJournal(path, TimeProvider.System, TimeSpan.FromMilliseconds(100));
            var options = new ControlOptions();
            var cycle = new ControlCycle(still, still, DefaultRecipe.Create(), journal, clock, options, NullLogger<ControlCycle>.Instance);
            var watch = new FaultReactionWatch(scenario, schedule, still);
            cycle.AddObserver(new SimulatedDistiller(still, schedule, scenario, resumeAfterPowerLoss: false, TimeSpan.FromHours(12)));
            cycle.AddObserver(watch);
            cycle.Start();
            while (!cycle.StopRequested)
            {
                clock.Advance(options.Period);
                cycle.Tick();
            }
            cycle.Stop();
            state = cycle.State;
            return watch.Reactions();
        }
        finally
        {
            foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(path + suffix);
        }
    }
}
