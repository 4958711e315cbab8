using Microsoft.Extensions.Options;

namespace StillControl.Hosting;

public sealed class StillOptions
{
    public const string Section = "Still";
    public string Site { get; set; } = "plant";
    public string Name { get; set; } = "still-1";
}

public sealed class HardwareOptions
{
    public const string Section = "Hardware";
    /// <summary><c>Simulated</c> (a simulated still in this process) or <c>Pi</c> (real wiring: the keys below).</summary>
    public string Mode { get; set; } = "Simulated";
    /// <summary>Inputs keyed by channel name (steam, vapour, cooling-in, ...).</summary>
    public Dictionary<string, Sensors.InputOptions> Inputs { get; set; } = new(StringComparer.Ordinal);
    /// <summary>RS-485 buses keyed by a name the inputs refer to.</summary>
    public Dictionary<string, Sensors.SerialBusOptions> Buses { get; set; } = new(StringComparer.Ordinal);
    public Sensors.OutputOptions Outputs { get; set; } = new();
    /// <summary>Where relative register map paths are looked up; default: the configuration file's folder, then firmware-config/registers beside the program.</summary>
    public string? RegisterMaps { get; set; }
}

public sealed class ControlLoopOptions
{
    public const string Section = "Control";
    public int PeriodMilliseconds { get; set; } = 250;
    public int SampleIntervalMilliseconds { get; set; } = 1000;
}

public sealed class JournalOptions
{
    public const string Section = "Journal";
    public string Path { get; set; } = "stillcontrol.db";
    public int CommitIntervalMilliseconds { get; set; } = 100;
}

public sealed class RecipeOptions
{
    public const string Section = "Recipe";
    /// <summary>A recipe file; unset: the built-in default recipe.</summary>
    public string? Path { get; set; }
}

public sealed class SimulationOptions
{
    public const string Section = "Simulation";
    public string? ScenarioPath { get; set; }
    public int? Seed { get; set; }
    /// <summary>Run the simulated distiller (start, cover layers, seal, acknowledge alarms).</summary>
    public bool Distiller { get; set; } = true;
    public double MaximumSimulatedHours { get; set; } = 12;
}

/// <summary>Start-up checks: a bad value fails at boot with the key's name, the value and what is accepted.</summary>
public sealed class StillControlOptionsValidator :
    IValidateOptions<ControlLoopOptions>, IValidateOptions<JournalOptions>, IValidateOptions<HardwareOptions>, IValidateOptions<StillOptions>, IValidateOptions<SimulationOptions>
{
    public static readonly string[] HardwareModes = ["Simulated", "Pi"];

    public ValidateOptionsResult Validate(string? name, ControlLoopOptions options)
    {
        var failures = new List<string>();
        if (options.PeriodMilliseconds is < 20 or > 250)
        {
            failures.Add($"Control:PeriodMilliseconds = {options.PeriodMilliseconds}: 20 to 250 (an interlock must act within one period)");
        }
        if (options.SampleIntervalMilliseconds < options.PeriodMilliseconds || options.SampleIntervalMilliseconds > 60_000)
        {
            failures.Add($"Control:SampleIntervalMilliseconds = {options.SampleIntervalMilliseconds}: from Control:PeriodMilliseconds ({options.PeriodMilliseconds}) to 60000");
        }
        return Result(failures);
    }

    public ValidateOptionsResult Validate(string? name, JournalOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            failures.Add("Journal:Path = \"\": a file path for the SQLite journal");
        }
        if (options.CommitIntervalMilliseconds is < 0 or > 1000)
        {
            failures.Add($"Journal:CommitIntervalMilliseconds = {options.CommitIntervalMilliseconds}: 0 to 1000");
        }
        return Result(failures);
    }

    public ValidateOptionsResult Validate(string? name, HardwareOptions options) =>
        HardwareModes.Contains(options.Mode, StringComparer.Ordinal)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Hardware:Mode = \"{options.Mode}\": one of {string.Join(", ", HardwareModes)}");

    public ValidateOptionsResult Validate(string? name, StillOptions options)
    {
        var failures = new List<string>();
        foreach (var (key, value) in new[] { ("Still:Site", options.Site), ("Still:Name", options.Name) })
        {
            if (string.IsNullOrWhiteSpace(value) || value.Length > 64 || value.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            {
                failures.Add($"{key} = \"{value}\": 1-64 letters, digits, '-' or '_' (it names topics and batch ids)");
            }
        }
        return Result(failures);
    }

    public ValidateOptionsResult Validate(string? name, SimulationOptions options) =>
        options.MaximumSimulatedHours is > 0 and <= 48
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Simulation:MaximumSimulatedHours = {options.MaximumSimulatedHours}: above 0 and at most 48");

    private static ValidateOptionsResult Result(List<string> failures) =>
        failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
}

/// <summary>Checks the Pi wiring (<c>Hardware:Mode=Pi</c>) at start: every bad key named at once, with what is accepted.</summary>
public sealed class PiOptionsValidator(Recipes.Recipe recipe, string? configDirectory) : IValidateOptions<HardwareOptions>
{
    public ValidateOptionsResult Validate(string? name, HardwareOptions options)
    {
        if (options.Mode != "Pi")
        {
            return ValidateOptionsResult.Skip;
        }
        var (_, errors) = Sensors.PiPlan.Resolve(options, recipe, configDirectory);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
