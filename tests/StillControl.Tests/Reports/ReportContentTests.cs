using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using StillControl.Journal;

namespace StillControl.Reports;

/// <summary>What the report and the comparison show, each read back from the HTML and SVG and checked against the journal.</summary>
public partial class ReportTests
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private string ReportOf(string name, string? file = null)
    {
        var html = batches.Files.PathOf(file ?? $"{name}-content.html");
        if (!File.Exists(html))
        {
            var (exit, _, error) = batches.Cli("report", batches.Ids[name], "--journal", batches.Journal, "--out", html);
            Assert.True(exit == 0, error);
        }
        return File.ReadAllText(html);
    }

    /// <summary>The batch's stored state, read with SQLite directly (not through the review code).</summary>
    private JsonElement StateOf(string name)
    {
        using var connection = new SqliteConnection($"Data Source={batches.Journal};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT state_json FROM batches WHERE id = $id";
        command.Parameters.AddWithValue("$id", batches.Ids[name]);
        using var state = JsonDocument.Parse((string)command.ExecuteScalar()!);
        return state.RootElement.Clone();
    }

    private static string HeaderCell(string html, string id) =>
        WebUtility.HtmlDecode(Regex.Match(html, $@"<tr id=""h-{id}""><th>[^<]*</th><td>(.*?)</td></tr>").Groups[1].Value);

    private static string Chart(string html, string name)
    {
        var chart = Regex.Match(html, $@"data-chart=""{Regex.Escape(name)}"">(.*?)</figure>", RegexOptions.Singleline);
        Assert.True(chart.Success, $"chart {name}");
        return chart.Groups[1].Value;
    }

    private static List<string[]> Rows(string html, string tableId) =>
        Regex.Match(html, $@"<table id=""{tableId}"">(.*?)</table>", RegexOptions.Singleline).Groups[1].Value
            .Split("</tr>").Select(r => Regex.Matches(r, @"<td[^>]*>(.*?)</td>").Select(c => WebUtility.HtmlDecode(c.Groups[1].Value)).ToArray()).Where(r => r.Length > 0).ToList();

    [Theory]
    [InlineData("default")]
    [InlineData("aborted")]
    [InlineData("faulted")]
    public void The_phase_table_says_what_ended_each_phase(string name)
    {
        var rows = Rows(ReportOf(name), "phases");
        var phases = StateOf(name).GetProperty("phases").EnumerateArray().ToList();
        Assert.Equal(phases.Count, rows.Count);
        for (var i = 0; i < phases.Count; i++)
        {
            Assert.Equal(phases[i].GetProperty("phase").GetString(), rows[i][0]);
            var ended = phases[i].TryGetProperty("endReason", out var reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString() : null;
            Assert.Equal(ended ?? "(running)", rows[i][^1]);
            // What ended a phase is what began the next one.
            if (i + 1 < phases.Count) Assert.Equal(phases[i + 1].GetProperty("reason").GetString(), rows[i][^1]);
        }
        if (name == "default")
        {
            Assert.StartsWith("first distillate", rows.Single(r => r[0] == "sealed")[^1], StringComparison.Ordinal);
            Assert.StartsWith("grain steamed", rows.Single(r => r[0] == "steaming")[^1], StringComparison.Ordinal);
        }
        if (name == "aborted") Assert.StartsWith("aborted by", rows[^1][^1], StringComparison.Ordinal);
        if (name == "faulted") Assert.Equal("(running)", rows[^1][^1]);
    }

    [Fact]
    public void A_journal_written_before_end_reasons_were_kept_still_says_what_ended_each_phase()
    {
        var copy = batches.Files.PathOf("no-end-reasons.db");
        using (var source = new SqliteConnection($"Data Source={batches.Journal};Mode=ReadOnly;Pooling=False"))
        using (var target = new SqliteConnection($"Data Source={copy};Pooling=False"))
        {
            source.Open();
            target.Open();
            source.BackupDatabase(target);
            using var command = target.CreateCommand();
            // As an older controller saved it: phases without endReason.
            command.CommandText = """
                UPDATE batches SET state_json = json_remove(json_set(state_json, '$.phases',
                    (SELECT json_group_array(json(json_remove(value, '$.endReason'))) FROM json_each(batches.state_json, '$.phases'))), '$.currentPhaseRecord.endReason')
                """;
            Assert.True(command.ExecuteNonQuery() >= 3);
            command.CommandText = "SELECT count(*) FROM batches WHERE state_json LIKE '%endReason%'";
            Assert.Equal(0L, (long)command.ExecuteScalar()!);
        }
        using var query = new JournalQuery(copy);
        var review = BatchReview.Load(query, batches.Ids["default"])!;
        var rows = Rows(HtmlReport.Report(review), "phases");
        var phases = StateOf("default").GetProperty("phases").EnumerateArray().ToList();
        for (var i = 0; i + 1 < phases.Count; i++) Assert.Equal(phases[i + 1].GetProperty("reason").GetString(), rows[i][^1]);
        // The last phase: from the phase change that ended the batch.
        Assert.Equal(phases[^1].GetProperty("endReason").GetString(), rows[^1][^1]);
    }

    [Fact]
    public void Spirit_counts_heads_hearts_and_tails_and_the_drain_is_shown_apart()
    {
        var html = ReportOf("default");
        var fractions = StateOf("default").GetProperty("fractions").EnumerateArray().ToList();
        var spirit = fractions.Where(f => f.GetProperty("phase").GetString() is "heads" or "hearts" or "tails").ToList();
        var drain = fractions.Where(f => f.GetProperty("phase").GetString() == "steaming").ToList();
        Assert.NotEmpty(drain);
        var spiritLitres = spirit.Sum(f => f.GetProperty("volumeLitres").GetDouble());
        var drainLitres = drain.Sum(f => f.GetProperty("volumeLitres").GetDouble());
        Assert.True(drainLitres > spiritLitres, "the simulated drain is the larger volume, so mixing them up shows");

        var spiritCell = HeaderCell(html, "spirit");
        Assert.StartsWith(spiritLitres.ToString("0.0", C) + " L at ", spiritCell, StringComparison.Ordinal);
        Assert.Contains((spirit.Sum(f => f.GetProperty("ethanolLitres").GetDouble())).ToString("0.00", C) + " L pure alcohol", spiritCell);
        var drainCell = HeaderCell(html, "drain");
        Assert.StartsWith(drainLitres.ToString("0.0", C) + " L at ", drainCell, StringComparison.Ordinal);
        var drainStrength = drain.Sum(f => f.GetProperty("ethanolLitres").GetDouble()) / drain.Sum(f => f.GetProperty("volumeLitres").GetDouble() - f.GetProperty("unassayedLitres").GetDouble()) * 100;
        Assert.Contains($" at {drainStrength.ToString("0.0", C)} % vol", drainCell);

        // The fraction table's totals: spirit and drain on rows of their own.
        var totals = Regex.Matches(html, @"<tr class=""total (spirit|drain)"">(.*?)</tr>").ToDictionary(m => m.Groups[1].Value,
            m => Regex.Matches(m.Groups[2].Value, @"<td[^>]*>(.*?)</td>").Select(c => c.Groups[1].Value).ToArray());
        Assert.Equal(spiritLitres.ToString("0.000", C), totals["spirit"][3]);
        Assert.Equal(drainLitres.ToString("0.000", C), totals["drain"][3]);
    }

    [Fact]
    public void Times_are_in_the_stills_zone_and_the_zone_is_named()
    {
        using var journal = new JournalQuery(batches.Journal);
        var review = BatchReview.Load(journal, batches.Ids["default"])!;
        using var connection = new SqliteConnection($"Data Source={batches.Journal};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT started_at, ended_at FROM batches WHERE id = $id";
        command.Parameters.AddWithValue("$id", batches.Ids["default"]);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        var started = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0));
        var ended = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1));

        foreach (var (zoneId, offset) in new[] { ("Asia/Shanghai", TimeSpan.FromHours(8)), ("America/Chicago", TimeZoneInfo.FindSystemTimeZoneById("America/Chicago").GetUtcOffset(started)) })
        {
            var html = HtmlReport.Report(review, TimeZoneInfo.FindSystemTimeZoneById(zoneId));
            var shown = DateTimeOffset.Parse(HeaderCell(html, "started"), C);
            Assert.Equal(offset, shown.Offset);
            Assert.Equal(started.ToUnixTimeSeconds(), shown.ToUnixTimeSeconds());
            Assert.Equal(ended.ToUnixTimeSeconds(), DateTimeOffset.Parse(HeaderCell(html, "ended"), C).ToUnixTimeSeconds());
            Assert.Contains(zoneId, HeaderCell(html, "zone"));
            Assert.Contains(string.Create(C, $"UTC{(offset < TimeSpan.Zero ? "-" : "+")}{offset.Duration():hh\\:mm}"), HeaderCell(html, "zone"));
            Assert.DoesNotContain("UTC</td>", html);
        }
        // By default the machine's zone (TZ sets it).
        var local = HtmlReport.Report(review);
        Assert.Equal(TimeZoneInfo.Local.GetUtcOffset(started), DateTimeOffset.Parse(HeaderCell(local, "started"), C).Offset);
        Assert.Contains(TimeZoneInfo.Local.Id, HeaderCell(local, "zone"));
    }

    [Theory]
    [InlineData("default")]
    [InlineData("aborted")]
    [InlineData("faulted")]
    public void Phase_labels_on_the_charts_never_overlap_and_phases_are_bands_in_the_timelines_colours(string name)
    {
        var html = ReportOf(name);
        var timeline = Regex.Matches(html, @"<div style=""background: (#[0-9a-f]{6}); flex-grow: (\d+)"" data-phase=""([a-z]+)""")
            .Select(m => (Colour: m.Groups[1].Value.ToUpperInvariant(), Seconds: double.Parse(m.Groups[2].Value, C), Phase: m.Groups[3].Value)).ToList();
        var phases = StateOf(name).GetProperty("phases").EnumerateArray().Select(p => p.GetProperty("phase").GetString()!).ToList();
        Assert.Equal(phases, timeline.Select(t => t.Phase).ToList());
        Assert.True(timeline.Select(t => t.Colour).Distinct().Count() >= Math.Min(phases.Distinct().Count(), 6) - 0, "each phase its own colour");

        foreach (var chartName in new[] { "temperatures", "steam", "distillate" })
        {
            var svg = Chart(html, chartName);
            var labels = SvgText.Labels(svg).Where(l => phases.Contains(l.Text)).ToList();
            Assert.True(labels.Count >= 3, $"{name} {chartName}: {labels.Count} phase labels");
            foreach (var a in labels)
            {
                foreach (var b in labels.Where(b => !ReferenceEquals(a, b)))
                {
                    Assert.False(a.Overlaps(b), $"{name} {chartName}: '{a.Text}' ({a.Left:0}-{a.Right:0}, {a.Top:0}-{a.Bottom:0}) overlaps '{b.Text}' ({b.Left:0}-{b.Right:0}, {b.Top:0}-{b.Bottom:0})");
                }
                // Named in its band's colour.
                Assert.Equal(timeline.First(t => t.Phase == a.Text).Colour, a.Fill?.ToUpperInvariant());
            }
            // Each phase a translucent band in its timeline colour, in order, as wide as its share of the batch.
            var bands = SvgText.Rects(svg).Where(r => r.Opacity is > 0 and < 0.5 && timeline.Any(t => t.Colour == r.Fill.ToUpperInvariant())).OrderBy(r => r.X).ToList();
            var shown = timeline.Where(t => t.Seconds >= 1).ToList();
            Assert.Equal(shown.Select(t => t.Colour).ToList(), bands.Select(b => b.Fill.ToUpperInvariant()).ToList());
            var total = shown.Sum(t => t.Seconds);
            var width = bands.Sum(b => b.Width);
            for (var i = 0; i < shown.Count; i++)
            {
                Assert.True(Math.Abs(bands[i].Width / width - shown[i].Seconds / total) < 0.01, $"{name} {chartName}: {shown[i].Phase} band {bands[i].Width / width:P1} of the time, lasted {shown[i].Seconds / total:P1}");
            }
        }
    }

    [Fact]
    public void Strength_against_volume_marks_each_cut_at_the_volume_run_off_by_then()
    {
        var html = ReportOf("default");
        var fractions = StateOf("default").GetProperty("fractions").EnumerateArray().ToList();
        double Litres(Func<JsonElement, bool> which) => fractions.Where(which).Sum(f => f.GetProperty("volumeLitres").GetDouble());
        var heads = Litres(f => f.GetProperty("phase").GetString() == "heads");
        var hearts = Litres(f => f.GetProperty("phase").GetString() == "hearts");
        var tails = Litres(f => f.GetProperty("phase").GetString() == "tails");
        var firstGrade = Litres(f => f.GetProperty("phase").GetString() == "hearts" && f.GetProperty("grade").GetString() == fractions.First(g => g.GetProperty("phase").GetString() == "hearts").GetProperty("grade").GetString());
        var grades = fractions.Where(f => f.GetProperty("phase").GetString() == "hearts").Select(f => f.GetProperty("grade").GetString()!).ToList();
        Assert.True(grades.Count >= 2, "the default recipe cuts the hearts into grades");

        var cuts = Rows(html, "cuts").ToDictionary(r => r[0], r => (Litres: double.Parse(r[2], C), Strength: double.Parse(r[3], C)));
        void Near(double expected, double shown, string cut) => Assert.True(Math.Abs(shown - expected) <= Math.Max(0.5, expected * 0.02), $"{cut}: {shown} L shown, {expected:0.00} L collected by then");
        Near(heads, cuts["hearts"].Litres, "hearts");
        Near(heads + firstGrade, cuts[grades[1]].Litres, grades[1]);
        Near(heads + hearts, cuts["tails"].Litres, "tails");
        Near(heads + hearts + tails, cuts["end of spirit"].Litres, "end of spirit");
        Assert.True(cuts["hearts"].Strength > cuts["tails"].Strength && cuts["tails"].Strength > cuts["end of spirit"].Strength, "strength falls cut by cut");

        var svg = Chart(html, "strength-volume");
        var labels = SvgText.Labels(svg).Where(l => cuts.ContainsKey(l.Text)).ToList();
        Assert.Equal(cuts.Keys.Order().ToList(), labels.Select(l => l.Text).Order().ToList());
        foreach (var a in labels) Assert.DoesNotContain(labels, b => !ReferenceEquals(a, b) && a.Overlaps(b));
        // Each cut's dashed line stands at its volume on the chart's own scale.
        var (x0, dx) = SvgText.XScale(svg);
        var verticals = SvgText.Lines(svg).Where(l => l.Points.Count == 2 && Math.Abs(l.Points[0].X - l.Points[1].X) < 0.01).Select(l => (l.Points[0].X - x0) / dx).ToList();
        foreach (var (cut, at) in cuts) Assert.Contains(verticals, v => Math.Abs(v - at.Litres) < Math.Max(0.6, at.Litres * 0.02));
        // And the curve: strength over 60 % vol early in the hearts, under 20 % vol at the end of the tails.
        var (y0, dy) = SvgText.YScale(svg);
        var curve = SvgText.Lines(svg).Where(l => l.Points.Count > 100 && Math.Abs(l.Width - 1.5) < 0.01).MaxBy(l => l.Points.Count)!.Points.Select(p => (X: (p.X - x0) / dx, Y: (p.Y - y0) / dy)).ToList();
        Assert.True(curve.Where(p => p.X > heads + 2 && p.X < heads + 10).All(p => p.Y > 60), "early hearts above 60 % vol");
        Assert.True(curve.Where(p => p.X > heads + hearts + tails - 3).All(p => p.Y < 20), "the end of the tails below 20 % vol");
    }

    [Fact]
    public void Metadata_from_the_start_is_in_the_header_and_the_yield_per_100_kg_grain_follows_from_it()
    {
        var html = ReportOf("default");
        Assert.Equal(ReviewedBatches.GrainLot, HeaderCell(html, "grain-lot"));
        Assert.Equal("160 kg", HeaderCell(html, "grain-kg"));
        Assert.Equal("pit 7", HeaderCell(html, "pit"));
        Assert.Equal("new husk", HeaderCell(html, "notes"));
        // A batch with no metadata has none of these rows, and no yield.
        var plain = ReportOf("aborted");
        Assert.DoesNotContain("id=\"h-grain-kg\"", plain);
        Assert.DoesNotContain("id=\"h-yield", plain);

        // 出酒率: kg of 65 % vol spirit per 100 kg grain. 65 % vol spirit is 0.8973 kg/L at 20 °C (OIML R 22 between 60 and 70 % vol).
        var fractions = StateOf("default").GetProperty("fractions").EnumerateArray().ToList();
        foreach (var (row, phases) in new[] { ("yield-hearts", new[] { "hearts" }), ("yield-spirit", new[] { "heads", "hearts", "tails" }) })
        {
            var alcohol = fractions.Where(f => phases.Contains(f.GetProperty("phase").GetString())).Sum(f => f.GetProperty("ethanolLitres").GetDouble());
            var cell = HeaderCell(html, row);
            var m = Regex.Match(cell, @"^([\d.]+) % \(出酒率.*?\); ([\d.]+) L pure alcohol, ([\d.]+) L at 65 % vol per 100 kg grain$");
            Assert.True(m.Success, cell);
            Assert.Equal(alcohol / ReviewedBatches.GrainKilograms * 100, double.Parse(m.Groups[2].Value, C), 0.006);
            Assert.Equal(alcohol / 0.65 / ReviewedBatches.GrainKilograms * 100, double.Parse(m.Groups[3].Value, C), 0.06);
            Assert.Equal(alcohol / 0.65 * 0.8973 / ReviewedBatches.GrainKilograms * 100, double.Parse(m.Groups[1].Value, C), 0.06);
        }
    }

    [Fact]
    public void Compare_aligns_batches_at_their_first_drop_overlays_strength_and_steam_and_marks_notable_differences()
    {
        var ids = new[] { batches.Ids["default"], batches.Ids["faulted"], batches.Ids["aborted"] };
        var file = batches.Files.PathOf("compare-content.html");
        var (exit, output, error) = batches.Cli(["compare", .. ids, "--journal", batches.Journal, "--out", file, "--json"]);
        Assert.True(exit == 0, error);
        var html = File.ReadAllText(file);
        Assert.Contains("data-chart=\"strength\"", html);
        Assert.Contains("data-chart=\"steam-valve\"", html);

        // Aligned at the first drop: every batch's still-head vapour jumps past 60 °C at about minute 0 of the overlay, although
        // the batches took different times to get there from their starts (loading is the distiller's pace).
        var svg = Chart(html, "vapour");
        var (x0, dx) = SvgText.XScale(svg);
        var (y0, dy) = SvgText.YScale(svg);
        var series = SvgText.Lines(svg).Where(l => l.Points.Count > 100 && Math.Abs(l.Width - 1.5) < 0.01).ToList();
        Assert.Equal(3, series.Select(s => s.Stroke).Distinct().Count());
        foreach (var line in series)
        {
            var hot = line.Points.Select(p => (X: (p.X - x0) / dx, Y: (p.Y - y0) / dy)).First(p => p.Y > 60);
            Assert.True(Math.Abs(hot.X) < 2, $"series {line.Stroke} reaches 60 °C at minute {hot.X:0.0} of the overlay");
        }

        // Differences against the first batch, marked where they are notable, from the stored phase durations.
        using var table = JsonDocument.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..]);
        var rows = table.RootElement.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("label").GetString()!);
        double Hearts(string name) => StateOf(name).GetProperty("phases").EnumerateArray().Where(p => p.GetProperty("phase").GetString() == "hearts")
            .Sum(p => ((p.TryGetProperty("endedAt", out var e) && e.ValueKind == JsonValueKind.String ? e.GetDateTimeOffset() : DateTimeOffset.MinValue) is var end && end != DateTimeOffset.MinValue
                ? end - p.GetProperty("startedAt").GetDateTimeOffset() : TimeSpan.Zero).TotalSeconds);
        var reference = Hearts("default");
        var heartsNotes = rows["hearts duration"].GetProperty("notes").EnumerateArray().ToList();
        Assert.Equal(JsonValueKind.Null, heartsNotes[0].ValueKind);
        var aborted = Hearts("aborted");
        Assert.True(Math.Abs(aborted - reference) > Math.Max(120, 0.1 * reference), "an abort 5 min into the hearts cuts them short");
        Assert.Equal(JsonValueKind.String, heartsNotes[2].ValueKind);
        var cooling = rows["time above a cooling limit"].GetProperty("notes").EnumerateArray().ToList();
        Assert.Equal(JsonValueKind.String, cooling[1].ValueKind);
        Assert.Equal(JsonValueKind.Null, rows["loading duration"].GetProperty("notes")[0].ValueKind);
        // A row whose cells are all the same is never marked.
        foreach (var row in rows.Values.Where(r => r.GetProperty("cells").EnumerateArray().Select(c => c.GetString()).Distinct().Count() == 1))
        {
            Assert.All(NotesOf(row), n => Assert.Null(n));
        }

        // The page marks the same cells and lists them in words.
        var marked = Regex.Matches(html, @"<td class=""n notable"" title=""([^""]*)"">").Count;
        var notes = rows.Values.Sum(r => NotesOf(r).Count(n => n is not null));
        Assert.Equal(notes, marked);
        Assert.Equal(notes, Regex.Matches(Regex.Match(html, @"<ul id=""differences"">(.*?)</ul>", RegexOptions.Singleline).Groups[1].Value, "<li ").Count);
        Assert.Matches($@"<li data-row=""time above a cooling limit"" data-batch=""{batches.Ids["faulted"]}"">", html);

        var png = batches.Files.PathOf("compare.png");
        Chromium.Screenshot(file, png, height: 4400);
        Assert.True(new FileInfo(png).Length > 50_000);
        CopyForReview(png);
    }

    [Fact]
    public void The_report_with_every_section_renders_in_Chromium()
    {
        var file = batches.Files.PathOf("default-content.html");
        ReportOf("default");
        var (dom, console) = Chromium.Load(file);
        Assert.Empty(console);
        foreach (var chart in new[] { "temperatures", "steam", "distillate", "strength-volume" }) Assert.Contains($"data-chart=\"{chart}\"", dom);
        var png = batches.Files.PathOf("report.png");
        Chromium.Screenshot(file, png, height: 4400);
        Assert.True(new FileInfo(png).Length > 50_000);
        CopyForReview(png);
    }

    /// <summary>A comparison row's notes: null for a row that is never marked (the start times).</summary>
    private static List<string?> NotesOf(JsonElement row) => row.GetProperty("notes") is { ValueKind: JsonValueKind.Array } notes
        ? notes.EnumerateArray().Select(n => n.ValueKind == JsonValueKind.String ? n.GetString() : null).ToList()
        : row.GetProperty("cells").EnumerateArray().Select(_ => (string?)null).ToList();

    /// <summary>Keeps screenshots where a person can look at them: STILLCONTROL_SCREENSHOTS names a folder.</summary>
    private static void CopyForReview(string png)
    {
        if (Environment.GetEnvironmentVariable("STILLCONTROL_SCREENSHOTS") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            File.Copy(png, Path.Combine(folder, Path.GetFileName(png)), overwrite: true);
        }
    }
}
