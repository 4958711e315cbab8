using System.Globalization;
using System.Text;
using System.Text.Json;
using StillControl.Journal;
using StillControl.Process;

namespace StillControl.History;

/// <summary>
/// Journal rows as InfluxDB line protocol: one point per sample (<c>stillcontrol_sample</c>) and per event
/// (<c>stillcontrol_event</c>), tagged site, still, batch and phase, timestamped with the journal's own time (its millisecond, written in ns; an event's
/// sequence number in the nanoseconds keeps events of one millisecond apart). A point
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
        "strength_meter_percent_volume", "emergency_stop", "lid_closed", "distillate_check_celsius", "steam_valve_position_percent",
    ];

    /// <summary>The field a channel's value is written as: its name with its unit.</summary>
    public static string FieldName(Channel channel) => FieldNames[(int)channel];

    [ThreadStatic] private static StringBuilder? cachedLine;
    [ThreadStatic] private static (string Site, string Still, string? Batch, string Phase, string Prefix)? cachedPrefix;

    /// <summary>Measurement and tags: the same for every sample of a phase, so escaped once, not once per point.</summary>
    private static string SamplePrefix(string site, string still, string? batch, string phase)
    {
        if (cachedPrefix is { } c && c.Site == site && c.Still == still && c.Batch == batch && c.Phase == phase) return c.Prefix;
        var prefix = new StringBuilder(SampleMeasurement);
        Tags(prefix, site, still, batch, phase);
        prefix.Append(' ');
        cachedPrefix = (site, still, batch, phase, prefix.ToString());
        return cachedPrefix.Value.Prefix;
    }
    [ThreadStatic] private static byte[]? cachedBytes;

    public static string Sample(JournalSample sample, string site, string still)
    {
        var line = cachedLine ??= new StringBuilder(512);
        line.Clear();
        line.Append(SamplePrefix(site, still, sample.BatchId, sample.Phase));
        var first = true;
        void Separator()
        {
            if (!first) line.Append(',');
            first = false;
        }

        // The journal already wrote each value in shortest round-trip form: copy the number's text instead of parsing and
        // formatting it again. This is the hot path of a backlog drain.
        var length = Encoding.UTF8.GetMaxByteCount(sample.ReadingsJson.Length);
        if (cachedBytes is null || cachedBytes.Length < length) cachedBytes = new byte[Math.Max(length, 4096)];
        var used = Encoding.UTF8.GetBytes(sample.ReadingsJson, cachedBytes);
        var reader = new Utf8JsonReader(cachedBytes.AsSpan(0, used));
        var depth = 0;
        string? field = null;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    depth++;
                    break;
                case JsonTokenType.EndObject:
                    depth--;
                    break;
                case JsonTokenType.PropertyName when depth == 1:
                    field = ChannelField(reader.ValueSpan);
                    break;
                case JsonTokenType.PropertyName when depth == 2 && field is not null && reader.ValueTextEquals("value"u8):
                    reader.Read();
                    Separator();
                    line.Append(field).Append('=');
                    foreach (var b in reader.ValueSpan) line.Append((char)b);
                    break;
            }
        }

        Separator();
        line.Append("steam_valve_percent=").Append(sample.SteamPercent.ToString("R", CultureInfo.InvariantCulture));
        line.Append(",cooling_valve_percent=").Append(sample.CoolingPercent.ToString("R", CultureInfo.InvariantCulture));
        line.Append(",held=").Append(sample.Held ? '1' : '0');
        if (sample.StrengthPercent is { } strength) line.Append(",strength_percent_volume=").Append(strength.ToString("R", CultureInfo.InvariantCulture));
        // Nanoseconds (written with WritePrecision.Ns): the journal's millisecond, exactly.
        line.Append(' ').Append(sample.At.ToUnixTimeMilliseconds()).Append("000000");
        return line.ToString();
    }

    private static string? ChannelField(ReadOnlySpan<byte> name)
    {
        for (var i = 0; i < Channels.Count; i++)
        {
            if (name.SequenceEqual(ChannelNamesUtf8[i])) return FieldNames[i];
        }
        return null;
    }

    private static readonly byte[][] ChannelNamesUtf8 = Channels.Names.Select(Encoding.UTF8.GetBytes).ToArray();

    public static string Event(JournalEvent e, string site, string still)
    {
        var line = new StringBuilder(256);
        line.Append(EventMeasurement);
        Tags(line, site, still, e.BatchId, e.Phase);
        line.Append(",kind=").Append(EscapeTag(e.Kind)).Append(",code=").Append(EscapeTag(e.Code));
        line.Append(" seq=").Append(e.Sequence.ToString(CultureInfo.InvariantCulture)).Append("i,count=1i,message=\"")
            .Append(PrintableText.Of(e.Message).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
        line.Append(' ').Append(EventTimestamp(e).ToString(CultureInfo.InvariantCulture));
        return line.ToString();
    }

    /// <summary>
    /// An event's time in nanoseconds: its millisecond plus its sequence number (mod 10^6) in nanoseconds. InfluxDB identifies a
    /// point by series and time, so events of one kind and code in the same millisecond (a flood of refused commands) would
    /// otherwise overwrite each other; this keeps each one, and a rewrite of the same event is still the same point.
    /// </summary>
    public static long EventTimestamp(JournalEvent e) => e.At.ToUnixTimeMilliseconds() * 1_000_000 + e.Sequence % 1_000_000;

    private static void Tags(StringBuilder line, string site, string still, string? batch, string phase)
    {
        line.Append(",site=").Append(EscapeTag(site)).Append(",still=").Append(EscapeTag(still))
            .Append(",batch=").Append(EscapeTag(batch ?? "none")).Append(",phase=").Append(EscapeTag(phase));
    }

    // Line protocol has no escape for a line end: control characters become visible symbols (PrintableText) before escaping.
    private static string EscapeTag(string value) => value.Length == 0 ? "none" : PrintableText.Of(value)
        .Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal)
        .Replace("=", "\\=", StringComparison.Ordinal).Replace(" ", "\\ ", StringComparison.Ordinal);
}
