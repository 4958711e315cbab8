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
        th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
        th { background: #f3f3f3; } tr.total td { font-weight: bold; }
        .banner { padding: 8px 12px; margin: 8px 0; border-radius: 4px; } .running { background: #fff3cd; } .held { background: #f8d7da; }
        .timeline { display: flex; height: 30px; margin: 8px 0; border: 1px solid #999; font-size: 11px; }
        .timeline div { overflow: hidden; white-space: nowrap; padding: 6px 3px; color: #fff; text-align: center; }
        .loading { background: #7f8c8d; } .sealed { background: #95a5a6; } .heads { background: #e67e22; } .hearts { background: #27ae60; }
        .tails { background: #2980b9; } .steaming { background: #8e44ad; } .other { background: #555; }
        figure.chart { margin: 12px 0; } figure.chart svg { max-width: 100%; height: auto; border: 1px solid #eee; }
        .none { color: #666; font-style: italic; } .trip { color: #c0392b; font-weight: bold; } .warning { color: #b9770e; }
        """;

    public static string Report(BatchReview r)
    {
        var html = new StringBuilder(64 * 1024);
        Open(html, $"Batch {r.Id}");
        html.Append(C, $"<h1>Batch {E(r.Id)}</h1>\n");
        html.Append("<table id=\"header\">\n");
        Row(html, "Still", r.Still);
        Row(html, "Recipe", $"{r.RecipeName}, version {r.RecipeVersion}" + (r.RecipeProblem is null ? "" : $" (stored recipe no longer reads: {r.RecipeProblem})"));
        Row(html, "Operator", r.Operator);
        Row(html, "Started", Time(r.StartedAt));
        Row(html, "Ended", r.EndedAt is { } end ? Time(end) : "—");
        Row(html, "Outcome", r.Outcome + (r.HoldCause is null ? "" : $" ({r.HoldCause})"));
        Row(html, "Spirit", string.Create(C, $"{r.TotalVolumeLitres:0.0} L collected, {r.TotalPureAlcoholLitres:0.00} L pure alcohol, of which hearts {r.HeartsPureAlcoholLitres:0.00} L"));
        html.Append("</table>\n");
        if (!r.Finished)
        {
            html.Append(C, $"<p class=\"banner {(r.Outcome == "held" ? "held" : "running")}\" id=\"unfinished\" data-activity=\"{E(r.Activity ?? "")}\">This batch has not ended ({E(r.Outcome)}; {E(r.ActivityText ?? "")}): the report reaches {Time(r.AsOf)}, {E(BatchReview.Duration((r.AsOf - r.StartedAt).TotalSeconds))} after the start.</p>\n");
        }

        html.Append("<h2>Phases</h2>\n<div class=\"timeline\" id=\"timeline\">");
        foreach (var p in r.Phases)
        {
            var css = p.Phase is "loading" or "sealed" or "heads" or "hearts" or "tails" or "steaming" ? p.Phase : "other";
            html.Append(C, $"<div class=\"{css}\" style=\"flex-grow: {Math.Max(p.Seconds, 1):0}\" title=\"{E(p.Phase)} {E(BatchReview.Duration(p.Seconds))}\">{E(p.Phase)}</div>");
        }
        html.Append("</div>\n<table id=\"phases\"><tr><th>phase</th><th>start</th><th>duration</th><th>cooling on</th><th>target °C</th><th>limit °C</th><th>highest °C</th><th>steam rule</th><th>slow cap %</th><th>mean steam %</th><th>ended by</th></tr>\n");
        foreach (var p in r.Phases)
        {
            html.Append(C, $"<tr><td>{E(p.Phase)}</td><td>{Clock(r, p.Start)}</td><td class=\"n\">{E(BatchReview.Duration(p.Seconds))}</td><td>{E(p.CoolingChannel)}</td>" +
                $"<td class=\"n\">{N(p.CoolingTargetCelsius, "0.0")}</td><td class=\"n\">{N(p.CoolingMaximumCelsius, "0.0")}</td><td class=\"n\">{N(p.CoolingMaxSeenCelsius, "0.0")}</td>" +
                $"<td>{E(p.SteamRule ?? "—")}</td><td class=\"n\">{N(p.SteamCapPercent, "0")}</td><td class=\"n\">{N(p.SteamMeanPercent, "0.0")}</td><td>{E(p.Reason)}</td></tr>\n");
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
            Figure(html, "temperatures", Charts.TemperatureChart(r, minutes), "Steam, vapour, bed, cooling-water and distillate temperatures; each phase's cooling target (dotted green) and limit (dashed red); phase boundaries grey, alarms red (trip) and orange (warning).");
            Figure(html, "steam", Charts.SteamChart(r, minutes), "Valve openings and steam pressure.");
            Figure(html, "distillate", Charts.DistillateChart(r, minutes), "Distillate flow and strength.");
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
        html.Append(C, $"<p class=\"none\">From journal samples: {r.Samples.Count}, events: {r.Events.Count}. Times are from the batch start; clock times UTC.</p>\n");
        Close(html);
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
            html.Append(C, $"<tr class=\"fraction\"><td>{E(f.Receiver)}</td><td>{E(f.Phase)}</td><td>{E(f.Grade ?? "—")}</td><td class=\"n\">{f.VolumeLitres:0.000}</td>" +
                $"<td class=\"n\">{f.MassKilograms:0.000}</td><td class=\"n\">{N(f.AbvPercent, "0.00")}</td><td class=\"n\">{f.PureAlcoholLitres:0.000}</td><td class=\"n\">{f.SharePercent:0.0}</td></tr>\n");
        }
        html.Append(C, $"<tr class=\"total\"><td>all</td><td></td><td></td><td class=\"n\">{r.TotalVolumeLitres:0.000}</td><td class=\"n\">{r.Fractions.Sum(f => f.MassKilograms):0.000}</td>" +
            $"<td class=\"n\">{(r.TotalVolumeLitres > 0 ? (r.TotalPureAlcoholLitres / r.TotalVolumeLitres * 100).ToString("0.00", C) : "—")}</td><td class=\"n\">{r.TotalPureAlcoholLitres:0.000}</td><td class=\"n\">100.0</td></tr>\n");
        html.Append("</table>\n");
    }

    public static string Compare(IReadOnlyList<BatchReview> reviews, ComparisonTable table)
    {
        var html = new StringBuilder(64 * 1024);
        Open(html, "Batch comparison");
        html.Append("<h1>Batch comparison</h1>\n<table id=\"comparison\"><tr><th></th>");
        foreach (var r in reviews) html.Append(C, $"<th>{E(r.Id)}</th>");
        html.Append("</tr>\n");
        foreach (var row in table.Rows)
        {
            html.Append(C, $"<tr><td>{E(row.Label)}</td>");
            foreach (var cell in row.Cells) html.Append(C, $"<td class=\"n\">{E(cell)}</td>");
            html.Append("</tr>\n");
        }
        html.Append("</table>\n<h2>Temperatures overlaid</h2>\n");
        foreach (var channel in new[] { Channel.Vapour, Channel.Distillate, Channel.Steam })
        {
            if (reviews.All(r => r.Samples.All(s => double.IsNaN(s.Values[(int)channel])))) continue;
            Figure(html, channel.Name(), Charts.Overlay(reviews, channel), $"{channel.Name()} of each batch, from its own start.");
        }
        Close(html);
        return html.ToString();
    }

    private static void Figure(StringBuilder html, string name, string svg, string caption) =>
        html.Append(C, $"<figure class=\"chart\" data-chart=\"{name}\">\n{svg}\n<figcaption>{E(caption)}</figcaption></figure>\n");

    private static void Open(StringBuilder html, string title) =>
        html.Append(C, $"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{E(title)}</title><style>{Style}</style></head><body>\n");

    private static void Close(StringBuilder html) =>
        html.Append(C, $"<p class=\"none\">StillControl report, written {Time(DateTimeOffset.UtcNow)}.</p>\n</body></html>\n");

    private static void Row(StringBuilder html, string name, string value) => html.Append(C, $"<tr><th>{E(name)}</th><td>{E(value)}</td></tr>\n");

    /// <summary>HTML-escaped, with every script kept as itself (°C, 白酒) rather than as numeric entities.</summary>
    private static string E(string text) => Encoder.Encode(text);

    private static readonly System.Text.Encodings.Web.HtmlEncoder Encoder = System.Text.Encodings.Web.HtmlEncoder.Create(System.Text.Unicode.UnicodeRanges.All);

    private static string N(double? value, string format) => value is { } v ? v.ToString(format, C) : "—";

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", C);

    private static string Clock(BatchReview r, DateTimeOffset t)
    {
        var span = t - r.StartedAt;
        return $"{(span < TimeSpan.Zero ? "-" : "")}{(int)Math.Abs(span.TotalHours)}:{Math.Abs(span.Minutes):00}:{Math.Abs(span.Seconds):00}";
    }
}

/// <summary>Batches side by side: one row per figure, one cell per batch.</summary>
public sealed record ComparisonTable(IReadOnlyList<string> Batches, IReadOnlyList<ComparisonRow> Rows)
{
    public static ComparisonTable From(IReadOnlyList<BatchReview> reviews)
    {
        var c = CultureInfo.InvariantCulture;
        var rows = new List<ComparisonRow>();
        void Add(string label, Func<BatchReview, string> cell) => rows.Add(new ComparisonRow(label, reviews.Select(cell).ToList()));
        Add("recipe", r => $"{r.RecipeName} {r.RecipeVersion}");
        Add("outcome", r => r.Outcome);
        Add("started", r => r.StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", c));
        foreach (var phase in reviews.SelectMany(r => r.Phases.Select(p => p.Phase)).Distinct())
        {
            Add($"{phase} duration", r => r.Phases.Where(p => p.Phase == phase).Sum(p => p.Seconds) is var s && r.Phases.Any(p => p.Phase == phase) ? BatchReview.Duration(s) : "—");
        }
        foreach (var receiver in reviews.SelectMany(r => r.Fractions.Select(f => f.Receiver)).Distinct())
        {
            Add($"{receiver} L", r => r.Fractions.Where(f => f.Receiver == receiver).Sum(f => f.VolumeLitres).ToString("0.0", c));
            Add($"{receiver} % vol", r => r.Fractions.FirstOrDefault(f => f.Receiver == receiver)?.AbvPercent is { } a ? a.ToString("0.0", c) : "—");
        }
        Add("pure alcohol L", r => r.TotalPureAlcoholLitres.ToString("0.00", c));
        Add("hearts pure alcohol L", r => r.HeartsPureAlcoholLitres.ToString("0.00", c));
        Add("trips", r => r.Alarms.Count(a => a.Severity == "trip").ToString(c));
        Add("warnings", r => r.Alarms.Count(a => a.Severity != "trip").ToString(c));
        Add("time above a cooling limit", r => BatchReview.Duration(r.Deviations.Where(d => d.Kind == "cooling-above-maximum").Sum(d => d.Seconds)));
        Add("time above the slow-steam cap", r => BatchReview.Duration(r.Deviations.Where(d => d.Kind == "steam-above-slow-cap").Sum(d => d.Seconds)));
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

public sealed record ComparisonRow(string Label, IReadOnlyList<string> Cells);
