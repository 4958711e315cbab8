using System.Globalization;
using System.Text;
using System.Text.Json;
using StillControl.History;
using StillControl.Process;

namespace StillControl.Reports;

/// <summary>
/// A batch's samples, events and fractions for a spreadsheet or another program. CSV follows RFC 4180 (CRLF line ends, a
/// header row, fields with a comma, quote or line break quoted and their quotes doubled), times are ISO 8601 UTC, numbers
/// invariant culture in shortest round-trip form, column names carry their units (the same names the history writer uses).
/// </summary>
public static class BatchExport
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    public static readonly string[] Tables = ["samples", "events", "fractions"];

    /// <summary>Channels that have a value or a fault in at least one sample, in channel order.</summary>
    public static Channel[] ChannelsIn(BatchReview r) =>
        Channels.All.Where(c => r.Samples.Any(s => !double.IsNaN(s.Values[(int)c]) || s.Faults[(int)c] is not null)).ToArray();

    public static void WriteCsv(BatchReview r, string table, TextWriter output)
    {
        switch (table)
        {
            case "samples":
                var channels = ChannelsIn(r);
                Line(output, ["time_utc", "seconds_from_start", "phase", "held", "steam_valve_percent", "cooling_valve_percent", "receiver", "strength_percent_volume",
                    .. channels.SelectMany(c => new[] { LineProtocol.FieldName(c), LineProtocol.FieldName(c) + "_fault" })]);
                foreach (var s in r.Samples)
                {
                    var fields = new List<string>(8 + 2 * channels.Length)
                    {
                        Iso(s.At), Number((s.At - r.StartedAt).TotalSeconds), s.Phase, s.Held ? "1" : "0", Number(s.SteamPercent), Number(s.CoolingPercent),
                        s.Receiver ?? "", s.StrengthPercent is { } p ? Number(p) : "",
                    };
                    foreach (var c in channels)
                    {
                        var v = s.Values[(int)c];
                        fields.Add(double.IsNaN(v) ? "" : Number(v));
                        fields.Add(s.Faults[(int)c] ?? "");
                    }
                    Line(output, fields);
                }
                break;
            case "events":
                Line(output, ["sequence", "time_utc", "seconds_from_start", "kind", "code", "phase", "channel", "message"]);
                foreach (var e in r.Events)
                {
                    Line(output, [e.Sequence.ToString(C), Iso(e.At), Number((e.At - r.StartedAt).TotalSeconds), e.Kind, e.Code, e.Phase, e.Channel ?? "", e.Message]);
                }
                break;
            case "fractions":
                Line(output, ["receiver", "phase", "grade", "volume_litres", "mass_kilograms", "strength_percent_volume", "pure_alcohol_litres", "share_of_alcohol_percent"]);
                foreach (var f in r.Fractions)
                {
                    Line(output, [f.Receiver, f.Phase, f.Grade ?? "", Number(f.VolumeLitres), Number(f.MassKilograms), f.AbvPercent is { } a ? Number(a) : "",
                        Number(f.PureAlcoholLitres), Number(f.SharePercent)]);
                }
                break;
            default:
                throw new ArgumentException($"table '{table}': one of {string.Join(", ", Tables)}", nameof(table));
        }
    }

    public static void WriteJson(BatchReview r, Stream output)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = false });
        var channels = ChannelsIn(r);
        json.WriteStartObject();
        json.WriteString("batchId", r.Id);
        json.WriteString("still", r.Still);
        json.WriteString("recipe", r.RecipeName);
        json.WriteString("recipeVersion", r.RecipeVersion);
        json.WriteString("operator", r.Operator);
        json.WriteString("outcome", r.Outcome);
        json.WriteString("startedAt", r.StartedAt);
        if (r.EndedAt is { } end) json.WriteString("endedAt", end); else json.WriteNull("endedAt");
        json.WriteString("asOf", r.AsOf);
        json.WriteStartObject("units");
        foreach (var c in channels) json.WriteString(LineProtocol.FieldName(c), c.Unit());
        json.WriteEndObject();
        json.WriteStartArray("samples");
        foreach (var s in r.Samples)
        {
            json.WriteStartObject();
            json.WriteString("time", s.At);
            json.WriteString("phase", s.Phase);
            json.WriteBoolean("held", s.Held);
            json.WriteNumber("steam_valve_percent", s.SteamPercent);
            json.WriteNumber("cooling_valve_percent", s.CoolingPercent);
            if (s.Receiver is { } receiver) json.WriteString("receiver", receiver); else json.WriteNull("receiver");
            if (s.StrengthPercent is { } strength) json.WriteNumber("strength_percent_volume", strength); else json.WriteNull("strength_percent_volume");
            foreach (var c in channels)
            {
                var v = s.Values[(int)c];
                if (!double.IsNaN(v)) json.WriteNumber(LineProtocol.FieldName(c), v);
                else if (s.Faults[(int)c] is { } fault) json.WriteString(LineProtocol.FieldName(c) + "_fault", fault);
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("events");
        foreach (var e in r.Events)
        {
            json.WriteStartObject();
            json.WriteNumber("sequence", e.Sequence);
            json.WriteString("time", e.At);
            json.WriteString("kind", e.Kind);
            json.WriteString("code", e.Code);
            json.WriteString("phase", e.Phase);
            if (e.Channel is { } channel) json.WriteString("channel", channel); else json.WriteNull("channel");
            json.WriteString("message", e.Message);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("fractions");
        foreach (var f in r.Fractions)
        {
            json.WriteStartObject();
            json.WriteString("receiver", f.Receiver);
            json.WriteString("phase", f.Phase);
            if (f.Grade is { } grade) json.WriteString("grade", grade); else json.WriteNull("grade");
            json.WriteNumber("volume_litres", f.VolumeLitres);
            json.WriteNumber("mass_kilograms", f.MassKilograms);
            if (f.AbvPercent is { } abv) json.WriteNumber("strength_percent_volume", abv); else json.WriteNull("strength_percent_volume");
            json.WriteNumber("pure_alcohol_litres", f.PureAlcoholLitres);
            json.WriteNumber("share_of_alcohol_percent", f.SharePercent);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", C);

    private static string Number(double value) => value.ToString("R", C);

    private static void Line(TextWriter output, IReadOnlyList<string> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0) output.Write(',');
            var field = fields[i];
            if (field.AsSpan().IndexOfAny(",\"\r\n") >= 0)
            {
                output.Write('"');
                output.Write(field.Replace("\"", "\"\"", StringComparison.Ordinal));
                output.Write('"');
            }
            else
            {
                output.Write(field);
            }
        }
        output.Write("\r\n");
    }
}
