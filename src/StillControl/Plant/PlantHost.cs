using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StillControl.Telemetry;
using StillControl.Web;

namespace StillControl.Plant;

/// <summary>
/// A part of the plant service beyond the board: the central batch archive's ingest, notifications. Each module names the
/// configuration sections it reads (so the configuration check knows them), adds its services (hosted services, options) and
/// maps its endpoints on the plant's web application. The <see cref="StillRegistry"/> is a singleton in the container:
/// subscribe to <see cref="StillRegistry.Changed"/> for <see cref="PlantEvent"/>s.
/// </summary>
public interface IPlantModule
{
    IEnumerable<(string Section, Type Type)> Sections { get; }

    void AddServices(WebApplicationBuilder builder);

    void Map(WebApplication app);
}

/// <summary>
/// The composition root of <c>stillcontrol plant</c>: one web application (the web foundation's sign-in, roles, CSRF and
/// languages) with the MQTT link, the still registry, the silence watch, the board, and the plant modules.
/// </summary>
public static class PlantHost
{
    /// <summary>The plant modules, in start order. Archive and notifications: add one line each here.</summary>
    public static IReadOnlyList<IPlantModule> Modules { get; } =
    [
        new Archive.ArchivePlantModule(),
        new Notifications.NotificationsPlantModule(),
    ];

    /// <summary>The configuration sections <c>plant</c> accepts; any other key is an error naming it.</summary>
    public static IReadOnlyList<(string Section, Type Type)> Sections =>
        [(PlantOptions.Section, typeof(PlantOptions)), (MqttOptions.Section, typeof(MqttOptions)), (WebOptions.Section, typeof(WebOptions)), .. Modules.SelectMany(m => m.Sections)];

    /// <summary>Every problem with the options (key, value, what is accepted), before anything starts.</summary>
    public static List<string> Problems(IConfiguration configuration)
    {
        var problems = Hosting.ConfigurationSchema.Check(configuration, Sections);
        if (problems.Count > 0) return problems;
        var plant = configuration.GetSection(PlantOptions.Section).Get<PlantOptions>() ?? new PlantOptions();
        var mqtt = configuration.GetSection(MqttOptions.Section).Get<MqttOptions>() ?? new MqttOptions();
        var web = configuration.GetSection(WebOptions.Section).Get<WebOptions>() ?? new WebOptions();
        if (new PlantOptionsValidator().Validate(null, plant) is { Failed: true } p) problems.AddRange(p.Failures);
        if (new MqttOptionsValidator().Validate(null, mqtt) is { Failed: true } m) problems.AddRange(m.Failures);
        if (!web.Enabled) problems.Add("Panel:Enabled = false: the plant is its board; leave the key out");
        problems.AddRange(web.Problems());
        problems.AddRange(Notifications.NotificationsPlantModule.Problems(configuration));
        return problems;
    }

    public static WebApplication Build(IDictionary<string, string?> overrides, LogLevel minimumLevel, TimeProvider? time = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(overrides).Build();
        var web = configuration.GetSection(WebOptions.Section).Get<WebOptions>() ?? new WebOptions();
        var builder = WebFoundation.CreateBuilder(web, null);
        builder.Configuration.AddInMemoryCollection(overrides);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(minimumLevel);

        var services = builder.Services;
        services.Configure<HostOptions>(o =>
        {
            o.ShutdownTimeout = TimeSpan.FromSeconds(15);
            // A module that fails (a notification target, the archive's database) must not take the board down with it.
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore;
        });
        services.AddSingleton(time ?? TimeProvider.System);
        services.AddSingleton<IValidateOptions<PlantOptions>, PlantOptionsValidator>();
        services.AddOptions<PlantOptions>().BindConfiguration(PlantOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MqttOptions>, MqttOptionsValidator>();
        services.AddOptions<MqttOptions>().BindConfiguration(MqttOptions.Section).ValidateOnStart();
        services.AddSingleton(sp =>
        {
            var plant = sp.GetRequiredService<IOptions<PlantOptions>>().Value;
            return new StillRegistry(sp.GetRequiredService<IOptions<MqttOptions>>().Value.TopicRoot, TimeSpan.FromSeconds(plant.SilentAfterSeconds),
                plant.LiveViewSamples, sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<BoardStream>();
        services.AddSingleton(sp => new PlantLink(sp.GetRequiredService<IOptions<MqttOptions>>().Value, sp.GetRequiredService<StillRegistry>(), sp.GetRequiredService<ILogger<PlantLink>>()));
        services.AddHostedService(sp => sp.GetRequiredService<PlantLink>());
        services.AddHostedService(sp => new SilenceWatch(sp.GetRequiredService<StillRegistry>(), sp.GetRequiredService<TimeProvider>()));
        foreach (var module in Modules) module.AddServices(builder);

        var app = builder.Build();
        WebFoundation.MapAuth(app, () =>
        {
            var link = app.Services.GetRequiredService<PlantLink>();
            var registry = app.Services.GetRequiredService<StillRegistry>();
            return new { status = "ok", mqtt = link.Connected ? "connected" : "disconnected", mqttError = link.LastError, stills = registry.Count };
        });
        Board.Map(app);
        foreach (var module in Modules) module.Map(app);
        return app;
    }
}
