using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StillControl.Actuators;
using StillControl.History;
using StillControl.Journal;
using StillControl.Recipes;
using StillControl.Sensors;
using StillControl.Simulation;
using StillControl.Telemetry;

namespace StillControl.Hosting;

/// <summary>
/// How the simulated still is run: its scenario, seed and pace. <paramref name="RealTime"/>: the service's own clock and timer
/// (<c>run</c>); otherwise a simulated clock moved by the pacer, at <paramref name="Speed"/> times real time or, when null, flat out.
/// </summary>
public sealed record SimulationSetup(Scenario Scenario, int Seed, double? Speed, bool Resume, DateTimeOffset Start, TextWriter? Progress, TimeSpan StatusEvery, bool RealTime)
{
    /// <summary>Serve the web panel (section Panel) while this runs: <c>run</c>, and <c>simulate --panel</c>, which then runs until stopped.</summary>
    public bool ServePanel { get; init; }
}

/// <summary>
/// For tests of the Pi layer: its devices (a GpioDriver subclass and emulated chips) wired to the simulated still, whose
/// distiller then works the batch, and slow sources polled inline on the simulated clock.
/// </summary>
public sealed record PiRig(Func<IServiceProvider, IPiDevices> Devices, bool Inline);
/// <summary>The composition root: one place that wires hardware, controller, journal and loop together.</summary>
public static class StillHost
{
    /// <summary>How long a simulation's forwarders may drain at its end (the host's shutdown timeout is 30 s).</summary>
    private static readonly Dictionary<string, string?> SimulationDrainDefaults = new()
    {
        [$"{MqttOptions.Section}:{nameof(MqttOptions.DrainOnStopSeconds)}"] = "25",
        [$"{HistoryOptions.Section}:{nameof(HistoryOptions.DrainOnStopSeconds)}"] = "25",
        [$"{Archive.ArchiveOptions.Section}:{nameof(Archive.ArchiveOptions.DrainOnStopSeconds)}"] = "25",
    };

