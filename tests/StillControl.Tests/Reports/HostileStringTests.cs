using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using StillControl.Cli;
using StillControl.Journal;

namespace StillControl.Reports;

/// <summary>
/// Batch ids, operator names and notes that look like markup, quotes, commas and formulas: every output (HTML, SVG, CSV, JSON)
/// carries them as text, and none of them becomes an element, an attribute, a column or a line.
/// </summary>
public sealed class HostileStringTests : IDisposable
{
    private const string Hostile = "<script>alert('x')</script><img src=x onerror=alert(1)> & \"quoted\", =HYPERLINK(\"http://e\")\n白酒 </svg></text>";
    private const string HostileId = "still-1-20260101-000000\"><script>alert(2)</script>&amp;'";
    private readonly TestFiles files = new();

    private string Journal => files.PathOf("j.db");

    private async Task<string> Simulate(string name)
    {
        var operatorName = JsonSerializer.Serialize(Hostile);
        var scenario = $$"""
            { "metadata": { "grainLot": {{operatorName}}, "grainKilograms": 150, "pit": {{operatorName}}, "notes": {{operatorName}} },
              "operator": [ { "command": "hold", "phase": "loading", "afterSeconds": 60, "operator": {{operatorName}} },
                            { "command": "abort", "phase": "loading", "afterSeconds": 120, "operator": {{operatorName}} } ] }
            """;
        var (exit, output, error) = await InProcess.Run("simulate", "--json", "--journal", Journal, "--mqtt", "off", "--scenario", files.Write(name + ".json", scenario));
        Assert.True(exit == 0, error);
        return JsonDocument.Parse(output).RootElement.GetProperty("batchId").GetString()!;
    }

    [Fact]
    public async Task Hostile_ids_names_and_notes_stay_text_in_HTML_SVG_CSV_and_JSON()
    {
        var first = await Simulate("a");
        await Task.Delay(1100);
        var plain = await Simulate("b");
        // A batch id as hostile as the journal could ever hold (the controller itself allows far less).
        using (var connection = new SqliteConnection($"Data Source={Journal};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE batches SET id = $h WHERE id = $id; UPDATE samples SET batch_id = $h WHERE batch_id = $id; UPDATE events SET batch_id = $h WHERE batch_id = $id";
            command.Parameters.AddWithValue("$h", HostileId);
            command.Parameters.AddWithValue("$id", first);
            command.ExecuteNonQuery();
        }
        using var query = new JournalQuery(Journal);
        var hostile = BatchReview.Load(query, HostileId)!;
        var other = BatchReview.Load(query, plain)!;
        Assert.Equal(Hostile, hostile.Metadata!.Notes);
        var operators = hostile.Actions.Where(a => a.Source == "scenario").Select(a => a.Operator).Distinct().ToList();
        var stored = Assert.Single(operators);

        // HTML: the report and the comparison, as the browser reads them.
        var report = files.Write("report.html", HtmlReport.Report(hostile));
        var compare = files.Write("compare.html", HtmlReport.Compare([hostile, other], ComparisonTable.From([hostile, other])));
        foreach (var page in new[] { report, compare })
        {
            var (dom, console) = Chromium.Load(page);
            Assert.Empty(console);
            Assert.DoesNotMatch(new Regex(@"<script|<img|<[^>]*\sonerror=", RegexOptions.IgnoreCase), dom);
            Assert.Contains(DomText(HostileId), dom);
        }
        var (reportDom, _) = Chromium.Load(report);
        string Cell(string id) => WebUtility.HtmlDecode(Regex.Match(reportDom, $@"<tr id=""h-{id}""><th>[^<]*</th><td>(.*?)</td></tr>", RegexOptions.Singleline).Groups[1].Value);
        Assert.Equal(Hostile, Cell("notes"));
        Assert.Equal(Hostile, Cell("pit"));
        Assert.Equal(Hostile, Cell("grain-lot"));
        var commandRows = Regex.Matches(reportDom, @"<table id=""commands"">(.*?)</table>", RegexOptions.Singleline).Single().Groups[1].Value;
        Assert.Contains(DomText(stored), commandRows);
        Assert.Contains('<', stored);

        // SVG: the comparison's legends name the batch as text.
        var html = File.ReadAllText(compare);
        var svg = Regex.Match(html, @"data-chart=""vapour"">(.*?)</figure>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains(HostileId, SvgText.Labels(svg).Select(l => l.Text));
        Assert.DoesNotContain("<script", svg, StringComparison.OrdinalIgnoreCase);

        // CSV: Python's reader gives back every event message exactly, commas, quotes and line breaks included.
        var csv = files.PathOf("events.csv");
        using (var writer = new StreamWriter(csv, false, new System.Text.UTF8Encoding(true))) BatchExport.WriteCsv(hostile, "events", writer);
        var messages = PythonColumn(csv, "message");
        Assert.Equal(hostile.Events.Select(e => e.Message).ToList(), messages);
        Assert.Contains(messages, m => m.Contains(stored, StringComparison.Ordinal));

        // JSON: the same strings back.
        using var stream = new MemoryStream();
        BatchExport.WriteJson(hostile, stream);
        using var json = JsonDocument.Parse(stream.ToArray());
        Assert.Equal(HostileId, json.RootElement.GetProperty("batchId").GetString());
        Assert.Equal(Hostile, json.RootElement.GetProperty("metadata").GetProperty("notes").GetString());
    }

    /// <summary>Text as a browser serialises a text node: only &amp;, &lt; and &gt; escaped.</summary>
    private static string DomText(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static List<string> PythonColumn(string path, string column)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("""
            import csv, json, sys
            with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
                json.dump([row[sys.argv[2]] for row in csv.DictReader(f, dialect="excel")], sys.stdout)
            """);
        info.ArgumentList.Add(path);
        info.ArgumentList.Add(column);
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
        return JsonSerializer.Deserialize<List<string>>(output)!;
    }

    public void Dispose() => files.Dispose();
}
