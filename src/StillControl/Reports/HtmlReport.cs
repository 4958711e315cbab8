using System.Globalization;
using System.Text;
using StillControl.Process;

namespace StillControl.Reports;

/// <summary>
/// A batch, or several side by side, as one self-contained HTML file: inline styles and inline SVG charts, no script and no
/// external asset, so it opens offline and can be mailed or archived as it is.
/// </summary>
public static class HtmlReport
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private const string Style = """
        body { font-family: "DejaVu Sans", "Noto Sans CJK SC", sans-serif; margin: 24px; color: #222; max-width: 1060px; }
        h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccc; }
        table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
        th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        th { background: #f3f3f3; } tr.total td { font-weight: bold; }
        .banner { padding: 8px 12px; margin: 8px 0; border-radius: 4px; } .running { background: #fff3cd; } .held { background: #f8d7da; }
        .timeline { display: flex; height: 30px; margin: 8px 0; border: 1px solid #999; font-size: 11px; }
        .timeline div { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; padding: 6px 3px; color: #fff; text-align: center; }
        tr[data-kind=drain] td { color: #666; } tr.total.drain td { font-weight: normal; font-style: italic; }
        td.notable { background: #fff3cd; font-weight: bold; } ul#differences li { margin: 2px 0; }
        figure.chart { margin: 12px 0; } figure.chart svg { max-width: 100%; height: auto; border: 1px solid #eee; }
        .none { color: #666; font-style: italic; } .trip { color: #c0392b; font-weight: bold; } .warning { color: #b9770e; }
        """;

    /// <summary>A batch's report. Clock times are in <paramref name="zone"/> (default: the machine's zone, which TZ sets), with the zone named.</summary>
    public static string Report(BatchReview r, TimeZoneInfo? zone = null)
    {
        var z = zone ?? TimeZoneInfo.Local;
        var html = new StringBuilder(64 * 1024);
        Open(html, $"Batch {r.Id}");
        html.Append(C, $"<h1>Batch {E(r.Id)}</h1>\n");
        html.Append("<table id=\"header\">\n");
        Row(html, "Still", r.Still);
        Row(html, "Recipe", $"{r.RecipeName}, version {r.RecipeVersion}" + (r.RecipeProblem is null ? "" : $" (stored recipe no longer reads: {r.RecipeProblem})"));
        Row(html, "Operator", r.Operator);
        Row(html, "Started", Time(r.StartedAt, z), "started");
        Row(html, "Ended", r.EndedAt is { } end ? Time(end, z) : "—", "ended");
        Row(html, "Times in", ZoneName(z, r.StartedAt) + "; clock times in the tables are from the batch start", "zone");
        Row(html, "Outcome", r.Outcome + (r.HoldCause is null ? "" : $" ({r.HoldCause})"));
        if (r.Metadata is { } m)
        {
            if (m.GrainLot is not null) Row(html, "Grain lot", m.GrainLot, "grain-lot");
            if (m.GrainKilograms is { } kg) Row(html, "Grain fed", kg.ToString("0.#", C) + " kg", "grain-kg");
            if (m.Pit is not null) Row(html, "Pit", m.Pit, "pit");
            if (m.Notes is not null) Row(html, "Notes", m.Notes, "notes");
        }
        Row(html, "Spirit", string.Create(C, $"{r.SpiritVolumeLitres:0.0} L at {N(BatchReview.MeanStrength(r.Spirit), "0.0")} % vol (heads, hearts, tails), {r.SpiritPureAlcoholLitres:0.00} L pure alcohol, of which hearts {r.HeartsPureAlcoholLitres:0.00} L"), "spirit");
        if (r.Drain.Any())
        {
            Row(html, "Drain", string.Create(C, $"{r.DrainVolumeLitres:0.0} L at {N(BatchReview.MeanStrength(r.Drain), "0.0")} % vol ({r.DrainPureAlcoholLitres:0.00} L pure alcohol): grain-steaming water, not spirit"), "drain");
        }
        foreach (var y in r.Yields)
        {
            Row(html, y.Basis == "hearts" ? "Yield, hearts" : "Yield, all spirit", string.Create(C,
                $"{y.Percent65:0.0} % (出酒率: kg of 65 % vol spirit per 100 kg grain); {y.PureAlcoholLitresPer100Kg:0.00} L pure alcohol, {y.Litres65Per100Kg:0.0} L at 65 % vol per 100 kg grain"),
                y.Basis == "hearts" ? "yield-hearts" : "yield-spirit");
        }
        html.Append("</table>\n");
        if (!r.Finished)
        {
            html.Append(C, $"<p class=\"banner {(r.Outcome == "held" ? "held" : "running")}\" id=\"unfinished\" data-activity=\"{E(r.Activity ?? "")}\">This batch has not ended ({E(r.Outcome)}; {E(r.ActivityText ?? "")}): the report reaches {E(Time(r.AsOf, z))}, {E(BatchReview.Duration((r.AsOf - r.StartedAt).TotalSeconds))} after the start.</p>\n");
        }

        html.Append("<h2>Phases</h2>\n<div class=\"timeline\" id=\"timeline\">");
        foreach (var p in r.Phases)
        {
            html.Append(C, $"<div style=\"background: {Charts.PhaseHex(p.Phase)}; flex-grow: {Math.Max(p.Seconds, 1):0}\" data-phase=\"{E(p.Phase)}\" title=\"{E(p.Phase)} {E(BatchReview.Duration(p.Seconds))}\">{E(p.Phase)}</div>");
        }
        html.Append("</div>\n<table id=\"phases\"><tr><th>phase</th><th>start</th><th>duration</th><th>cooling on</th><th>target °C</th><th>limit °C</th><th>highest °C</th><th>steam rule</th><th>slow cap %</th><th>mean steam %</th><th>ended by</th></tr>\n");
        foreach (var p in r.Phases)
        {
            html.Append(C, $"<tr><td>{E(p.Phase)}</td><td>{Clock(r, p.Start)}</td><td class=\"n\">{E(BatchReview.Duration(p.Seconds))}</td><td>{E(p.CoolingChannel)}</td>" +
                $"<td class=\"n\">{N(p.CoolingTargetCelsius, "0.0")}</td><td class=\"n\">{N(p.CoolingMaximumCelsius, "0.0")}</td><td class=\"n\">{N(p.CoolingMaxSeenCelsius, "0.0")}</td>" +
                $"<td>{E(p.SteamRule ?? "—")}</td><td class=\"n\">{N(p.SteamCapPercent, "0")}</td><td class=\"n\">{N(p.SteamMeanPercent, "0.0")}</td><td class=\"ended-by\">{E(p.EndReason ?? (p.End is null ? "(running)" : "—"))}</td></tr>\n");
        }
        html.Append("</table>\n");

        html.Append("<h2>Over time</h2>\n");
        var minutes = r.Samples.Select(s => Charts.Minutes(r, s.At)).ToArray();
        if (r.Samples.Count == 0)
        {
            html.Append("<p class=\"none\">No samples in the journal for this batch yet.</p>\n");
        }
        else
        {
            const string Bands = "Phases are the bands behind the lines, in the timeline's colours; alarms dashed red (trip) and orange (warning).";
            Figure(html, "temperatures", Charts.TemperatureChart(r, minutes), "Steam, vapour, bed, cooling-water and distillate temperatures; each phase's cooling target (dotted green) and limit (dashed red). " + Bands);
            Figure(html, "steam", Charts.SteamChart(r, minutes), "Valve openings and steam pressure. " + Bands);
            Figure(html, "distillate", Charts.DistillateChart(r, minutes), "Distillate flow and strength. " + Bands);
            var cuts = r.Cuts();
            if (r.StrengthAgainstVolume().Litres.Length > 1)
            {
                Figure(html, "strength-volume", Charts.StrengthVolumeChart(r, cuts), "The spirit's strength against the litres run off since the first drop (distillate flow integrated), to the end of the tails; the dashed lines are the cuts.");
                html.Append("<table id=\"cuts\"><tr><th>cut</th><th>at</th><th>litres run off</th><th>strength % vol</th></tr>\n");
                foreach (var cut in cuts)
                {
                    html.Append(C, $"<tr class=\"cut\"><td>{E(cut.Label)}</td><td>{Clock(r, cut.At)}</td><td class=\"n\">{cut.CumulativeLitres:0.0}</td><td class=\"n\">{N(cut.StrengthPercent, "0.0")}</td></tr>\n");
                }
                html.Append("</table>\n");
            }
        }

        html.Append("<h2>Fractions</h2>\n");
        FractionTable(html, r);

        html.Append("<h2>Deviations from the recipe</h2>\n");
        if (r.Deviations.Count == 0)
        {
            html.Append(r.Recipe is null ? "<p class=\"none\">The stored recipe cannot be read, so deviations cannot be judged.</p>\n" : "<p class=\"none\" id=\"deviations\">None: cooling stayed within each phase's limit and steam within the slow-steam cap.</p>\n");
        }
        else
        {
            html.Append("<ul id=\"deviations\">\n");
            foreach (var d in r.Deviations) html.Append(C, $"<li>{E(d.Description)}</li>\n");
            html.Append("</ul>\n");
        }

        html.Append("<h2>Alarms and interlock trips</h2>\n");
        if (r.Alarms.Count == 0)
        {
            html.Append("<p class=\"none\">No alarms.</p>\n");
        }
        else
        {
            html.Append("<table id=\"alarms\"><tr><th>raised</th><th>severity</th><th>alarm</th><th>phase</th><th>lasted</th><th>acknowledged</th><th>detail</th></tr>\n");
            foreach (var a in r.Alarms)
            {
                html.Append(C, $"<tr><td>{Clock(r, a.RaisedAt)}</td><td class=\"{E(a.Severity)}\">{E(a.Severity)}</td><td>{E(a.Code)}</td><td>{E(a.Phase)}</td>" +
                    $"<td class=\"n\">{E(BatchReview.Duration(a.DurationSeconds))}{(a.Ongoing ? " (not cleared)" : "")}</td><td>{(a.AcknowledgedAt is { } k ? Clock(r, k) : "—")}</td><td>{E(a.Detail)}</td></tr>\n");
            }
            html.Append("</table>\n");
        }

        html.Append("<h2>Operator commands</h2>\n");
        if (r.Actions.Count == 0)
        {
            html.Append("<p class=\"none\">No commands.</p>\n");
        }
        else
        {
            html.Append("<table id=\"commands\"><tr><th>at</th><th>command</th><th>operator</th><th>from</th><th>answer</th><th>reason</th></tr>\n");
            foreach (var a in r.Actions)
            {
                html.Append(C, $"<tr><td>{Clock(r, a.At)}</td><td>{E(a.Command)}{(a.Argument is null ? "" : " " + E(a.Argument))}</td><td>{E(a.Operator)}</td><td>{E(a.Source)}</td>" +
                    $"<td>{(a.Accepted ? "accepted" : "<span class=\"trip\">refused</span>")}</td><td>{E(a.Reason)}</td></tr>\n");
            }
            html.Append("</table>\n");
        }
        html.Append(C, $"<p class=\"none\">From journal samples: {r.Samples.Count}, events: {r.Events.Count}. Times in the tables are from the batch start; clock times {E(ZoneName(z, r.StartedAt))}.</p>\n");
        Close(html, z);
        return html.ToString();
    }

    /// <summary>Fraction table: the numbers a test and a quality manager read back, with fixed decimals.</summary>
    private static void FractionTable(StringBuilder html, BatchReview r)
    {
        if (r.Fractions.Count == 0)
        {
            html.Append("<p class=\"none\">No spirit collected.</p>\n");
            return;
        }
        html.Append("<table id=\"fractions\"><tr><th>receiver</th><th>phase</th><th>grade</th><th>volume L</th><th>mass kg</th><th>mean strength % vol</th><th>pure alcohol L</th><th>share of alcohol %</th></tr>\n");
        foreach (var f in r.Fractions)
        {
            html.Append(C, $"<tr class=\"fraction\"{(f.Drain ? " data-kind=\"drain\"" : "")}><td>{E(f.Receiver)}</td><td>{E(f.Phase)}</td><td>{E(f.Grade ?? "—")}</td><td class=\"n\">{f.VolumeLitres:0.000}</td>" +
                $"<td class=\"n\">{f.MassKilograms:0.000}</td><td class=\"n\">{N(f.AbvPercent, "0.00")}</td><td class=\"n\">{f.PureAlcoholLitres:0.000}</td><td class=\"n\">{f.SharePercent:0.0}</td></tr>\n");
        }
        void Total(string name, string css, IReadOnlyList<FractionRow> rows)
        {
            if (rows.Count == 0) return;
            html.Append(C, $"<tr class=\"total {css}\"><td>{E(name)}</td><td></td><td></td><td class=\"n\">{rows.Sum(f => f.VolumeLitres):0.000}</td><td class=\"n\">{rows.Sum(f => f.MassKilograms):0.000}</td>" +
                $"<td class=\"n\">{N(BatchReview.MeanStrength(rows), "0.00")}</td><td class=\"n\">{rows.Sum(f => f.PureAlcoholLitres):0.000}</td><td class=\"n\">{rows.Sum(f => f.SharePercent):0.0}</td></tr>\n");
        }
        Total("spirit (heads, hearts, tails)", "spirit", r.Spirit.ToList());
        Total("drain (not spirit)", "drain", r.Drain.ToList());
        html.Append("</table>\n");
    }

    public static string Compare(IReadOnlyList<BatchReview> reviews, ComparisonTable table, TimeZoneInfo? zone = null)
    {
        var z = zone ?? TimeZoneInfo.Local;
        var html = new StringBuilder(64 * 1024);
        Open(html, "Batch comparison");
        html.Append("<h1>Batch comparison</h1>\n");
        html.Append(C, $"<p>Differences are against the first batch, {E(reviews[0].Id)}; a marked cell differs notably (see the list). Times in {E(ZoneName(z, reviews[0].StartedAt))}.</p>\n");
        var notable = table.Rows.Where(r => r.Notes is not null && r.Notes.Any(n => n is not null)).ToList();
        if (notable.Count == 0)
        {
            html.Append("<p class=\"none\" id=\"differences\">No notable differences.</p>\n");
        }
        else
        {
            html.Append("<h2>Notable differences</h2>\n<ul id=\"differences\">\n");
            foreach (var row in notable)
            {
                for (var i = 0; i < row.Cells.Count; i++)
                {
                    if (row.Notes![i] is { } note) html.Append(C, $"<li data-row=\"{E(row.Label)}\" data-batch=\"{E(table.Batches[i])}\"><b>{E(row.Label)}</b>: {E(table.Batches[i])} {E(note)}</li>\n");
                }
            }
            html.Append("</ul>\n");
        }
        html.Append("<table id=\"comparison\"><tr><th></th>");
        foreach (var r in reviews) html.Append(C, $"<th>{E(r.Id)}</th>");
        html.Append("</tr>\n");
        foreach (var row in table.Rows)
        {
            html.Append(C, $"<tr><td>{E(row.Label)}</td>");
            for (var i = 0; i < row.Cells.Count; i++)
            {
                var note = row.Notes?[i];
                html.Append(C, $"<td class=\"n{(note is null ? "" : " notable")}\"{(note is null ? "" : $" title=\"{E(note)}\"")}>{E(row.Cells[i])}</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</table>\n<h2>Overlaid from the first drop of distillate</h2>\n");
        var meters = reviews.ToDictionary(r => r, r => r.Samples.Any(x => !double.IsNaN(x.Values[(int)Channel.Strength])));
        var overlays = new (string Name, string Title, string Unit, Func<BatchReview, SampleRow, double> Value, Func<BatchReview, bool> Has)[]
        {
            ("vapour", "Still-head vapour by batch", "°C", (r, s) => s.Values[(int)Channel.Vapour], r => r.Samples.Any(s => !double.IsNaN(s.Values[(int)Channel.Vapour]))),
            ("distillate", "Distillate temperature by batch", "°C", (r, s) => s.Values[(int)Channel.Distillate], r => r.Samples.Any(s => !double.IsNaN(s.Values[(int)Channel.Distillate]))),
            ("steam", "Steam temperature by batch", "°C", (r, s) => s.Values[(int)Channel.Steam], r => r.Samples.Any(s => !double.IsNaN(s.Values[(int)Channel.Steam]))),
            ("strength", "Distillate strength by batch (meter, or estimated from the vapour temperature)", "% vol",
                (r, s) => Charts.StrengthOf(s, meters[r]), r => true),
            ("steam-valve", "Steam valve by batch", "%", (r, s) => s.SteamPercent, r => true),
            ("steam-pressure", "Steam pressure by batch", "kPa", (r, s) => s.Values[(int)Channel.SteamPressure], r => r.Samples.Any(s => !double.IsNaN(s.Values[(int)Channel.SteamPressure]))),
        };
        foreach (var (name, title, unit, value, has) in overlays)
        {
            if (!reviews.Any(has)) continue;
            Figure(html, name, Charts.Overlay(reviews, title, unit, value), $"{title}: minute 0 is each batch's first drop of distillate.");
        }
        Close(html, z);
        return html.ToString();
    }

    private static void Figure(StringBuilder html, string name, string svg, string caption) =>
        html.Append(C, $"<figure class=\"chart\" data-chart=\"{name}\">\n{svg}\n<figcaption>{E(caption)}</figcaption></figure>\n");

    private static void Open(StringBuilder html, string title) =>
        html.Append(C, $"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{E(title)}</title><style>{Style}</style></head><body>\n");

    private static void Close(StringBuilder html, TimeZoneInfo zone) =>
        html.Append(C, $"<p class=\"none\">StillControl report, written {E(Time(DateTimeOffset.UtcNow, zone))}.</p>\n</body></html>\n");

    private static void Row(StringBuilder html, string name, string value, string? id = null) =>
        html.Append(C, $"<tr{(id is null ? "" : $" id=\"h-{id}\"")}><th>{E(name)}</th><td>{E(value)}</td></tr>\n");

    /// <summary>HTML-escaped, with every script kept as itself (°C, 白酒) rather than as numeric entities.</summary>
    private static string E(string text) => Encoder.Encode(text);

    private static readonly System.Text.Encodings.Web.HtmlEncoder Encoder = System.Text.Encodings.Web.HtmlEncoder.Create(System.Text.Unicode.UnicodeRanges.All);

    private static string N(double? value, string format) => value is { } v ? v.ToString(format, C) : "—";

    /// <summary>A clock time in the zone, with the zone's offset then: 2026-11-30 14:02:05 +08:00.</summary>
    public static string Time(DateTimeOffset t, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(t, zone);
        return local.ToString("yyyy-MM-dd HH:mm:ss zzz", C);
    }

    /// <summary>The zone by its name and its offset from UTC at a given moment: "Asia/Shanghai (UTC+08:00)".</summary>
    public static string ZoneName(TimeZoneInfo zone, DateTimeOffset at)
    {
        var offset = zone.GetUtcOffset(at);
        return $"{zone.Id} (UTC{(offset < TimeSpan.Zero ? "-" : "+")}{offset.Duration():hh\\:mm})";
    }

    private static string Clock(BatchReview r, DateTimeOffset t)
    {
        var span = t - r.StartedAt;
        return $"{(span < TimeSpan.Zero ? "-" : "")}{(int)Math.Abs(span.TotalHours)}:{Math.Abs(span.Minutes):00}:{Math.Abs(span.Seconds):00}";
    }
}

