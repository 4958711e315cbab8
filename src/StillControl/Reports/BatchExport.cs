using System.Globalization;
using System.Text;
using System.Text.Json;
using StillControl.History;
using StillControl.Journal;
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
                Table(output, EventColumns, r.Events, r);
                break;
            case "fractions":
                Table(output, FractionColumns, r.Fractions, r);
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
        JsonTable(json, "events", EventColumns, r.Events, r);
        JsonTable(json, "fractions", FractionColumns, r.Fractions, r);
        json.WriteEndObject();
    }

    /// <summary>A column of a table: its name (with its unit) and its value, a string, a number or null. CSV and JSON share these.</summary>
    private sealed record Column<T>(string Name, Func<T, BatchReview, object?> Value);

    private static readonly Column<JournalEvent>[] EventColumns =
    [
        new("sequence", (e, _) => (double)e.Sequence), new("time_utc", (e, _) => e.At), new("seconds_from_start", (e, r) => (e.At - r.StartedAt).TotalSeconds),
        new("kind", (e, _) => e.Kind), new("code", (e, _) => e.Code), new("phase", (e, _) => e.Phase), new("channel", (e, _) => e.Channel), new("message", (e, _) => e.Message),
    ];

    private static readonly Column<FractionRow>[] FractionColumns =
    [
        new("receiver", (f, _) => f.Receiver), new("phase", (f, _) => f.Phase), new("grade", (f, _) => f.Grade), new("volume_litres", (f, _) => f.VolumeLitres),
        new("mass_kilograms", (f, _) => f.MassKilograms), new("strength_percent_volume", (f, _) => f.AbvPercent), new("pure_alcohol_litres", (f, _) => f.PureAlcoholLitres),
        new("share_of_alcohol_percent", (f, _) => f.SharePercent),
    ];

    private static void Table<T>(TextWriter output, Column<T>[] columns, IEnumerable<T> rows, BatchReview r)
    {
        Line(output, columns.Select(c => c.Name).ToArray());
        foreach (var row in rows)
        {
            Line(output, columns.Select(c => c.Value(row, r) switch
            {
                null => "",
                double d => Number(d),
                DateTimeOffset t => Iso(t),
                var other => other.ToString() ?? "",
            }).ToArray());
        }
    }

    private static void JsonTable<T>(Utf8JsonWriter json, string name, Column<T>[] columns, IEnumerable<T> rows, BatchReview r)
    {
        json.WriteStartArray(name);
        foreach (var row in rows)
        {
            json.WriteStartObject();
            foreach (var column in columns)
            {
                switch (column.Value(row, r))
                {
                    case null: json.WriteNull(column.Name); break;
                    case double d: json.WriteNumber(column.Name, d); break;
                    case DateTimeOffset t: json.WriteString(column.Name, t); break;
                    case var other: json.WriteString(column.Name, other.ToString()); break;
                }
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
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
