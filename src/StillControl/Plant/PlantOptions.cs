using Microsoft.Extensions.Options;

namespace StillControl.Plant;

/// <summary>
/// The plant service (<c>stillcontrol plant</c>): when a still counts as silent, what the live view keeps, where the archive is.
/// The board's address, users and HTTPS are the web foundation's (section <c>Panel</c>, as on a still).
/// </summary>
public sealed class PlantOptions
{
    public const string Section = "Plant";

    /// <summary>A still running a batch that sends nothing (state, samples, events) for this long is raised as <c>still-offline</c>.</summary>
    public int SilentAfterSeconds { get; set; } = 60;
    /// <summary>The central batch archive: a SQLite file path or a PostgreSQL connection string (read by the archive module).</summary>
    public string? Archive { get; set; }
    /// <summary>Telemetry points kept per still for its live view on the board (about a quarter of an hour at 1 s).</summary>
    public int LiveViewSamples { get; set; } = 900;
}

public sealed class PlantOptionsValidator : IValidateOptions<PlantOptions>
{
    public ValidateOptionsResult Validate(string? name, PlantOptions options)
    {
        var failures = new List<string>();
        if (options.SilentAfterSeconds is < 2 or > 86_400) failures.Add($"Plant:SilentAfterSeconds = {options.SilentAfterSeconds}: 2 to 86400 (longer than the stills' Mqtt:StatePeriodSeconds)");
        if (options.Archive is { Length: 0 }) failures.Add("Plant:Archive = \"\": a SQLite file path or a PostgreSQL connection string, or leave it out");
        if (options.LiveViewSamples is < 10 or > 100_000) failures.Add($"Plant:LiveViewSamples = {options.LiveViewSamples}: 10 to 100000");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
