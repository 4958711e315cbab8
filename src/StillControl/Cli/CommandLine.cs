using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StillControl.Hosting;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Reports;
using StillControl.Simulation;

namespace StillControl.Cli;

/// <summary>What <c>simulate --json</c> prints: the batch record plus the run's own figures.</summary>
public sealed record SimulationResult(
    string BatchId, string Outcome, string EndReason, int Seed, IReadOnlyList<PhaseReport> Phases, IReadOnlyList<FractionReport> Fractions,
    IReadOnlyList<AlarmReport> Alarms, IReadOnlyList<ActionReport> OperatorActions, double? InterlockLatencyMs, double SimulatedSeconds, double WallSeconds,
    double ProcessWallSeconds, double ControlPeriodMs, string Journal, IReadOnlyList<FaultReaction> FaultReactions, double VentedEthanolKilograms);

public sealed record ProbeLine(string Channel, string Key, string Status, double? Value, string Unit, string? Fault, string? Detail);
public sealed record ProbeBus(string Name, string Health);
public sealed record ProbeReport(int Round, DateTimeOffset At, IReadOnlyList<ProbeLine> Channels, IReadOnlyList<string> UnusedOneWire, IReadOnlyList<ProbeBus> Buses,
    IReadOnlyList<string> NotOpened, bool Faulted);

