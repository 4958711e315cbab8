using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StillControl.Plant;

namespace StillControl.Cli;

/// <summary>
/// <c>stillcontrol plant [--config FILE] [--mqtt HOST[:PORT]] [--archive PATH|CONNECTION] [--panel PORT] [--users FILE]</c>:
/// the plant's central service (board, still registry, still-offline, and the archive and notification modules).
/// </summary>
public static class PlantCommand
{
    public const string Usage = """
          stillcontrol plant [--config FILE] [--mqtt HOST[:PORT]] [--archive PATH|CONNECTION] [--panel [HOST:]PORT] [--users FILE]
              The plant service: every still under the topic root on one board (GET /, /api/stills), still-offline, archive.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var overrides = Configuration(args);

        var problems = PlantHost.Problems(new ConfigurationBuilder().AddInMemoryCollection(overrides).Build());
        if (problems.Count > 0) throw new OptionsValidationException(PlantOptions.Section, typeof(PlantOptions), problems);

        await using var app = PlantHost.Build(overrides, LogLevel.Information);
        try
        {
            await app.StartAsync();
        }
        catch (IOException ex)
        {
            error.WriteLine($"stillcontrol: plant: the board cannot listen on {overrides.GetValueOrDefault("Panel:Urls") ?? new Web.WebOptions().Urls}: {ex.Message}");
            return 1;
        }
        output.WriteLine($"plant: board on {string.Join(", ", app.Urls)}; watching MQTT {overrides.GetValueOrDefault("Mqtt:Host") ?? "127.0.0.1"}:{overrides.GetValueOrDefault("Mqtt:Port") ?? "1883"}");
        output.Flush();
        await app.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>The configuration <c>plant</c> runs with: the --config file, STILLCONTROL_ variables, then the options.</summary>
    public static Dictionary<string, string?> Configuration(string[] args)
    {
        var a = Arguments.Parse(args, "plant", [], ["--config", "--mqtt", "--archive", "--panel", "--users"]);
        if (a.Positionals.Count > 0) throw new BadInputException($"plant: unexpected argument '{a.Positionals[0]}'");
        var overrides = Load(a.Value("--config"));
        if (a.Value("--mqtt") is { } mqtt)
        {
            var (host, port) = HostAndPort("--mqtt", mqtt, defaultPort: null);
            overrides["Mqtt:Host"] = host;
            if (port is not null) overrides["Mqtt:Port"] = port;
        }
        if (a.Value("--archive") is { } archive)
        {
            if (archive.Trim().Length == 0) throw new BadInputException("plant: --archive = '': a SQLite file path or a PostgreSQL connection string");
            overrides[$"{PlantOptions.Section}:{nameof(PlantOptions.Archive)}"] = archive;
        }
        if (a.Value("--panel") is { } panel)
        {
            // PORT alone listens on every address (the board is for the plant network); HOST:PORT on that address only.
            var (host, port) = panel.Contains(':', StringComparison.Ordinal) ? HostAndPort("--panel", panel, null) : ("0.0.0.0", Port("--panel", panel, panel));
            overrides["Panel:Urls"] = $"http://{host}:{port}";
        }
        if (a.Value("--users") is { } users) overrides["Panel:UsersFile"] = users;
        overrides.TryAdd("Logging:LogLevel:Default", "Information");
        overrides.TryAdd("Logging:LogLevel:Microsoft.AspNetCore", "Warning");
        overrides.TryAdd("Logging:LogLevel:Microsoft.Hosting.Lifetime", "Warning");
        return overrides;
    }

    /// <summary>The --config file, then STILLCONTROL_ variables; appsettings.json beside the program is the still's and does not count here.</summary>
    private static Dictionary<string, string?> Load(string? file)
    {
        if (file is not null && !File.Exists(file)) throw new BadInputException($"plant: --config {file}: no such file");
        var builder = new ConfigurationBuilder();
        if (file is not null) builder.AddJsonFile(Path.GetFullPath(file), optional: false);
        builder.AddEnvironmentVariables("STILLCONTROL_");
        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException)
        {
            throw new BadInputException($"plant: --config {file} is not valid JSON ({ex.Message})");
        }
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in root.AsEnumerable())
        {
            if (value is not null) overrides[key] = value;
        }
        return overrides;
    }

    private static (string Host, string? Port) HostAndPort(string option, string text, string? defaultPort)
    {
        var colon = text.LastIndexOf(':');
        var host = colon > 0 ? text[..colon] : text;
        if (host.Length == 0 || host.Any(char.IsWhiteSpace) || (colon == 0))
        {
            throw new BadInputException($"plant: {option} = '{text}': HOST or HOST:PORT (PORT 1 to 65535)");
        }
        return (host, colon > 0 ? Port(option, text, text[(colon + 1)..]) : defaultPort);
    }

    private static string Port(string option, string text, string port) =>
        int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 65535
            ? n.ToString(CultureInfo.InvariantCulture)
            : throw new BadInputException($"plant: {option} = '{text}': {(option == "--panel" ? "PORT or HOST:PORT" : "HOST or HOST:PORT")} with PORT 1 to 65535");
}
