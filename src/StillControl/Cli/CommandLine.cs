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
    double ProcessWallSeconds, double ControlPeriodMs, string Journal, IReadOnlyList<FaultReaction> FaultReactions, double VentedEthanolKilograms,
    double? RehearsalWallSeconds = null);

/// <summary>One round of <c>probe --json</c>; its parts come from <see cref="Sensors.SensorSurvey"/>, which the panel's commissioning page shares.</summary>
public sealed record ProbeReport(int Round, DateTimeOffset At, IReadOnlyList<Sensors.SurveyLine> Channels, IReadOnlyList<string> UnusedOneWire, IReadOnlyList<Sensors.SurveyBus> Buses,
    IReadOnlyList<string> NotOpened, bool Faulted);

public static class CommandLine
{
    /// <summary>Where a review verb's warnings about the journal itself go (the error writer of the running command).</summary>
    private static readonly AsyncLocal<TextWriter?> Warnings = new();

    /// <summary>Runs one command line: the verb and its options from <see cref="Commands.Table"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        Warnings.Value = error;
        try
        {
            return await CommandTable.Default.RunAsync(args, output, error);
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
        catch (Telemetry.MqttStartException ex)
        {
            error.WriteLine($"stillcontrol: mqtt: {ex.Message}");
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

    internal static async Task<int> SimulateAsync(Arguments a, TextWriter output, TextWriter error)
    {
        var json = a.Has("--json");
        var resume = a.Has("--resume");
        var scenario = Files.LoadScenario(a.Value("--scenario"));
        var panel = Panel.PanelOption.Parse(a.Value("--panel"), a.Value("--users"), a.Value("--distiller"));
        // A person works a batch from the panel at the pace of a real one, unless told otherwise.
        var speed = ParseSpeed(a.Value("--speed") ?? (panel.Port is null ? null : "1"));
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
        panel.AddTo(overrides);
        // A fleet of simulated stills against one broker, history database and plant: each under its own name and site.
        if (a.Value("--still") is { } stillName) overrides["Still:Name"] = stillName;
        if (a.Value("--site") is { } siteName) overrides["Still:Site"] = siteName;
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

        // --recipe, else the recipe last uploaded in the panel beside this journal, else the built-in one.
        var recipe = Panel.RecipeUploads.Starting(a.Value("--recipe"), null, journalPath);
        var given = ParseStart(a.Value("--start"));
        if (given is not null && resume) throw new BadInputException("simulate: --start is for a new batch; --resume continues the interrupted one from where the journal last saw it");
        var start = given ?? WholeSecond(DateTimeOffset.UtcNow);
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
        double? rehearsalWall = null;
        if (given is null && !resume && (speed ?? double.PositiveInfinity) > 1)
        {
            // Faster than real time: the batch is placed in the past so that it ends by now (never in the future: see Placement).
            var (span, rehearsed) = await RehearseAsync(overrides, recipe, scenario, seed);
            rehearsalWall = rehearsed;
            start = Placement(DateTimeOffset.UtcNow, span, speed);
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Placing the batch: a rehearsal found it lasts {span.TotalHours:0.00} h of simulated time, so it starts at {start:yyyy-MM-dd HH:mm:ss} UTC and ends by now (--start places it yourself)"));
        }
        else if (start > DateTimeOffset.UtcNow)
        {
            progress.WriteLine($"The journal's batch was last seen at {start.AddSeconds(-5):yyyy-MM-dd HH:mm:ss} UTC, after the wall clock (an older stillcontrol ran it ahead): it resumes once the wall clock gets there");
        }
        var setup = new SimulationSetup(scenario, seed, speed, resume, start, progress, statusEvery, RealTime: false) { ServePanel = panel.Port is not null };
        using var host = StillHost.Build([], overrides, recipe, setup, a.Has("--verbose") ? LogLevel.Information : LogLevel.Error);
        ValidateOptions(host.Services);
        ReportLostWriteAheadLog(journalLock, journalPath, host.Services, error);

        var wall = Stopwatch.StartNew();
        await host.StartAsync();
        if (panel.Port is not null) panel.Announce(host.Services, output);
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
            journalPath, reactions, Math.Round(host.Services.GetRequiredService<SimulatedStill>().Model.State.EthanolLostKilograms, 3),
            rehearsalWall is { } r ? Math.Round(r, 3) : null);
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
                $"largest interlock latency {LatencyText(result)}; journal {journalPath}{(result.RehearsalWallSeconds is { } rehearsal ? $"; placing rehearsal {rehearsal:0.00} s" : "")}"));
        }
        return 0;
    }

    /// <summary>
    /// Simulated time left over at the end of a placed batch: a batch that runs longer than rehearsed (a hold sent over MQTT, a
    /// resume after a kill) uses it up before simulated time has to wait for the wall clock.
    /// </summary>
    public static readonly TimeSpan PlacementMargin = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Where a batch that lasts <paramref name="span"/> of simulated time starts so that, run at <paramref name="speed"/> times real
    /// time (null: flat out) from <paramref name="now"/>, it ends by the wall clock: simulated time at wall time now + w is
    /// start + speed·w, which stays at or below now + w up to the end (w = span / speed) when start = now − span·(1 − 1/speed).
    /// A margin before that, whole seconds.
    /// </summary>
    public static DateTimeOffset Placement(DateTimeOffset now, TimeSpan span, double? speed)
    {
        var ahead = speed is { } x ? span * (1 - 1 / x) : span;
        return WholeSecond(now - ahead - PlacementMargin);
    }

    private static DateTimeOffset WholeSecond(DateTimeOffset t) => new(t.UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);

    /// <summary>
    /// The same batch (recipe, scenario, seed) run once flat out with nothing kept or published (a journal in a temporary folder,
    /// no MQTT, no history), from a start days in the past so the wall clock never holds it back: how much simulated time the
    /// loop runs, and the wall seconds it took.
    /// </summary>
    private static async Task<(TimeSpan Span, double WallSeconds)> RehearseAsync(Dictionary<string, string?> overrides, Recipes.Recipe recipe, Scenario scenario, int seed)
    {
        var folder = Directory.CreateTempSubdirectory("stillcontrol-rehearsal-");
        try
        {
            var quiet = overrides.Where(o => !o.Key.StartsWith("Mqtt:", StringComparison.Ordinal) && !o.Key.StartsWith("Influx:", StringComparison.Ordinal))
                .ToDictionary(o => o.Key, o => o.Value);
            quiet["Journal:Path"] = System.IO.Path.Combine(folder.FullName, "rehearsal.db");
            quiet["Mqtt:Enabled"] = "false";
            var from = WholeSecond(DateTimeOffset.UtcNow - TimeSpan.FromDays(3));
            var setup = new SimulationSetup(scenario, seed, null, false, from, null, TimeSpan.FromHours(1), RealTime: false);
            var wall = Stopwatch.StartNew();
            using (var host = StillHost.Build([], quiet, recipe, setup, LogLevel.None))
            {
                ValidateOptions(host.Services);
                await host.StartAsync();
                await host.WaitForShutdownAsync();
                if (host.Services.GetRequiredService<ServiceOutcome>().Failure is not null)
                {
                    // The batch itself will meet the failure and report it; placed as if it ran its longest, it still ends by now.
                    return (TimeSpan.FromHours(host.Services.GetRequiredService<IOptions<SimulationOptions>>().Value.MaximumSimulatedHours), wall.Elapsed.TotalSeconds);
                }
                return (host.Services.GetRequiredService<SimulationClock>().GetUtcNow() - from, wall.Elapsed.TotalSeconds);
            }
        }
        finally
        {
            try
            {
                folder.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A temporary folder left behind is no failure of the simulation.
            }
        }
    }

    private static DateTimeOffset? ParseStart(string? text)
    {
        if (text is null) return null;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            throw new BadInputException($"simulate: --start = '{text}': an ISO 8601 time such as 2026-11-28T06:00:00Z (UTC when no offset is given), not in the future");
        }
        if (at > DateTimeOffset.UtcNow)
        {
            throw new BadInputException($"simulate: --start = '{text}': {at:yyyy-MM-dd HH:mm:ss} UTC is in the future; simulated time never runs ahead of the wall clock");
        }
        return WholeSecond(at);
    }

    private static string LatencyText(SimulationResult result)
    {
        var open = result.FaultReactions.FirstOrDefault(r => r.SteamOpenAtOnset && r.ClosedMs is null);
        if (open is not null) return string.Create(CultureInfo.InvariantCulture, $"none: steam never shut after {open.Kind} at {open.OnsetSeconds:0} s");
        return result.InterlockLatencyMs is { } l ? string.Create(CultureInfo.InvariantCulture, $"{l:0} ms") : "— (no trip)";
    }

    internal static async Task<int> RunServiceAsync(Arguments a, TextWriter output, TextWriter error)
    {
        var (root, overrides) = LoadConfiguration("run", a.Value("--config"));
        if (a.Value("--journal") is { } journal) overrides["Journal:Path"] = journal;
        // --recipe, else the recipe last uploaded in the panel (kept beside the journal), else Recipe:Path, else the built-in one.
        var recipe = Panel.RecipeUploads.Starting(a.Value("--recipe"), root["Recipe:Path"], overrides.GetValueOrDefault("Journal:Path") ?? new JournalOptions().Path);
        var scenario = Files.LoadScenario(a.Value("--scenario") ?? root["Simulation:ScenarioPath"]);
        var seed = int.TryParse(root["Simulation:Seed"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : scenario.Seed ?? 1;
        CheckConfiguration(overrides);
        var setup = new SimulationSetup(scenario, seed, 1, Resume: false, DateTimeOffset.UtcNow, null, TimeSpan.FromMinutes(1), RealTime: true) { ServePanel = true };
        using var host = StillHost.Build([], overrides, recipe, setup, LogLevel.Information);
        ValidateOptions(host.Services);
        // One service per journal, and so per still: a second one is refused before it touches any output.
        using var journalLock = JournalLock.Acquire(host.Services.GetRequiredService<IOptions<JournalOptions>>().Value.Path);
        ReportLostWriteAheadLog(journalLock, host.Services.GetRequiredService<IOptions<JournalOptions>>().Value.Path, host.Services, error);
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

    /// <summary>A write-ahead log lost after an unclean stop: said on the console and raised as an alarm in the batch.</summary>
    /// <remarks>A damaged one is said even without an unfinished batch (the lost frames may have held its end); its alarm goes in the batch that resumes.</remarks>
    private static void ReportLostWriteAheadLog(JournalLock journalLock, string journalPath, IServiceProvider services, TextWriter error)
    {
        if (journalLock.WriteAheadLogDamage is { } damage)
        {
            var damaged = JournalLock.WriteAheadLogDamagedMessage(journalPath, damage, journalLock.DamagedCopy);
            error.WriteLine($"stillcontrol: warning: {damaged}");
            if (services.GetRequiredService<BatchJournal>().FindUnfinished() is not null)
            {
                services.GetRequiredService<ControlCycle>().Audit(new ControllerEvent(EventKind.AlarmRaised, DateTimeOffset.UtcNow, Phase.Idle, "journal-wal-damaged", damaged));
            }
        }
        if (journalLock.WriteAheadLogUnchecked is { } reason)
        {
            error.WriteLine($"stillcontrol: warning: {JournalLock.WriteAheadLogUncheckedMessage(journalPath, PrintableText.Of(reason))}");
        }
        if (!journalLock.WriteAheadLogLost || services.GetRequiredService<BatchJournal>().FindUnfinished() is null) return;
        var message = JournalLock.WriteAheadLogLostMessage(journalPath);
        error.WriteLine($"stillcontrol: warning: {message}");
        services.GetRequiredService<ControlCycle>().Audit(new ControllerEvent(EventKind.AlarmRaised, DateTimeOffset.UtcNow, Phase.Idle, "journal-wal-missing", message));
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
    internal static int Probe(Arguments a, TextWriter output, TextWriter error)
    {
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
            var lines = new List<Sensors.SurveyLine>();
            foreach (var channel in bank.ConfiguredChannels)
            {
                var line = Sensors.SensorSurvey.Line(channel, plan.KeyOf[channel], memory[(int)channel], bank.Latest.Detail(channel));
                faulted |= line.Status != "ok";
                lines.Add(line);
            }
            var unused = Sensors.SensorSurvey.OneWire(plan).Where(d => d.Channel is null).Select(d => $"{d.BusId}/{d.DeviceId}").ToArray();
            var buses = Sensors.SensorSurvey.Buses(bank);
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
    internal static int Safe(Arguments a, TextWriter output, TextWriter error)
    {
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

    internal static int RecipeCheck(Arguments a, TextWriter output, TextWriter error)
    {
        if (a.Positionals.Count != 1) throw new BadInputException("recipe check: give exactly one recipe file");
        var recipe = Files.LoadRecipe(a.Positionals[0]);
        output.WriteLine(Files.RecipeValid(a.Positionals[0], recipe));
        return 0;
    }

    internal static int RecipeShow(Arguments a, TextWriter output, TextWriter error)
    {
        var effective = Files.LoadRecipe(a.Value("--recipe"));
        output.WriteLine(a.Has("--json") ? RecipeJson.Serialize(effective) : RecipeText.Describe(effective));
        return 0;
    }

    internal static int Batches(Arguments a, TextWriter output, TextWriter error)
    {
        var outcome = a.Value("--outcome");
        if (outcome is not null && !JournalQuery.Outcomes.Contains(outcome))
        {
            throw new BadInputException($"batches: --outcome = '{outcome}': one of {string.Join(", ", JournalQuery.Outcomes)}");
        }
        var filter = new BatchFilter(ParseDate(a.Value("--from"), "--from", endOfDay: false), ParseDate(a.Value("--to"), "--to", endOfDay: true),
            a.Value("--still"), a.Value("--recipe"), outcome, a.Value("--alarm"), a.Value("--search"));
        using var journal = ArchiveSource.Open(a, "batches") ?? OpenQuery(a.Value("--journal") ?? "stillcontrol.db");
        var batches = journal.List(filter);
        if (a.Has("--json"))
        {
            output.WriteLine(JsonSerializer.Serialize(batches, BatchReport.JsonOptions));
            return 0;
        }
        if (batches.Count == 0)
        {
            output.WriteLine(journal.HasTables && journal.List(new BatchFilter()).Count > 0 ? $"{journal.Description}: no batch matches" : $"{journal.Description}: no batches yet");
            return 0;
        }
        // Columns as wide as their widest cell: a long id or recipe widens its column, never shifts the others.
        var c = CultureInfo.InvariantCulture;
        output.Write(TextTable.Render(
            ["batch", "still", "started (UTC)", "ended (UTC)", "outcome", "phase", "trips", "warn", "recipe"],
            batches.Select(b => (IReadOnlyList<string>)[
                b.Id, b.Still, b.StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", c),
                b.EndedAt is { } e ? e.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", c) : "—",
                b.Activity is { } act && b.Outcome == "unfinished" ? act : b.Activity is { } held ? $"{b.Outcome}, {held}" : b.Outcome,
                b.Phase, b.Trips.ToString(c), b.Warnings.ToString(c), b.Recipe]),
            [false, false, false, false, false, false, true, true, false]));
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
            var query = new JournalQuery(path);
            // Only a batch left unended can have been cut short (a service killed before it wrote anything loses nothing).
            if (JournalLock.LostWriteAheadLog(path) && query.HasUnendedBatch())
            {
                Warnings.Value?.WriteLine($"stillcontrol: warning: {JournalLock.WriteAheadLogLostMessage(path)}");
            }
            // A damaged log is read by hand: SQLite itself replays what it can and says nothing of the rest.
            if (JournalLock.DamagedWriteAheadLog(path) is { } damage)
            {
                Warnings.Value?.WriteLine($"stillcontrol: warning: {JournalLock.WriteAheadLogDamagedMessage(path, damage, null)}; the next service start keeps a copy of it");
            }
            return query;
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
    private static List<BatchReview> Reviews(string verb, IBatchSource journal, IEnumerable<string> ids, TextWriter error)
    {
        if (!journal.HasTables || journal.List(new BatchFilter()).Count == 0)
        {
            throw new BadInputException($"{verb}: {journal.Description} holds no batches yet");
        }
        ids = BatchIds.Resolve(verb, journal, ids);
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
                ?? throw new BadInputException($"{verb}: {journal.Description} has no batch '{id}' ('stillcontrol batches {journal.Option}' lists them)");
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

    internal static int Report(Arguments a, TextWriter output, TextWriter error)
    {
        if (a.Positionals.Count != 1) throw new BadInputException("report: give one batch id, or latest (see 'stillcontrol batches')");
        var file = a.Value("--out");
        CheckWritable("report", file);
        using var journal = ArchiveSource.Open(a, "report") ?? OpenQuery(a.Value("--journal") ?? "stillcontrol.db");
        var review = Reviews("report", journal, a.Positionals, error)[0];
        var html = HtmlReport.Report(review);
        if (file == "-")
        {
            output.Write(html);
            return 0;
        }
        // No --out: <batch id>.html in the current folder (ids carry only letters, digits and dashes), never the HTML on the terminal.
        return WriteOut(file ?? $"{review.Id}.html", html, output, "report");
    }

    internal static int Compare(Arguments a, TextWriter output, TextWriter error)
    {
        if (a.Positionals.Count < 2) throw new BadInputException("compare: give two or more batch ids, latest among them if you like (see 'stillcontrol batches')");
        CheckWritable("compare", a.Value("--out"));
        using var journal = ArchiveSource.Open(a, "compare") ?? OpenQuery(a.Value("--journal") ?? "stillcontrol.db");
        var ids = BatchIds.Resolve("compare", journal, a.Positionals);
        if (ids.Distinct().Count() != ids.Count)
        {
            var twice = ids.GroupBy(i => i).First(g => g.Count() > 1).Key;
            throw new BadInputException($"compare: batch {twice} is given twice{(a.Positionals.Contains(BatchIds.Latest) ? " (latest is " + ids[a.Positionals.IndexOf(BatchIds.Latest)] + ")" : "")}");
        }
        var reviews = Reviews("compare", journal, ids, error);
        var table = ComparisonTable.From(reviews);
        if (a.Value("--out") is { } file)
        {
            WriteOut(file, HtmlReport.Compare(reviews, table), output, "compare");
        }
        output.Write(a.Has("--json") ? JsonSerializer.Serialize(table, BatchReport.JsonOptions) + Environment.NewLine : ComparisonText(table));
        return 0;
    }

    internal static int Export(Arguments a, TextWriter output, TextWriter error)
    {
        if (a.Positionals.Count != 1) throw new BadInputException("export: give one batch id, or latest (see 'stillcontrol batches')");
        var file = a.Value("--out") is "-" ? null : a.Value("--out");
        var format = a.Value("--format") ?? FormatOf(file);
        if (format is not ("csv" or "json")) throw new BadInputException($"export: --format = '{format}': csv or json");
        // One table per file, written exactly where --out says.
        var table = a.Value("--table") ?? "samples";
        if (!BatchExport.Tables.Contains(table)) throw new BadInputException($"export: --table = '{table}': {string.Join(", ", BatchExport.Tables)}");
        CheckWritable("export", file);
        using var journal = ArchiveSource.Open(a, "export") ?? OpenQuery(a.Value("--journal") ?? "stillcontrol.db");
        var review = Reviews("export", journal, a.Positionals, error)[0];
        if (file is not null)
        {
            // The file's bytes come from one place, which the panel's download uses too.
            using var stream = Create("export", file);
            BatchExport.WriteFile(review, table, format, stream);
        }
        else if (format == "json")
        {
            using var buffer = new MemoryStream();
            BatchExport.WriteJson(review, buffer, table);
            output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        }
        else
        {
            BatchExport.WriteCsv(review, table, output);
        }
        if (file is not null) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"export: wrote {file} ({table} of {review.Id}, {format}, {new FileInfo(file).Length / 1024.0:0} KiB)"));
        return 0;
    }

    /// <summary>The format a file's extension names; anything else asks for --format.</summary>
    private static string FormatOf(string? file) => System.IO.Path.GetExtension(file)?.ToLowerInvariant() switch
    {
        ".csv" => "csv",
        ".json" => "json",
        _ when file is null => throw new BadInputException("export: give --format csv|json (standard output has no file extension to tell the format by)"),
        var other => throw new BadInputException($"export: --out {file}: the extension '{other}' does not tell the format: give --format csv|json, or name a .csv or .json file"),
    };

    /// <summary>The comparison as text: one row per figure, one column per batch, each column as wide as its widest cell.</summary>
    private static string ComparisonText(ComparisonTable table) =>
        TextTable.Render([" ", .. table.Batches], table.Rows.Select(r => (IReadOnlyList<string>)[r.Label, .. r.Cells]), [false, .. table.Batches.Select(_ => true)]);

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

    private static int WriteOut(string file, string content, TextWriter output, string verb)
    {
        CheckWritable(verb, file);
        using (var stream = Create(verb, file))
        using (var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false)))
        {
            writer.Write(content);
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{verb}: wrote {file} ({new FileInfo(file).Length / 1024.0:0} KiB)"));
        return 0;
    }

    internal static int Batch(Arguments a, TextWriter output, TextWriter error)
    {
        if (a.Positionals.Count != 1) throw new BadInputException("batch: give one batch id, or latest (see 'stillcontrol batches')");
        var path = a.Value("--journal") ?? "stillcontrol.db";
        // Read-only, like the other review verbs: it never takes the write lock of a service running on this journal.
        using var journal = ArchiveSource.Open(a, "batch") ?? OpenQuery(path);
        var id = BatchIds.Resolve("batch", journal, a.Positionals)[0];
        var loaded = journal.Load(id) ?? throw new BadInputException($"batch: {journal.Description} has no batch '{id}'");
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
        Check<Archive.ArchiveOptions>();
        if (failures.Count > 0)
        {
            throw new OptionsValidationException("StillControl", typeof(StillOptions), failures);
        }
    }
}