/// <summary>
/// Batches side by side: one row per figure, one cell per batch. <see cref="ComparisonRow.Notes"/> marks the cells that differ
/// notably from the first batch (the reference): a duration by 10 % and 2 min, a volume or pure alcohol by 10 % and 0.5 L, a
/// strength by 2 % vol, a yield by 5 %, any count of trips or warnings, any other text (recipe version, outcome).
/// </summary>
public sealed record ComparisonTable(IReadOnlyList<string> Batches, IReadOnlyList<ComparisonRow> Rows)
{
    public static ComparisonTable From(IReadOnlyList<BatchReview> reviews, TimeZoneInfo? zone = null)
    {
        var z = zone ?? TimeZoneInfo.Local;
        var c = CultureInfo.InvariantCulture;
        var rows = new List<ComparisonRow>();
        void Text(string label, Func<BatchReview, string> cell, bool mark = true)
        {
            var cells = reviews.Select(cell).ToList();
            rows.Add(new ComparisonRow(label, cells, mark ? cells.Select((v, i) => i > 0 && v != cells[0] ? $"{v} against {cells[0]}" : null).ToList() : null));
        }
        void Number(string label, Func<BatchReview, double?> value, Func<double, string> show, double relative, double absolute)
        {
            var values = reviews.Select(value).ToList();
            var cells = values.Select(v => v is { } x ? show(x) : "—").ToList();
            var notes = values.Select((v, i) =>
            {
                if (i == 0 || v is not { } x || values[0] is not { } reference) return null;
                var delta = x - reference;
                var share = Math.Abs(reference) > 1e-9 ? delta / Math.Abs(reference) : double.PositiveInfinity;
                if (Math.Abs(delta) < absolute || Math.Abs(share) < relative) return null;
                return string.Create(c, $"{show(x)} against {show(reference)} ({(delta >= 0 ? "+" : "−")}{(double.IsInfinity(share) ? show(Math.Abs(delta)) : $"{Math.Abs(share) * 100:0} %")})");
            }).ToList();
            rows.Add(new ComparisonRow(label, cells, notes));
        }
        Text("recipe", r => $"{r.RecipeName} {r.RecipeVersion}");
        Text("outcome", r => r.Outcome);
        Text("started", r => TimeZoneInfo.ConvertTime(r.StartedAt, z).ToString("yyyy-MM-dd HH:mm", c), mark: false);
        Number("first distillate after start", r => r.FirstDistillateAt is { } f ? (f - r.StartedAt).TotalSeconds : null, BatchReview.Duration, 0.10, 120);
        foreach (var phase in reviews.SelectMany(r => r.Phases.Select(p => p.Phase)).Distinct())
        {
            Number($"{phase} duration", r => r.Phases.Any(p => p.Phase == phase) ? r.Phases.Where(p => p.Phase == phase).Sum(p => p.Seconds) : null, BatchReview.Duration, 0.10, 120);
        }
        foreach (var receiver in reviews.SelectMany(r => r.Fractions.Select(f => f.Receiver)).Distinct())
        {
            Number($"{receiver} L", r => r.Fractions.Any(f => f.Receiver == receiver) ? r.Fractions.Where(f => f.Receiver == receiver).Sum(f => f.VolumeLitres) : null, v => v.ToString("0.0", c), 0.10, 0.5);
            Number($"{receiver} % vol", r => BatchReview.MeanStrength(r.Fractions.Where(f => f.Receiver == receiver)), v => v.ToString("0.0", c), 0, 2);
        }
        Number("spirit total L", r => r.SpiritVolumeLitres, v => v.ToString("0.0", c), 0.10, 0.5);
        Number("spirit mean % vol", r => BatchReview.MeanStrength(r.Spirit), v => v.ToString("0.0", c), 0, 2);
        Number("drain total L", r => r.DrainVolumeLitres, v => v.ToString("0.0", c), 0.10, 0.5);
        Number("pure alcohol L", r => r.SpiritPureAlcoholLitres, v => v.ToString("0.00", c), 0.10, 0.5);
        Number("hearts pure alcohol L", r => r.HeartsPureAlcoholLitres, v => v.ToString("0.00", c), 0.10, 0.5);
        if (reviews.Any(r => r.Yields.Count > 0))
        {
            Number("grain fed kg", r => r.Metadata?.GrainKilograms, v => v.ToString("0.#", c), 0.05, 1);
            Number("yield, hearts, 出酒率 %", r => r.Yields.FirstOrDefault(y => y.Basis == "hearts")?.Percent65, v => v.ToString("0.0", c), 0.05, 0.1);
            Number("yield, all spirit, 出酒率 %", r => r.Yields.FirstOrDefault(y => y.Basis != "hearts")?.Percent65, v => v.ToString("0.0", c), 0.05, 0.1);
        }
        Number("trips", r => r.Alarms.Count(a => a.Severity == "trip"), v => v.ToString("0", c), 0, 1);
        Number("warnings", r => r.Alarms.Count(a => a.Severity != "trip"), v => v.ToString("0", c), 0, 1);
        Number("time above a cooling limit", r => r.Deviations.Where(d => d.Kind == "cooling-above-maximum").Sum(d => d.Seconds), BatchReview.Duration, 0.10, 60);
        Number("time above the slow-steam cap", r => r.Deviations.Where(d => d.Kind == "steam-above-slow-cap").Sum(d => d.Seconds), BatchReview.Duration, 0.10, 60);
        return new ComparisonTable(reviews.Select(r => r.Id).ToList(), rows);
    }

    public string ToText()
    {
        var width = Math.Max(30, Rows.Max(r => r.Label.Length) + 2);
        var column = Math.Max(16, Batches.Max(b => b.Length) + 2);
        var text = new StringBuilder();
        text.Append(new string(' ', width));
        foreach (var b in Batches) text.Append(b.PadLeft(column));
        text.AppendLine();
        foreach (var row in Rows)
        {
            text.Append(row.Label.PadRight(width));
            foreach (var cell in row.Cells) text.Append(cell.PadLeft(column));
            text.AppendLine();
        }
        return text.ToString();
    }
}

/// <param name="Notes">Per cell: how it differs notably from the first batch's, or null (the first batch's is always null).</param>
public sealed record ComparisonRow(string Label, IReadOnlyList<string> Cells, IReadOnlyList<string?>? Notes = null);