public static class CommandLine
{
    public const string Usage = """
        stillcontrol: process control for a baijiu steam still

          stillcontrol simulate [--recipe F] [--scenario F] [--speed N|max] [--seed N] [--journal PATH] [--resume] [--json] [--verbose]
                                [--mqtt embedded[:PORT]|HOST[:PORT]|off] [--influx URL]
              Runs one batch on a simulated still (default speed: max). --resume continues the journal's interrupted batch.
          stillcontrol run [--config FILE]      the control service (Hardware:Mode Simulated or Pi)
          stillcontrol probe [--config FILE] [--rounds N] [--interval-ms N] [--json]
              Every configured sensor's reading or fault reason, unused 1-Wire thermometers, bus frame counters.
              Exit 3 when a configured sensor is missing or faulted.
          stillcontrol safe [--config FILE]     outputs to their safe state (systemd ExecStopPost)
          stillcontrol recipe show [--recipe F] [--json]
          stillcontrol recipe check FILE
          stillcontrol batches [--journal PATH] [--from DATE] [--to DATE] [--still NAME] [--recipe NAME]
                               [--outcome completed|aborted|held|unfinished|running|interrupted] [--alarm CODE] [--json]
              Newest first. Dates are UTC days (--to includes its day) or ISO 8601 times.
          stillcontrol batch ID [--journal PATH] [--json]
          stillcontrol report ID [--journal PATH] [--out FILE]      one self-contained HTML file with charts
          stillcontrol export ID --format csv|json [--table samples|events|fractions|all] [--journal PATH] [--out FILE]
          stillcontrol compare ID ID [ID...] [--journal PATH] [--out FILE.html] [--json]
          stillcontrol --version                prints 'stillcontrol VERSION'

        Exit codes: 0 ran, 3 probe found a sensor missing or faulted, 2 bad input (the message names the file, key, value and what is accepted), 1 internal error.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        try
        {
            if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
            {
                output.WriteLine(Usage);
                return args.Length == 0 ? 2 : 0;
            }
            if (args[0] is "--version")
            {
                output.WriteLine(ProgramVersion.Text);
                return 0;
            }
            var rest = args.Skip(1).ToArray();
            return args[0] switch
            {
                "simulate" => await SimulateAsync(rest, output, error),
                "run" => await RunServiceAsync(rest, error),
                "recipe" => Recipe(rest, output),
                "batches" => Batches(rest, output),
                "batch" => Batch(rest, output),
                "probe" => Probe(rest, output),
                "report" => Report(rest, output, error),
                "export" => Export(rest, output, error),
                "compare" => Compare(rest, output, error),
                "safe" => Safe(rest, output, error),
                _ => throw new BadInputException($"unknown command '{args[0]}'; accepted: simulate, run, probe, safe, recipe, batches, batch, report, export, compare (see --help)"),
            };
        }
        catch (BadInputException ex)
        {
            error.WriteLine($"stillcontrol: {ex.Message}");
            return 2;
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures) error.WriteLine($"stillcontrol: configuration: {failure}");
            return 2;
        }
        catch (Sensors.HardwareStartException ex)
        {
            error.WriteLine($"stillcontrol: hardware: {ex.Message}");
            return 2;
        }
        catch (JournalInUseException ex)
        {
            error.WriteLine($"stillcontrol: {ex.Message}");
            return 2;
        }
        catch (Exception ex)
        {
            error.WriteLine($"stillcontrol: internal error: {ex}");
            return 1;
        }
    }

    private static async Task<int> SimulateAsync(string[] args, TextWriter output, TextWriter error)
    {
        var a = Arguments.Parse(args, "simulate", ["--resume", "--json", "--verbose"], ["--recipe", "--scenario", "--speed", "--seed", "--journal", "--period-ms", "--mqtt", "--influx"]);
        if (a.Positionals.Count > 0) throw new BadInputException($"simulate: unexpected argument '{a.Positionals[0]}'");
        var json = a.Has("--json");
        var resume = a.Has("--resume");
        var scenario = Files.LoadScenario(a.Value("--scenario"));
        var speed = ParseSpeed(a.Value("--speed"));
        var seed = a.Value("--seed") is { } seedText
            ? int.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : throw new BadInputException($"simulate: --seed = '{seedText}': a whole number")
            : scenario.Seed ?? 1;
        var journalPath = a.Value("--journal") ?? "stillcontrol.db";
        var logLevel = a.Has("--verbose") ? "Information" : "Error";
        var overrides = new Dictionary<string, string?>
        {
            ["Journal:Path"] = journalPath,
            // The simulation prints its own progress; the host's log speaks only of failures unless asked.
            ["Logging:LogLevel:Default"] = logLevel,
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = logLevel,
        };
        if (a.Value("--period-ms") is { } period) overrides["Control:PeriodMilliseconds"] = period;
        if (a.Value("--influx") is { } influx) overrides["Influx:Url"] = influx;
        // The simulated still publishes like a real one: to an embedded broker on loopback unless told otherwise.
        var mqtt = a.Value("--mqtt") ?? "embedded";
        if (mqtt == "off")
        {
            overrides["Mqtt:Enabled"] = "false";
        }
        else
        {
            // --mqtt embedded[:PORT]: a broker inside the simulation on loopback (1883); --mqtt HOST[:PORT]: that broker.
            overrides["Mqtt:Enabled"] = "true";
            if (mqtt.StartsWith("embedded", StringComparison.Ordinal))
            {
                if (mqtt.Length > "embedded".Length) overrides["Mqtt:EmbeddedPort"] = mqtt["embedded:".Length..];
            }
            else
            {
                var colon = mqtt.LastIndexOf(':');
                overrides["Mqtt:Host"] = colon > 0 ? mqtt[..colon] : mqtt;
                if (colon > 0) overrides["Mqtt:Port"] = mqtt[(colon + 1)..];
            }
        }

        var recipe = Files.LoadRecipe(a.Value("--recipe"));
        var start = new DateTimeOffset(DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        if (resume && !File.Exists(journalPath)) throw new BadInputException($"journal {journalPath}: no such file");
        using var journalLock = JournalLock.Acquire(journalPath);
        using (var journal = OpenJournal(journalPath, mustExist: resume))
        {
            var unfinished = journal.FindUnfinished();
            if (unfinished is { } found && !resume)
            {
                throw new BadInputException($"simulate: journal {journalPath} holds unfinished batch {found.Id} ({found.State.Phase.Name()}); pass --resume to continue it, or choose another --journal");
            }
            if (unfinished is null && resume)
            {
                throw new BadInputException($"simulate: --resume: journal {journalPath} holds no unfinished batch");
            }
            if (unfinished is { } interrupted)
            {
                // The batch goes on with the recipe it started on, from where the journal last saw it.
                var (stored, errors) = RecipeJson.Parse(interrupted.RecipeJson);
                recipe = stored ?? throw new BadInputException($"simulate: journal {journalPath}: batch {interrupted.Id}'s recipe no longer validates: {string.Join("; ", errors)}");
                start = (interrupted.State.LastStepAt ?? start) + TimeSpan.FromSeconds(5);
            }
        }

        var progress = json ? error : output;
        var statusEvery = speed is { } pace && pace <= 20 ? TimeSpan.FromSeconds(10) : TimeSpan.FromMinutes(5);
        CheckConfiguration(overrides);
        var setup = new SimulationSetup(scenario, seed, speed, resume, start, progress, statusEvery, RealTime: false);
        using var host = StillHost.Build([], overrides, recipe, setup, a.Has("--verbose") ? LogLevel.Information : LogLevel.Error);
        ValidateOptions(host.Services);

        var wall = Stopwatch.StartNew();
        await host.StartAsync();
        await host.WaitForShutdownAsync();
        wall.Stop();

        var outcome = host.Services.GetRequiredService<ServiceOutcome>();
        if (JournalFull(outcome.Failure) is { } full)
        {
            error.WriteLine($"stillcontrol: journal-full: journal {journalPath} cannot be written ({full}): outputs safe; the batch is kept as last committed and comes back held; free space, then 'simulate --resume'");
            return JournalFullExitCode;
        }
        if (outcome.Failure is { } failure)
        {
            error.WriteLine($"stillcontrol: internal error in the control loop (outputs were set safe): {failure}");
            return 1;
        }
        var cycle = host.Services.GetRequiredService<ControlCycle>();
        var distiller = host.Services.GetRequiredService<SimulatedDistiller>();
        var reactions = host.Services.GetRequiredService<FaultReactionWatch>().Reactions();
        // The interlock latency is the worst time from a fault's onset in the simulated world to steam shut at the still (sampling
        // delay included); a fault the steam never shut for is shown in faultReactions, never hidden as no figure. Without faults,
        // the figure is the cycle's own: from the reading that showed a trip's cause to steam commanded closed.
        var latency = reactions.Any(r => r.SteamOpenAtOnset)
            ? reactions.Where(r => r.SteamOpenAtOnset).Select(r => r.ClosedMs ?? double.PositiveInfinity).Max()
            : cycle.InterlockLatencyMaxMilliseconds;
        var state = cycle.State;
        var report = BatchReport.From(state, recipe.Name);
        var now = host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        var result = new SimulationResult(
            report.BatchId, report.Outcome == "running" ? "unfinished" : report.Outcome,
            distiller.EndReason ?? $"stopped before the batch ended; outputs safe; 'simulate --resume --journal {journalPath}' continues it", seed,
            report.Phases, report.Fractions, report.Alarms, report.OperatorActions,
            latency is { } worst && double.IsFinite(worst) ? Math.Round(worst, 1) : null,
            Math.Round(((state.EndedAt ?? now) - (state.StartedAt ?? start)).TotalSeconds, 1),
            Math.Round(outcome.LoopWallTime.TotalSeconds, 3),
            Math.Round(wall.Elapsed.TotalSeconds, 3),
            host.Services.GetRequiredService<ControlOptions>().Period.TotalMilliseconds,
            journalPath, reactions, Math.Round(host.Services.GetRequiredService<SimulatedStill>().Model.State.EthanolLostKilograms, 3));
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(result, BatchReport.JsonOptions));
        }
        else
        {
            output.WriteLine();
            output.Write(report.ToText());
            output.WriteLine();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Simulation ended: {result.EndReason}. {result.SimulatedSeconds:0} s simulated in {result.WallSeconds:0.00} s ({result.SimulatedSeconds / Math.Max(result.WallSeconds, 1e-6):0}x real time; {result.ProcessWallSeconds:0.00} s with host start and stop); " +
                $"largest interlock latency {LatencyText(result)}; journal {journalPath}"));
        }
        return 0;
    }

    private static string LatencyText(SimulationResult result)
    {
        var open = result.FaultReactions.FirstOrDefault(r => r.SteamOpenAtOnset && r.ClosedMs is null);
        if (open is not null) return string.Create(CultureInfo.InvariantCulture, $"none: steam never shut after {open.Kind} at {open.OnsetSeconds:0} s");
        return result.InterlockLatencyMs is { } l ? string.Create(CultureInfo.InvariantCulture, $"{l:0} ms") : "— (no trip)";
    }

    private static async Task<int> RunServiceAsync(string[] args, TextWriter error)
    {
        var a = Arguments.Parse(args, "run", [], ["--config", "--recipe", "--scenario", "--journal"]);
        var (root, overrides) = LoadConfiguration("run", a.Value("--config"));
        if (a.Value("--journal") is { } journal) overrides["Journal:Path"] = journal;
        var recipe = Files.LoadRecipe(a.Value("--recipe") ?? root["Recipe:Path"]);
        var scenario = Files.LoadScenario(a.Value("--scenario") ?? root["Simulation:ScenarioPath"]);
        var seed = int.TryParse(root["Simulation:Seed"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : scenario.Seed ?? 1;
        CheckConfiguration(overrides);
        var setup = new SimulationSetup(scenario, seed, 1, Resume: false, DateTimeOffset.UtcNow, null, TimeSpan.FromMinutes(1), RealTime: true);
        using var host = StillHost.Build([], overrides, recipe, setup, LogLevel.Information);
        ValidateOptions(host.Services);
        // One service per journal, and so per still: a second one is refused before it touches any output.
        using var journalLock = JournalLock.Acquire(host.Services.GetRequiredService<IOptions<JournalOptions>>().Value.Path);
        // Open the wiring now, outputs first (they go safe as they open): a device that is missing or a port that will not open
        // fails here, naming its key; every such failure is reported at once.
        var failures = new List<string>();
        foreach (var open in new Action[] { () => host.Services.GetRequiredService<Actuators.IActuators>(), () => host.Services.GetRequiredService<Sensors.ISensorBank>() })
        {
            try
            {
                open();
            }
            catch (Sensors.HardwareStartException ex)
            {
                failures.Add(ex.Message);
            }
        }
        if (failures.Count > 0)
        {
            throw new Sensors.HardwareStartException(string.Join(Environment.NewLine + "stillcontrol: hardware: ", failures));
        }
        await host.StartAsync();
        await host.WaitForShutdownAsync();
        var serviceFailure = host.Services.GetRequiredService<ServiceOutcome>().Failure;
        if (JournalFull(serviceFailure) is { } full)
        {
            var path = host.Services.GetRequiredService<IOptions<JournalOptions>>().Value.Path;
            error.WriteLine($"stillcontrol: journal-full: journal {path} cannot be written ({full}): outputs safe; the batch is kept as last committed and comes back held; free space, then start the service again");
            return JournalFullExitCode;
        }
        if (serviceFailure is { } failure)
        {
            error.WriteLine($"stillcontrol: control loop failed (outputs were set safe): {failure.Message}");
            return 1;
        }
        return 0;
    }

    /// <summary>The journal's disk is full: not a crash to restart from (systemd's RestartPreventExitStatus names it), a person must free space.</summary>
    public const int JournalFullExitCode = 4;

    private static string? JournalFull(Exception? failure)
    {
        for (var e = failure; e is not null; e = e.InnerException)
        {
            // SQLITE_FULL (13), or the file system's ENOSPC (28) as .NET reports it.
            if (e is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 13 } sqlite) return sqlite.Message;
            if (e is IOException io && (io.HResult & 0xFFFF) == 28) return io.Message;
            if (e is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 10 } ioError && ioError.Message.Contains("disk", StringComparison.OrdinalIgnoreCase)) return ioError.Message;
        }
        return null;
    }

    /// <summary>appsettings.json beside the program, then the --config file, then STILLCONTROL_ environment variables (secrets).</summary>
    private static (IConfigurationRoot Root, Dictionary<string, string?> Overrides) LoadConfiguration(string verb, string? file)
    {
        if (file is not null && !File.Exists(file))
        {
            throw new BadInputException($"{verb}: --config {file}: no such file");
        }
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true);
        if (file is not null)
        {
            configuration.AddJsonFile(Path.GetFullPath(file), optional: false);
        }
        configuration.AddEnvironmentVariables("STILLCONTROL_");
        IConfigurationRoot root;
        try
        {
            root = configuration.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException)
        {
            throw new BadInputException($"{verb}: {(file is null ? "configuration" : $"--config {file}")} is not valid JSON ({ex.Message})");
        }
        var overrides = new Dictionary<string, string?>();
        foreach (var pair in root.AsEnumerable())
        {
            if (pair.Value is not null) overrides[pair.Key] = pair.Value;
        }
        if (file is not null)
        {
            overrides["ConfigDirectory"] = Path.GetDirectoryName(Path.GetFullPath(file));
        }
        return (root, overrides);
    }

    /// <summary>The Pi wiring from a configuration, checked: every bad key named, exit 2.</summary>
    private static (Sensors.PiPlan Plan, Recipes.Recipe Recipe, IConfigurationRoot Root) LoadPlan(string verb, string? file)
    {
        var (root, overrides) = LoadConfiguration(verb, file);
        CheckConfiguration(overrides);
        var hardware = root.GetSection(HardwareOptions.Section).Get<HardwareOptions>() ?? new HardwareOptions();
        if (hardware.Mode != "Pi")
        {
            throw new BadInputException($"{verb}: Hardware:Mode = \"{hardware.Mode}\": {verb} needs the Pi's wiring (Hardware:Mode = \"Pi\" and its Inputs and Outputs)");
        }
        var recipe = Files.LoadRecipe(root["Recipe:Path"]);
        var (plan, errors) = Sensors.PiPlan.Resolve(hardware, recipe, overrides.GetValueOrDefault("ConfigDirectory"), forService: false);
        if (plan is null)
        {
            throw new OptionsValidationException(HardwareOptions.Section, typeof(HardwareOptions), errors);
        }
        return (plan, recipe, root);
    }

    /// <summary>
    /// Every configured sensor with its reading or its fault reason (judged by the same quality layer as the control loop),
    /// thermometers found on the 1-Wire bus that no channel uses, and each bus's frame counters. Exit 3 when a configured
    /// sensor is missing or faulted.
    /// </summary>
    private static int Probe(string[] args, TextWriter output)
    {
        var a = Arguments.Parse(args, "probe", ["--json"], ["--config", "--rounds", "--interval-ms"]);
        var rounds = ParseCount(a.Value("--rounds"), "--rounds", 1, 100_000, 1);
        var interval = ParseCount(a.Value("--interval-ms"), "--interval-ms", 0, 600_000, 1000);
        var (plan, recipe, _) = LoadPlan("probe", a.Value("--config"));
        using var devices = new Sensors.PiDevices();
        using var bank = new Sensors.PiSensorBank(plan, devices, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, inline: true, strict: false);
        var readings = new ReadingSnapshot();
        var memory = new SignalMemory[Channels.Count];
        var faulted = false;
        for (var round = 1; round <= rounds; round++)
        {
            if (round > 1) Thread.Sleep(interval);
            bank.PollAll();
            var now = DateTimeOffset.UtcNow;
            bank.Read(readings, now);
            SignalCheck.Update(readings, memory, recipe, now);
            faulted = false;
            var lines = new List<ProbeLine>();
            foreach (var channel in bank.ConfiguredChannels)
            {
                var m = memory[(int)channel];
                var good = m.Status == ReadingQuality.Good;
                faulted |= !good;
                lines.Add(new ProbeLine(channel.Name(), plan.KeyOf[channel], good ? "ok" : "fault", good ? m.Value : null, channel.Unit(),
                    good ? null : m.Status == ReadingQuality.NotConfigured ? "not-opened" : m.Fault.Name(), bank.Latest.Detail(channel)));
            }
            var configuredIds = plan.OneWire.Select(o => o.Id).ToHashSet();
            var unused = Sensors.OneWireSource.Discover().Where(d => !configuredIds.Contains(d.DeviceId)).Select(d => $"{d.BusId}/{d.DeviceId}").ToArray();
            var buses = bank.Sources.Where(src => src.Health is not null).Select(src => new ProbeBus(src.Name, src.Health!)).ToArray();
            faulted |= bank.Failures.Count > 0;
            if (a.Has("--json"))
            {
                output.WriteLine(JsonSerializer.Serialize(new ProbeReport(round, now, lines, unused, buses, bank.Failures, faulted), JsonLines));
                output.Flush();
                continue;
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"probe round {round} at {now:u}"));
            foreach (var line in lines)
            {
                var value = line.Value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:0.###} {line.Unit}") : $"FAULT {line.Fault}";
                output.WriteLine($"  {line.Channel,-16} {value,-24} {line.Key}  {line.Detail}");
            }
            foreach (var id in unused) output.WriteLine($"  (unused 1-Wire thermometer {id})");
            foreach (var bus in buses) output.WriteLine($"  {bus.Name}: {bus.Health}");
            foreach (var failure in bank.Failures) output.WriteLine($"  NOT OPENED {failure}");
            output.Flush();
        }
        return faulted ? 3 : 0;
    }

    /// <summary>Drives every output to its safe state and exits: systemd's ExecStopPost, after any stop, crash or kill.</summary>
    private static int Safe(string[] args, TextWriter output, TextWriter error)
    {
        var a = Arguments.Parse(args, "safe", [], ["--config"]);
        var (plan, _, _) = LoadPlan("safe", a.Value("--config"));
        using var devices = new Sensors.PiDevices();
        using var buses = new Sensors.Modbus.ModbusBuses(plan, devices);
        // Best effort: an output that cannot be opened must not keep the others from going safe.
        using var actuators = new Actuators.PiActuators(plan, devices, TimeProvider.System, buses, bestEffort: true);
        actuators.SetSafe();
        buses.FlushAll();
        // A bus module that did not acknowledge its safe value is as much a failure as one that could not be opened.
        var failures = actuators.Failures.Concat(actuators.OutputFaults).ToList();
        if (failures.Count > 0)
        {
            foreach (var failure in failures) error.WriteLine($"stillcontrol: safe: could not drive {failure}");
            output.WriteLine("outputs that took their safe value are safe; the others rely on their fail-safe wiring (see above)");
            return 1;
        }
        output.WriteLine("outputs safe: steam closed, cooling open, receivers closed, horn and beacon on");
        return 0;
    }

    /// <summary>One JSON object per line (probe rounds), so a reader can act on each as it comes.</summary>
    private static readonly JsonSerializerOptions JsonLines = new(BatchReport.JsonOptions) { WriteIndented = false };

    private static int ParseCount(string? text, string name, int minimum, int maximum, int fallback) =>
        text is null ? fallback
            : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= minimum && n <= maximum ? n
            : throw new BadInputException($"{name} = '{text}': a whole number from {minimum} to {maximum}");

    private static int Recipe(string[] args, TextWriter output)
    {
        if (args.Length == 0 || args[0] is not ("show" or "check"))
        {
            throw new BadInputException("recipe: say 'recipe show [--recipe F] [--json]' or 'recipe check FILE'");
        }
        if (args[0] == "check")
        {
            var a = Arguments.Parse(args.Skip(1), "recipe check", [], []);
            if (a.Positionals.Count != 1) throw new BadInputException("recipe check: give exactly one recipe file");
            var recipe = Files.LoadRecipe(a.Positionals[0]);
            output.WriteLine($"recipe {a.Positionals[0]}: valid ({recipe.Name})");
            return 0;
        }
        var show = Arguments.Parse(args.Skip(1), "recipe show", ["--json"], ["--recipe"]);
        var effective = Files.LoadRecipe(show.Value("--recipe"));
        output.WriteLine(show.Has("--json") ? RecipeJson.Serialize(effective) : RecipeText.Describe(effective));
        return 0;
    }

    private static int Batches(string[] args, TextWriter output)
    {
        var a = Arguments.Parse(args, "batches", ["--json"], ["--journal", "--from", "--to", "--still", "--recipe", "--outcome", "--alarm"]);
        if (a.Positionals.Count > 0) throw new BadInputException($"batches: unexpected argument '{a.Positionals[0]}' (filters: --from, --to, --still, --recipe, --outcome, --alarm)");
        var outcome = a.Value("--outcome");
        if (outcome is not null && !JournalQuery.Outcomes.Contains(outcome))
        {
            throw new BadInputException($"batches: --outcome = '{outcome}': one of {string.Join(", ", JournalQuery.Outcomes)}");
        }
        var filter = new BatchFilter(ParseDate(a.Value("--from"), "--from", endOfDay: false), ParseDate(a.Value("--to"), "--to", endOfDay: true),
            a.Value("--still"), a.Value("--recipe"), outcome, a.Value("--alarm"));
        var path = a.Value("--journal") ?? "stillcontrol.db";
        using var journal = OpenQuery(path);
        var batches = journal.List(filter);
        if (a.Has("--json"))
        {
            output.WriteLine(JsonSerializer.Serialize(batches, BatchReport.JsonOptions));
            return 0;
        }
        if (batches.Count == 0)
        {
            output.WriteLine(journal.HasTables && journal.List(new BatchFilter()).Count > 0 ? $"journal {path}: no batch matches" : $"journal {path}: no batches yet");
            return 0;
        }
        output.WriteLine($"{"batch",-30} {"still",-10} {"started (UTC)",-20} {"ended (UTC)",-20} {"outcome",-11} {"phase",-9} {"trips",5} {"warn",5}  recipe");
        foreach (var b in batches)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{b.Id,-30} {b.Still,-10} {b.StartedAt.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {(b.EndedAt is { } e ? e.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "—"),-20} {(b.Activity is { } act && b.Outcome == "unfinished" ? act : b.Activity is { } held ? $"{b.Outcome}, {held}" : b.Outcome),-11} {b.Phase,-9} {b.Trips,5} {b.Warnings,5}  {b.Recipe}"));
        }
        if (batches.Any(b => b.Activity == "interrupted"))
        {
            output.WriteLine("(interrupted: no service has this journal open; the batch comes back held with a power-loss alarm when 'run' or 'simulate --resume' next opens it)");
        }
        return 0;
    }

    private static DateTimeOffset? ParseDate(string? text, string name, bool endOfDay)
    {
        if (text is null) return null;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            // The last day there is ends at the end of time, not one day after it.
            return endOfDay ? day == DateOnly.MaxValue ? DateTimeOffset.MaxValue : start.AddDays(1) : start;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }
        throw new BadInputException($"batches: {name} = '{text}': a date (2026-11-28, UTC, {(endOfDay ? "the whole day included" : "from its start")}) or a date and time (2026-11-28T06:00:00Z)");
    }

    private static JournalQuery OpenQuery(string path)
    {
        try
        {
            return new JournalQuery(path);
        }
        catch (FileNotFoundException)
        {
            throw new BadInputException($"journal {path}: no such file");
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            throw new BadInputException($"journal {path}: not a usable SQLite journal ({ex.Message})");
        }
    }

    /// <summary>Loads batches for review: an unknown id, an empty journal, or an unfinished batch each get their own message.</summary>
    private static List<BatchReview> Reviews(string verb, JournalQuery journal, IEnumerable<string> ids, TextWriter error)
    {
        if (!journal.HasTables || journal.List(new BatchFilter()).Count == 0)
        {
            throw new BadInputException($"{verb}: journal {journal.Path} holds no batches yet");
        }
        var reviews = new List<BatchReview>();
        var damaged = new List<string>();
        foreach (var id in ids)
        {
            BatchReview? loaded;
            try
            {
                loaded = BatchReview.Load(journal, id);
            }
            catch (JournalQuery.DamagedRowException ex)
            {
                // One damaged row: named, skipped, and the rest reviewed.
                error.WriteLine($"stillcontrol: {verb}: warning: {ex.Message}");
                damaged.Add(id);
                continue;
            }
            var review = loaded
                ?? throw new BadInputException($"{verb}: journal {journal.Path} has no batch '{id}' ('stillcontrol batches --journal {journal.Path}' lists them)");
            if (!review.Finished)
            {
                error.WriteLine($"stillcontrol: {verb}: batch {id} has not ended ({review.Outcome}; {review.ActivityText}): reporting up to {review.AsOf.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
            }
            reviews.Add(review);
        }
        if (reviews.Count == 0 || (verb == "compare" && reviews.Count < 2))
        {
            throw new BadInputException($"{verb}: nothing left to review: batch {string.Join(", ", damaged)} cannot be read (see the warning above)");
        }
        return reviews;
    }

    private static int Report(string[] args, TextWriter output, TextWriter error)
    {
        var a = Arguments.Parse(args, "report", [], ["--journal", "--out"]);
        if (a.Positionals.Count != 1) throw new BadInputException("report: give one batch id (see 'stillcontrol batches')");
        using var journal = OpenQuery(a.Value("--journal") ?? "stillcontrol.db");
        var review = Reviews("report", journal, a.Positionals, error)[0];
        var html = HtmlReport.Report(review);
        return WriteOut(a.Value("--out"), html, output, "report");
    }

    private static int Compare(string[] args, TextWriter output, TextWriter error)
    {
        var a = Arguments.Parse(args, "compare", ["--json"], ["--journal", "--out"]);
        if (a.Positionals.Count < 2) throw new BadInputException("compare: give two or more batch ids (see 'stillcontrol batches')");
        if (a.Positionals.Distinct().Count() != a.Positionals.Count) throw new BadInputException("compare: a batch id is given twice");
        using var journal = OpenQuery(a.Value("--journal") ?? "stillcontrol.db");
        var reviews = Reviews("compare", journal, a.Positionals, error);
        var table = ComparisonTable.From(reviews);
        if (a.Value("--out") is { } file)
        {
            WriteOut(file, HtmlReport.Compare(reviews, table), output, "compare");
        }
        output.Write(a.Has("--json") ? JsonSerializer.Serialize(table, BatchReport.JsonOptions) + Environment.NewLine : table.ToText());
        return 0;
    }

    private static int Export(string[] args, TextWriter output, TextWriter error)
    {
        var a = Arguments.Parse(args, "export", [], ["--journal", "--out", "--format", "--table"]);
        if (a.Positionals.Count != 1) throw new BadInputException("export: give one batch id (see 'stillcontrol batches')");
        var format = a.Value("--format") ?? "csv";
        if (format is not ("csv" or "json")) throw new BadInputException($"export: --format = '{format}': csv or json");
        var file = a.Value("--out");
        CheckWritable("export", file);
        var table = a.Value("--table") ?? (file is null ? "samples" : "all");
        if (table != "all" && !BatchExport.Tables.Contains(table)) throw new BadInputException($"export: --table = '{table}': {string.Join(", ", BatchExport.Tables)} or all");
        if (format == "json" && a.Value("--table") is not null) throw new BadInputException("export: --table is for csv; json holds samples, events and fractions together");
        if (format == "csv" && table == "all" && file is null) throw new BadInputException("export: csv to standard output is one table: add --table samples|events|fractions, or --out FILE for all three");
        using var journal = OpenQuery(a.Value("--journal") ?? "stillcontrol.db");
        var review = Reviews("export", journal, a.Positionals, error)[0];
        if (format == "json")
        {
            using var stream = file is null ? Console.OpenStandardOutput() : Create("export", file);
            if (file is null) output.Flush();
            BatchExport.WriteJson(review, stream);
            if (file is not null) output.WriteLine($"export: wrote {file}");
            return 0;
        }
        if (file is null)
        {
            BatchExport.WriteCsv(review, table, output);
            return 0;
        }
        foreach (var t in table == "all" ? BatchExport.Tables : [table])
        {
            // FILE.csv with all three tables: FILE-samples.csv, FILE-events.csv, FILE-fractions.csv.
            var path = table == "all" ? System.IO.Path.ChangeExtension(file, null) + $"-{t}.csv" : file;
            using (var writer = new StreamWriter(Create("export", path), new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true)))
            {
                BatchExport.WriteCsv(review, t, writer);
            }
            output.WriteLine($"export: wrote {path}");
        }
        return 0;
    }

    private static void CheckWritable(string verb, string? file)
    {
        if (file is not null && Directory.Exists(file))
        {
            throw new BadInputException($"{verb}: --out {file} is a folder: give a file name in it");
        }
    }

    /// <summary>Creates an output file; a path that cannot be written is bad input naming it, not an internal error.</summary>
    private static FileStream Create(string verb, string file)
    {
        try
        {
            return File.Create(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BadInputException($"{verb}: --out {file}: cannot be written ({ex.Message})");
        }
    }

    private static int WriteOut(string? file, string content, TextWriter output, string verb)
    {
        if (file is null)
        {
            output.Write(content);
            return 0;
        }
        CheckWritable(verb, file);
        using (var stream = Create(verb, file))
        using (var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false)))
        {
            writer.Write(content);
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{verb}: wrote {file} ({new FileInfo(file).Length / 1024.0:0} KiB)"));
        return 0;
    }

    private static int Batch(string[] args, TextWriter output)
    {
        var a = Arguments.Parse(args, "batch", ["--json"], ["--journal"]);
        if (a.Positionals.Count != 1) throw new BadInputException("batch: give one batch id (see 'stillcontrol batches')");
        var path = a.Value("--journal") ?? "stillcontrol.db";
        // Read-only, like the other review verbs: it never takes the write lock of a service running on this journal.
        using var journal = OpenQuery(path);
        var loaded = journal.Load(a.Positionals[0]) ?? throw new BadInputException($"batch: journal {path} has no batch '{a.Positionals[0]}'");
        var recipeName = JsonDocument.Parse(loaded.RecipeJson).RootElement.GetProperty("name").GetString() ?? "";
        var report = BatchReport.From(loaded.State, recipeName);
        if (loaded.Outcome == "unfinished" && report.Outcome == "running") report = report with { Outcome = "unfinished" };
        output.WriteLine(a.Has("--json") ? JsonSerializer.Serialize(report, BatchReport.JsonOptions) : report.ToText());
        return 0;
    }

    private static BatchJournal OpenJournal(string path, bool mustExist)
    {
        if (mustExist && !File.Exists(path)) throw new BadInputException($"journal {path}: no such file");
        try
        {
            return new BatchJournal(path, TimeProvider.System, TimeSpan.FromMilliseconds(100));
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            throw new BadInputException($"journal {path}: not a usable SQLite journal ({ex.Message})");
        }
    }

    private static double? ParseSpeed(string? text)
    {
        if (text is null or "max") return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var speed) && speed is >= 0.1 and <= 1_000_000)
        {
            return speed;
        }
        throw new BadInputException($"simulate: --speed = '{text}': 'max' or a number from 0.1 to 1000000 (times real time)");
    }

    /// <summary>Options are validated before the loop starts, so a bad value fails at boot naming its key; every bad key is named at once.</summary>
    /// <summary>Unknown keys and values of the wrong type, from every source, before the host binds anything: exit 2 naming each.</summary>
    private static void CheckConfiguration(IDictionary<string, string?> overrides)
    {
        var failures = ConfigurationSchema.Check(overrides);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException("StillControl", typeof(StillOptions), failures);
        }
    }

    private static void ValidateOptions(IServiceProvider services)
    {
        // Unknown keys and values of the wrong type first: the options below would bind them wrongly, or fail with a stack trace.
        var failures = ConfigurationSchema.Check(services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>());
        if (failures.Count > 0)
        {
            throw new OptionsValidationException("StillControl", typeof(StillOptions), failures);
        }
        void Check<T>() where T : class
        {
            try
            {
                _ = services.GetRequiredService<IOptions<T>>().Value;
            }
            catch (OptionsValidationException ex)
            {
                failures.AddRange(ex.Failures);
            }
        }
        Check<StillOptions>();
        Check<HardwareOptions>();
        Check<ControlLoopOptions>();
        Check<JournalOptions>();
        Check<SimulationOptions>();
        Check<Telemetry.MqttOptions>();
        Check<History.HistoryOptions>();
        if (failures.Count > 0)
        {
            throw new OptionsValidationException("StillControl", typeof(StillOptions), failures);
        }
    }
}