    public static IHost Build(string[] args, IDictionary<string, string?> overrides, Recipe recipe, SimulationSetup simulation, LogLevel minimumLevel, PiRig? rig = null)
    {
        // No default sources: the configuration is appsettings.json beside the program, then what the command line loaded
        // (--config, STILLCONTROL_ variables, options). Unprefixed environment variables and the like do not count.
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory, DisableDefaults = true });
        if (!simulation.RealTime)
        {
            // A simulation is a job that ends by itself, and flat out its batch ends with nearly everything it journaled still to
            // send: the link, the history and the archive get longer to drain at the stop than the service's 10 s. Below anything
            // configured (appsettings.json, --config, options), which still decides.
            builder.Configuration.AddInMemoryCollection(SimulationDrainDefaults);
        }
        builder.Configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true);
        builder.Configuration.AddInMemoryCollection(overrides);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(minimumLevel);

        var services = builder.Services;
        services.Configure<HostOptions>(o =>
        {
            o.ShutdownTimeout = TimeSpan.FromSeconds(30);
            // A forwarder that fails must never take the control loop down with it; the loop stops the host itself on a crash.
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore;
        });
        services.AddSingleton<StillControlOptionsValidator>();
        AddValidated<StillOptions>(services, StillOptions.Section);
        AddValidated<HardwareOptions>(services, HardwareOptions.Section);
        AddValidated<ControlLoopOptions>(services, ControlLoopOptions.Section);
        AddValidated<JournalOptions>(services, JournalOptions.Section);
        AddValidated<SimulationOptions>(services, SimulationOptions.Section);

        services.AddSingleton(recipe);
        services.AddSingleton<ServiceOutcome>();
        services.AddSingleton(simulation);
        var clock = new SimulationClock(simulation.Start);
        services.AddSingleton(clock);
        services.AddSingleton(simulation.RealTime ? TimeProvider.System : clock);
        services.AddSingleton(sp => new BatchJournal(sp.GetRequiredService<IOptions<JournalOptions>>().Value.Path, TimeProvider.System,
            TimeSpan.FromMilliseconds(sp.GetRequiredService<IOptions<JournalOptions>>().Value.CommitIntervalMilliseconds)));
        services.AddSingleton(sp =>
        {
            var still = sp.GetRequiredService<IOptions<StillOptions>>().Value;
            var loop = sp.GetRequiredService<IOptions<ControlLoopOptions>>().Value;
            return new ControlOptions
            {
                StillName = still.Name,
                Period = TimeSpan.FromMilliseconds(loop.PeriodMilliseconds),
                SampleInterval = TimeSpan.FromMilliseconds(loop.SampleIntervalMilliseconds),
            };
        });

        services.AddSingleton<FaultSchedule>();
        services.AddSingleton(sp =>
        {
            var journal = sp.GetRequiredService<BatchJournal>();
            var restored = simulation.Resume && journal.FindUnfinished() is { } unfinished
                ? SimulatedStill.Restore(journal.LoadCheckpoint(unfinished.Id))
                : null;
            return new SimulatedStill(simulation.Scenario, sp.GetRequiredService<FaultSchedule>(), simulation.Seed, restored);
        });
        var hardware = builder.Configuration.GetSection(HardwareOptions.Section).Get<HardwareOptions>() ?? new HardwareOptions();
        var pi = hardware.Mode == "Pi";
        if (pi)
        {
            var configDirectory = builder.Configuration["ConfigDirectory"];
            services.AddSingleton<IValidateOptions<HardwareOptions>>(new PiOptionsValidator(recipe, configDirectory));
            services.AddSingleton(sp => PiPlan.Resolve(sp.GetRequiredService<IOptions<HardwareOptions>>().Value, recipe, configDirectory).Plan
                ?? throw new OptionsValidationException(HardwareOptions.Section, typeof(HardwareOptions), ["Hardware: invalid"]));
            services.AddSingleton<IPiDevices>(sp => rig is null ? new PiDevices() : rig.Devices(sp));
            // One owner per RS-485 bus, shared by the inputs on it and any valve driven through an analog output module.
            services.AddSingleton(sp => new Sensors.Modbus.ModbusBuses(sp.GetRequiredService<PiPlan>(), sp.GetRequiredService<IPiDevices>(), keepFrameGap: !(rig?.Inline ?? false)));
            services.AddSingleton(sp => new PiSensorBank(sp.GetRequiredService<PiPlan>(), sp.GetRequiredService<IPiDevices>(), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<PiSensorBank>>(), rig?.Inline ?? false, buses: sp.GetRequiredService<Sensors.Modbus.ModbusBuses>()));
            services.AddSingleton<ISensorBank>(sp => sp.GetRequiredService<PiSensorBank>());
            services.AddSingleton<IActuators>(sp => new PiActuators(sp.GetRequiredService<PiPlan>(), sp.GetRequiredService<IPiDevices>(), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<Sensors.Modbus.ModbusBuses>()));
        }
        else
        {
            services.AddSingleton<ISensorBank>(sp => sp.GetRequiredService<SimulatedStill>());
            services.AddSingleton<IActuators>(sp => sp.GetRequiredService<SimulatedStill>());
        }
        var simulated = !pi || rig is not null;

        // The web panel: a Kestrel server inside this process that reads what the loop publishes (PanelFeed, an observer).
        services.AddSingleton<IValidateOptions<Web.WebOptions>, Web.WebOptionsValidator>();
        services.AddOptions<Web.WebOptions>().BindConfiguration(Web.WebOptions.Section).ValidateOnStart();
        var servePanel = simulation.ServePanel && (builder.Configuration.GetSection(Web.WebOptions.Section).Get<Web.WebOptions>() ?? new Web.WebOptions()).Enabled;
        if (servePanel)
        {
            services.AddSingleton(sp => new Panel.PanelFeed(recipe, sp.GetRequiredService<IOptions<StillOptions>>().Value.Name,
                sp.GetRequiredService<IOptions<Web.WebOptions>>().Value.TimeZoneId()));
            services.AddSingleton(sp => new Panel.PanelServer(sp.GetRequiredService<IOptions<Web.WebOptions>>().Value, sp.GetRequiredService<ControlCycle>(),
                sp.GetRequiredService<Panel.PanelFeed>(), sp, sp.GetRequiredService<ILoggerFactory>()));
            services.AddHostedService(sp => sp.GetRequiredService<Panel.PanelServer>());
        }

        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<ControlOptions>();
            var cycle = new ControlCycle(sp.GetRequiredService<ISensorBank>(), sp.GetRequiredService<IActuators>(), recipe,
                sp.GetRequiredService<BatchJournal>(), sp.GetRequiredService<TimeProvider>(), options, sp.GetRequiredService<ILogger<ControlCycle>>());
            if (simulated)
            {
                cycle.AddObserver(sp.GetRequiredService<SimulatedDistiller>());
                cycle.AddObserver(sp.GetRequiredService<FaultReactionWatch>());
            }
            if (servePanel)
            {
                cycle.AddObserver(sp.GetRequiredService<Panel.PanelFeed>());
            }
            if (simulation.Progress is { } progress)
            {
                cycle.AddObserver(new ConsoleProgress(progress, simulation.StatusEvery));
            }
            return cycle;
        });
        services.AddSingleton(sp =>
        {
            var simulationOptions = sp.GetRequiredService<IOptions<SimulationOptions>>().Value;
            return new SimulatedDistiller(sp.GetRequiredService<SimulatedStill>(), sp.GetRequiredService<FaultSchedule>(), simulation.Scenario,
                simulation.Resume, TimeSpan.FromHours(simulationOptions.MaximumSimulatedHours), simulationOptions.Distiller, endWhenDone: !simulation.RealTime && !simulation.ServePanel);
        });
        services.AddSingleton(sp => new FaultReactionWatch(simulation.Scenario, sp.GetRequiredService<FaultSchedule>(), sp.GetRequiredService<SimulatedStill>()));
        services.AddSingleton<IControlPacer>(sp =>
        {
            var period = sp.GetRequiredService<ControlOptions>().Period;
            var time = sp.GetRequiredService<TimeProvider>();
            return time is SimulationClock simulated
                ? simulation.Speed is { } speed ? new AcceleratedPacer(simulated, period, speed, TimeProvider.System) : new MaximumSpeedPacer(simulated, period, TimeProvider.System)
                : new RealTimePacer(time, period);
        });
        var mqtt = builder.Configuration.GetSection(MqttOptions.Section).Get<MqttOptions>() ?? new MqttOptions();
        if (mqtt.Enabled && mqtt.Host is null)
        {
            // Before the control loop: a broker that cannot listen is a start error, reported before any output moves.
            services.AddHostedService(sp => new EmbeddedBroker(sp.GetRequiredService<IOptions<MqttOptions>>().Value, sp.GetRequiredService<ILogger<EmbeddedBroker>>()));
        }
        services.AddHostedService<StillService>();
        // Under systemd (Type=notify): READY=1 once started, STOPPING=1 on stop, journald-friendly logs; the watchdog is fed by the loop.
        services.AddSystemd();
        if (Microsoft.Extensions.Hosting.Systemd.SystemdHelpers.IsSystemdService())
        {
            services.AddHostedService(sp => new SystemdWatchdog(() => sp.GetRequiredService<ControlCycle>().LastTickMilliseconds,
                sp.GetRequiredService<ControlOptions>().Period, sp.GetRequiredService<Microsoft.Extensions.Hosting.Systemd.ISystemdNotifier>(),
                sp.GetRequiredService<ILogger<SystemdWatchdog>>()));
        }

        services.AddSingleton<IValidateOptions<MqttOptions>, MqttOptionsValidator>();
        services.AddOptions<MqttOptions>().BindConfiguration(MqttOptions.Section).ValidateOnStart()
            // A list in the configuration replaces the default list; the binder alone would add to it.
            .PostConfigure<Microsoft.Extensions.Configuration.IConfiguration>((o, configuration) =>
            {
                var configured = configuration.GetSection($"{MqttOptions.Section}:{nameof(MqttOptions.RemoteCommands)}");
                if (configured.Exists()) o.RemoteCommands = configured.GetChildren().Select(c => c.Value).OfType<string>().ToList();
            });
        if (mqtt.Enabled)
        {
            services.AddSingleton(sp => new MqttLink(sp.GetRequiredService<IOptions<MqttOptions>>().Value, sp.GetRequiredService<ControlCycle>(),
                sp.GetRequiredService<IOptions<JournalOptions>>().Value.Path, sp.GetRequiredService<IOptions<StillOptions>>().Value.Site,
                sp.GetRequiredService<IOptions<StillOptions>>().Value.Name, sp.GetRequiredService<ILogger<MqttLink>>()));
            services.AddHostedService(sp => sp.GetRequiredService<MqttLink>());
        }

        services.AddSingleton<IValidateOptions<HistoryOptions>, HistoryOptionsValidator>();
        services.AddOptions<HistoryOptions>().BindConfiguration(HistoryOptions.Section).ValidateOnStart();
        var history = builder.Configuration.GetSection(HistoryOptions.Section).Get<HistoryOptions>() ?? new HistoryOptions();
        if (history.Url is not null)
        {
            services.AddSingleton(sp => new HistoryForwarder(sp.GetRequiredService<IOptions<HistoryOptions>>().Value, sp.GetRequiredService<ControlCycle>().Audit,
                sp.GetRequiredService<IOptions<JournalOptions>>().Value.Path, sp.GetRequiredService<IOptions<StillOptions>>().Value.Site,
                sp.GetRequiredService<IOptions<StillOptions>>().Value.Name, sp.GetRequiredService<ILogger<HistoryForwarder>>()));
            services.AddHostedService(sp => sp.GetRequiredService<HistoryForwarder>());
        }

        // The central batch archive: the journal's batch records to the plant, through the still's MQTT broker.
        services.AddSingleton<IValidateOptions<Archive.ArchiveOptions>>(new Archive.ArchiveOptionsValidator(mqtt.Enabled));
        services.AddOptions<Archive.ArchiveOptions>().BindConfiguration(Archive.ArchiveOptions.Section).ValidateOnStart();
        var archive = builder.Configuration.GetSection(Archive.ArchiveOptions.Section).Get<Archive.ArchiveOptions>() ?? new Archive.ArchiveOptions();
        if (archive.Enabled)
        {
            services.AddSingleton(sp => new Archive.ArchiveForwarder(sp.GetRequiredService<IOptions<Archive.ArchiveOptions>>().Value,
                sp.GetRequiredService<IOptions<MqttOptions>>().Value, sp.GetRequiredService<ControlCycle>().Audit,
                sp.GetRequiredService<IOptions<JournalOptions>>().Value.Path, sp.GetRequiredService<IOptions<StillOptions>>().Value.Site,
                sp.GetRequiredService<IOptions<StillOptions>>().Value.Name, sp.GetRequiredService<ILogger<Archive.ArchiveForwarder>>()));
            services.AddHostedService(sp => sp.GetRequiredService<Archive.ArchiveForwarder>());
        }
        return builder.Build();
    }

    private static void AddValidated<T>(IServiceCollection services, string section) where T : class
    {
        services.AddOptions<T>().BindConfiguration(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<T>>(sp => (IValidateOptions<T>)(object)sp.GetRequiredService<StillControlOptionsValidator>());
    }
}
