using System.Globalization;
using System.Text;
using System.Text.Json;
using StillControl.Journal;
using StillControl.Process;

namespace StillControl.History;

/// <summary>
/// Journal rows as InfluxDB line protocol: one point per sample (<c>stillcontrol_sample</c>) and per event
/// (<c>stillcontrol_event</c>), tagged site, still, batch and phase, timestamped with the journal's own time in ms. A point
/// written again after a lost acknowledgement is the same series, time and values, so a rewrite changes nothing.
/// </summary>
public static class LineProtocol
{
    public const string SampleMeasurement = "stillcontrol_sample";
    public const string EventMeasurement = "stillcontrol_event";

    private static readonly string[] FieldNames =
    [
        "steam_celsius", "steam_pressure_kilopascals", "vapour_celsius", "bed_surface_celsius", "cooling_in_celsius", "cooling_out_celsius",
        "cooling_flow_litres_per_minute", "distillate_celsius", "distillate_flow_litres_per_minute", "barometer_hectopascals",
        "strength_meter_percent_volume", "emergency_stop",
    ];

    /// <summary>The field a channel's value is written as: its name with its unit.</summary>
    public static string FieldName(Channel channel) => FieldNames[(int)channel];

    public static string Sample(JournalSample sample, string site, string still)
    {
        var line = new StringBuilder(384);
        line.Append(SampleMeasurement);
        Tags(line, site, still, sample.BatchId, sample.Phase);
        line.Append(' ');
        var first = true;
        void Field(string name, double value)
        {
            if (!first) line.Append(',');
            first = false;
            line.Append(name).Append('=').Append(value.ToString("R", CultureInfo.InvariantCulture));
        }
        using (var readings = JsonDocument.Parse(sample.ReadingsJson))
        {
            foreach (var channel in readings.RootElement.EnumerateObject())
            {
                if (Channels.TryParse(channel.Name, out var c) && channel.Value.TryGetProperty("value", out var value))
                {
                    Field(FieldName(c), value.GetDouble());
                }
            }
        }
        Field("steam_valve_percent", sample.SteamPercent);
        Field("cooling_valve_percent", sample.CoolingPercent);
        Field("held", sample.Held ? 1 : 0);
        if (sample.StrengthPercent is { } strength) Field("strength_percent_volume", strength);
        line.Append(' ').Append(sample.At.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        return line.ToString();
    }

    public static string Event(JournalEvent e, string site, string still)
    {
        var line = new StringBuilder(256);
        line.Append(EventMeasurement);
        Tags(line, site, still, e.BatchId, e.Phase);
        line.Append(",kind=").Append(EscapeTag(e.Kind)).Append(",code=").Append(EscapeTag(e.Code));
        line.Append(" seq=").Append(e.Sequence.ToString(CultureInfo.InvariantCulture)).Append("i,count=1i,message=\"")
            .Append(e.Message.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
        line.Append(' ').Append(e.At.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        return line.ToString();
    }

    private static void Tags(StringBuilder line, string site, string still, string? batch, string phase)
    {
        line.Append(",site=").Append(EscapeTag(site)).Append(",still=").Append(EscapeTag(still))
            .Append(",batch=").Append(EscapeTag(batch ?? "none")).Append(",phase=").Append(EscapeTag(phase));
    }

    private static string EscapeTag(string value) => value.Length == 0 ? "none" : value
        .Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal)
        .Replace("=", "\\=", StringComparison.Ordinal).Replace(" ", "\\ ", StringComparison.Ordinal);
}
