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

    public static readonly string[] Formats = ["csv", "json"];

    /// <summary>
    /// One table as the file <c>stillcontrol export --out</c> writes (and the panel downloads): CSV in UTF-8 with a byte order mark
    /// (spreadsheets then read Chinese text right), JSON in UTF-8 without one.
    /// </summary>
    public static void WriteFile(BatchReview r, string table, string format, Stream output)
    {
        if (!Tables.Contains(table)) throw new ArgumentException($"table '{table}': one of {string.Join(", ", Tables)}", nameof(table));
        switch (format)
        {
            case "json":
                WriteJson(r, output, table);
                break;
            case "csv":
                using (var writer = new StreamWriter(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), 64 * 1024, leaveOpen: true))
                {
                    WriteCsv(r, table, writer);
                }
                break;
            default:
                throw new ArgumentException($"format '{format}': one of {string.Join(", ", Formats)}", nameof(format));
        }
    }

    /// <summary>The name a download of one table gets: the batch id (only letters, digits, '.', '_' and '-' kept), the table, the format.</summary>
    public static string FileName(string batchId, string table, string format) =>
        $"{System.Text.RegularExpressions.Regex.Replace(batchId, "[^A-Za-z0-9._-]", "_")}-{table}.{format}";

    /// <summary>Channels that have a value or a fault in at least one sample, in channel order.</summary>
    public static Channel[] ChannelsIn(BatchReview r) =>
        Channels.All.Where(c => r.Samples.Any(s => !double.IsNaN(s.Values[(int)c]) || s.Faults[(int)c] is not null)).ToArray();

    public static void WriteCsv(BatchReview r, string table, TextWriter output)
    {
        switch (table)
        {
            case "samples":
                var channels = ChannelsIn(r);
                Line(output, [.. SampleColumns.Select(c => c.Name), .. channels.SelectMany(c => new[] { LineProtocol.FieldName(c), LineProtocol.FieldName(c) + "_fault" })]);
                foreach (var s in r.Samples)
                {
                    var fields = new List<string>(SampleColumns.Length + 2 * channels.Length);
                    fields.AddRange(SampleColumns.Select(c => Field(c.Value(s, r))));
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

    /// <summary>The batch's header (id, still, recipe, outcome, times, units) and its tables: all three, or the one named.</summary>
    public static void WriteJson(BatchReview r, Stream output, string? table = null)
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
        if (r.Metadata is { } m)
        {
            json.WriteStartObject("metadata");
            if (m.GrainLot is not null) json.WriteString("grainLot", m.GrainLot);
            if (m.GrainKilograms is { } kg) json.WriteNumber("grainKilograms", kg);
            if (m.Pit is not null) json.WriteString("pit", m.Pit);
            if (m.Notes is not null) json.WriteString("notes", m.Notes);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("metadata");
        }
        json.WriteStartObject("units");
        foreach (var c in channels) json.WriteString(LineProtocol.FieldName(c), c.Unit());
        json.WriteEndObject();
        if (table is null or "samples")
        {
            json.WriteStartArray("samples");
            foreach (var s in r.Samples)
            {
                json.WriteStartObject();
                foreach (var column in SampleColumns) Write(json, column.Name, column.Value(s, r));
                foreach (var c in channels)
                {
                    var v = s.Values[(int)c];
                    if (!double.IsNaN(v)) json.WriteNumber(LineProtocol.FieldName(c), v);
                    else if (s.Faults[(int)c] is { } fault) json.WriteString(LineProtocol.FieldName(c) + "_fault", fault);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        if (table is null or "events") JsonTable(json, "events", EventColumns, r.Events, r);
        if (table is null or "fractions") JsonTable(json, "fractions", FractionColumns, r.Fractions, r);
        json.WriteEndObject();
    }

    /// <summary>A column of a table: its name (with its unit) and its value, a string, a number or null. CSV and JSON share these.</summary>
    private sealed record Column<T>(string Name, Func<T, BatchReview, object?> Value);

    /// <summary>A sample's own columns; each channel adds its value and its fault after them.</summary>
    private static readonly Column<SampleRow>[] SampleColumns =
    [
        new("time_utc", (s, _) => s.At), new("seconds_from_start", (s, r) => (s.At - r.StartedAt).TotalSeconds), new("phase", (s, _) => s.Phase),
        new("held", (s, _) => s.Held), new("steam_valve_percent", (s, _) => s.SteamPercent), new("cooling_valve_percent", (s, _) => s.CoolingPercent),
        new("receiver", (s, _) => s.Receiver), new("strength_percent_volume", (s, _) => s.StrengthPercent),
    ];

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
            Line(output, columns.Select(c => Field(c.Value(row, r))).ToArray());
        }
    }

    private static void JsonTable<T>(Utf8JsonWriter json, string name, Column<T>[] columns, IEnumerable<T> rows, BatchReview r)
    {
        json.WriteStartArray(name);
        foreach (var row in rows)
        {
            json.WriteStartObject();
            foreach (var column in columns) Write(json, column.Name, column.Value(row, r));
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    /// <summary>A column's value as a CSV field: empty for none, 1 or 0 for a flag.</summary>
    private static string Field(object? value) => value switch
    {
        null => "",
        double d => Number(d),
        bool b => b ? "1" : "0",
        DateTimeOffset t => Iso(t),
        var other => other.ToString() ?? "",
    };

    private static void Write(Utf8JsonWriter json, string name, object? value)
    {
        switch (value)
        {
            case null: json.WriteNull(name); break;
            case double d: json.WriteNumber(name, d); break;
            case bool b: json.WriteBoolean(name, b); break;
            case DateTimeOffset t: json.WriteString(name, t); break;
            case var other: json.WriteString(name, other.ToString()); break;
        }
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
