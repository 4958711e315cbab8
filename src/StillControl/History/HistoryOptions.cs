using Microsoft.Extensions.Options;

namespace StillControl.History;

/// <summary>
/// Where history goes: an InfluxDB 2.x/3.x or VictoriaMetrics write endpoint (<c>/api/v2/write</c>). <see cref="Url"/> unset:
/// no history forwarding. The token is a secret: <see cref="TokenFile"/> or <c>STILLCONTROL_Influx__Token</c>.
/// </summary>
public sealed class HistoryOptions
{
    public const string Section = "Influx";

    public string? Url { get; set; }
    public string Org { get; set; } = "stillcontrol";
    public string Bucket { get; set; } = "stillcontrol";
    public string? Token { get; set; }
    public string? TokenFile { get; set; }
    public int BatchRows { get; set; } = 5000;
    /// <summary>Rows waiting in the journal beyond this raise an alarm; nothing is ever dropped.</summary>
    public long BacklogAlarmRows { get; set; } = 7 * 24 * 3600;
    public int DrainOnStopSeconds { get; set; } = 10;

    public string? ResolveToken() => TokenFile is { } file ? File.ReadAllText(file).Trim() : Token;
}

public sealed class HistoryOptionsValidator : IValidateOptions<HistoryOptions>
{
    public ValidateOptionsResult Validate(string? name, HistoryOptions options)
    {
        var failures = new List<string>();
        if (options.Url is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            failures.Add($"Influx:Url = \"{url}\": an http:// or https:// address, e.g. http://127.0.0.1:8086");
        }
        if (options.BatchRows is < 1 or > 100_000) failures.Add($"Influx:BatchRows = {options.BatchRows}: 1 to 100000");
        if (options.BacklogAlarmRows < 1) failures.Add($"Influx:BacklogAlarmRows = {options.BacklogAlarmRows}: 1 or more");
        if (options.TokenFile is { } file && !File.Exists(file)) failures.Add($"Influx:TokenFile = \"{file}\": a readable file holding the token");
        if (string.IsNullOrWhiteSpace(options.Org)) failures.Add("Influx:Org = \"\": the organisation name (any name for VictoriaMetrics)");
        if (string.IsNullOrWhiteSpace(options.Bucket)) failures.Add("Influx:Bucket = \"\": the bucket name (any name for VictoriaMetrics)");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
