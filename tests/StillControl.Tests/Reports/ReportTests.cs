using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using StillControl.Cli;
using StillControl.History;
using StillControl.Process;

namespace StillControl.Reports;

/// <summary>Three simulated batches in one journal: completed, aborted, and held by a fault (with a cooling deviation).</summary>
public sealed class ReviewedBatches : IDisposable
{
    public TestFiles Files { get; } = new();

    public string Journal => Files.PathOf("journal.db");

    public Dictionary<string, string> Ids { get; } = [];

    public const string GrainLot = "GL-2026-11 高粱";
    public const double GrainKilograms = 160;

    public ReviewedBatches()
    {
        // The distiller entered the grain and the pit on the start form (here: the scenario's metadata).
        Run("default", $$"""{ "metadata": { "grainLot": "{{GrainLot}}", "grainKilograms": {{GrainKilograms}}, "pit": "pit 7", "notes": "new husk" } }""");
        Run("aborted", """{ "operator": [ { "command": "abort", "phase": "hearts", "afterSeconds": 300 } ] }""");
        // Hot cooling water pushes the distillate over the hearts limit, then the vapour probe fails: held, not ended.
        Run("faulted", """{ "faults": [ { "kind": "cooling-water-low", "factor": 0.12, "phase": "hearts", "afterSeconds": 120, "forSeconds": 300 }, { "kind": "sensor-disconnect", "channel": "vapour", "phase": "hearts", "afterSeconds": 900 } ] }""");
    }

    private void Run(string name, string? scenario)
    {
        // Batch ids carry the start second: keep the runs in different seconds.
        Thread.Sleep(1100);
        var args = new List<string> { "simulate", "--json", "--journal", Journal, "--mqtt", "off" };
        if (scenario is not null) args.AddRange(["--scenario", Files.Write($"{name}.json", scenario)]);
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.RunAsync(args.ToArray(), output, error).GetAwaiter().GetResult();
        Assert.True(exit == 0, error.ToString());
        using var result = JsonDocument.Parse(output.ToString());
        Ids[name] = result.RootElement.GetProperty("batchId").GetString()!;
    }

    public (int Exit, string Output, string Error) Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.RunAsync(args, output, error).GetAwaiter().GetResult();
        return (exit, output.ToString(), error.ToString());
    }

    public void Dispose() => Files.Dispose();
}

public partial class ReportTests(ReviewedBatches batches) : IClassFixture<ReviewedBatches>
{
    [Theory]
    [InlineData("default")]
    [InlineData("aborted")]
    [InlineData("faulted")]
    public void The_report_opens_in_headless_Chromium_without_console_errors_and_every_chart_is_drawn(string name)
    {
        var html = batches.Files.PathOf($"{name}.html");
        var (exit, _, error) = batches.Cli("report", batches.Ids[name], "--journal", batches.Journal, "--out", html);
        Assert.True(exit == 0, error);
        var text = File.ReadAllText(html);
        // Self-contained: nothing is fetched (SVG namespace names are identifiers, not requests).
        Assert.DoesNotMatch(new Regex(@"\b(src|href)\s*=\s*[""']?(https?:|//)|url\(\s*['""]?https?:|@import|<script|<link", RegexOptions.IgnoreCase), text);

        var (dom, console) = Chromium.Load(html);
        Assert.Empty(console);
        var charts = Regex.Matches(dom, @"<figure class=""chart"" data-chart=""(\w+)"">(.*?)</figure>", RegexOptions.Singleline);
        Assert.Equal(["temperatures", "steam", "distillate"], charts.Select(m => m.Groups[1].Value).ToArray());
        foreach (Match chart in charts)
        {
            // Each chart is an SVG whose series are long paths: a line of hundreds of points, not an empty frame.
            var paths = Regex.Matches(chart.Groups[2].Value, @"<path[^>]* d=""([^""]+)""").Select(m => m.Groups[1].Value).ToList();
            Assert.True(paths.Count(p => Regex.Count(p, "L") >= 100) >= 2, $"{chart.Groups[1].Value}: {paths.Count} paths, longest {paths.Max(p => p.Length)} chars");
        }
        var png = batches.Files.PathOf($"{name}.png");
        Chromium.Screenshot(html, png);
        var bytes = File.ReadAllBytes(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        Assert.True(bytes.Length > 50_000, $"screenshot of {bytes.Length} bytes looks blank");
    }

    [Fact]
    public void A_console_error_in_a_page_is_caught_by_the_check()
    {
        var page = batches.Files.Write("broken.html", "<!DOCTYPE html><html><body><p>x</p><script>console.error('broken page')</script></body></html>");
        var (_, console) = Chromium.Load(page);
        Assert.Contains(console, line => line.Contains("broken page", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("default")]
    [InlineData("aborted")]
    [InlineData("faulted")]
    public void The_fraction_table_shows_the_journals_numbers(string name)
    {
        var html = batches.Files.PathOf($"{name}-fractions.html");
        Assert.Equal(0, batches.Cli("report", batches.Ids[name], "--journal", batches.Journal, "--out", html).Exit);
        var rows = Regex.Matches(File.ReadAllText(html), @"<tr class=""fraction""[^>]*>(.*?)</tr>")
            .Select(m => Regex.Matches(m.Groups[1].Value, @"<td[^>]*>(.*?)</td>").Select(c => c.Groups[1].Value).ToArray()).ToList();

        using var connection = new SqliteConnection($"Data Source={batches.Journal};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT state_json FROM batches WHERE id = $id";
        command.Parameters.AddWithValue("$id", batches.Ids[name]);
        using var state = JsonDocument.Parse((string)command.ExecuteScalar()!);
        var fractions = state.RootElement.GetProperty("fractions").EnumerateArray().ToList();
        Assert.NotEmpty(fractions);
        Assert.Equal(fractions.Count, rows.Count);
        var totalEthanol = fractions.Sum(f => f.GetProperty("ethanolLitres").GetDouble());
        var c = CultureInfo.InvariantCulture;
        for (var i = 0; i < rows.Count; i++)
        {
            var f = fractions[i];
            var volume = f.GetProperty("volumeLitres").GetDouble();
            var ethanol = f.GetProperty("ethanolLitres").GetDouble();
            var assayed = volume - f.GetProperty("unassayedLitres").GetDouble();
            Assert.Equal(f.GetProperty("receiver").GetString(), rows[i][0]);
            Assert.Equal(volume.ToString("0.000", c), rows[i][3]);
            Assert.Equal(f.GetProperty("massKilograms").GetDouble().ToString("0.000", c), rows[i][4]);
            Assert.Equal(assayed > 1e-9 ? (ethanol / assayed * 100).ToString("0.00", c) : "—", rows[i][5]);
            Assert.Equal(ethanol.ToString("0.000", c), rows[i][6]);
            Assert.Equal((ethanol / totalEthanol * 100).ToString("0.0", c), rows[i][7]);
        }
    }

    [Fact]
    public void A_fault_that_pushed_the_distillate_over_its_limit_is_listed_as_a_deviation_and_the_unfinished_batch_says_so()
    {
        var html = batches.Files.PathOf("faulted-deviation.html");
        var (exit, _, error) = batches.Cli("report", batches.Ids["faulted"], "--journal", batches.Journal, "--out", html);
        Assert.Equal(0, exit);
        // The simulation that ran it has ended: no service has the journal open, so the held batch reads as interrupted.
        Assert.Contains("has not ended (held; interrupted: no service has this journal open", error);
        var text = File.ReadAllText(html);
        Assert.Contains("id=\"unfinished\"", text);
        var deviations = Regex.Match(text, @"<ul id=""deviations"">(.*?)</ul>", RegexOptions.Singleline);
        Assert.True(deviations.Success, "a deviation list");
        Assert.Matches(@"hearts: distillate above its 30 °C maximum for \d+ min", deviations.Groups[1].Value);
        Assert.Contains("sensor-fault:vapour", text);
    }

    [Fact]
    public void The_CSV_export_parsed_by_an_independent_reader_gives_back_the_journals_values_and_counts_exactly()
    {
        var id = batches.Ids["faulted"];
        // One table per file, each written exactly where --out says; the format from the extension.
        foreach (var table in new[] { "samples", "events", "fractions" })
        {
            var (exit, output, error) = batches.Cli("export", id, "--journal", batches.Journal, "--table", table, "--out", batches.Files.PathOf($"export-{table}.csv"));
            Assert.True(exit == 0, error);
            Assert.Contains($"wrote {batches.Files.PathOf($"export-{table}.csv")}", output);
        }

        // Python's csv module (RFC 4180 dialect 'excel') reads the files back; values stay text for an exact comparison.
        var parsed = PythonCsv(batches.Files.PathOf("export-samples.csv"), batches.Files.PathOf("export-events.csv"), batches.Files.PathOf("export-fractions.csv"));
        var samples = parsed.GetProperty("samples").EnumerateArray().ToList();
        var events = parsed.GetProperty("events").EnumerateArray().ToList();
        var fractions = parsed.GetProperty("fractions").EnumerateArray().ToList();

        using var connection = new SqliteConnection($"Data Source={batches.Journal};Mode=ReadOnly;Pooling=False");
        connection.Open();
        List<(long T, double Steam, string Readings)> journalSamples = [];
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT t, steam_percent, readings FROM samples WHERE batch_id = $b ORDER BY t, seq";
            command.Parameters.AddWithValue("$b", id);
            using var reader = command.ExecuteReader();
            while (reader.Read()) journalSamples.Add((reader.GetInt64(0), reader.GetDouble(1), reader.GetString(2)));
        }
        Assert.Equal(journalSamples.Count, samples.Count);
        var c = CultureInfo.InvariantCulture;
        var faultsSeen = 0;
        for (var i = 0; i < samples.Count; i++)
        {
            var row = samples[i];
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(journalSamples[i].T), DateTimeOffset.Parse(row.GetProperty("time_utc").GetString()!, c));
            Assert.Equal(journalSamples[i].Steam, double.Parse(row.GetProperty("steam_valve_percent").GetString()!, c));
            using var readings = JsonDocument.Parse(journalSamples[i].Readings);
            foreach (var channel in readings.RootElement.EnumerateObject())
            {
                Assert.True(Channels.TryParse(channel.Name, out var ch));
                var column = LineProtocol.FieldName(ch);
                if (channel.Value.TryGetProperty("value", out var value))
                {
                    Assert.Equal(value.GetDouble(), double.Parse(row.GetProperty(column).GetString()!, c));
                }
                else
                {
                    Assert.Equal("", row.GetProperty(column).GetString());
                    Assert.Equal(channel.Value.GetProperty("fault").GetString(), row.GetProperty(column + "_fault").GetString());
                    faultsSeen++;
                }
            }
        }
        Assert.True(faultsSeen > 0, "the faulted batch has faulted readings in its export");

        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT count(*) FROM events WHERE batch_id = $b";
            command.Parameters.AddWithValue("$b", id);
            Assert.Equal((long)command.ExecuteScalar()!, events.Count);
        }
        // Messages hold commas and quotes: they must come back whole.
        Assert.Contains(events, e => e.GetProperty("message").GetString()!.Contains(',', StringComparison.Ordinal));
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT state_json FROM batches WHERE id = $b";
            command.Parameters.AddWithValue("$b", id);
            using var state = JsonDocument.Parse((string)command.ExecuteScalar()!);
            var journalFractions = state.RootElement.GetProperty("fractions").EnumerateArray().ToList();
            Assert.Equal(journalFractions.Count, fractions.Count);
            for (var i = 0; i < fractions.Count; i++)
            {
                Assert.Equal(journalFractions[i].GetProperty("volumeLitres").GetDouble(), double.Parse(fractions[i].GetProperty("volume_litres").GetString()!, c));
                Assert.Equal(journalFractions[i].GetProperty("ethanolLitres").GetDouble(), double.Parse(fractions[i].GetProperty("pure_alcohol_litres").GetString()!, c));
            }
        }
        // RFC 4180 line ends, and a byte-order mark so spreadsheets read the UTF-8 (°C, 白酒) correctly.
        var raw = File.ReadAllBytes(batches.Files.PathOf("export-samples.csv"));
        Assert.Equal([0xEF, 0xBB, 0xBF], raw[..3]);
        Assert.Contains("\r\n", System.Text.Encoding.UTF8.GetString(raw));
    }

    private static JsonElement PythonCsv(string samples, string events, string fractions)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("""
            import csv, json, sys
            out = {}
            for name, path in zip(["samples", "events", "fractions"], sys.argv[1:]):
                with open(path, newline="", encoding="utf-8-sig") as f:
                    out[name] = list(csv.DictReader(f, dialect="excel"))
            json.dump(out, sys.stdout)
            """);
        info.ArgumentList.Add(samples);
        info.ArgumentList.Add(events);
        info.ArgumentList.Add(fractions);
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    [Fact]
    public void The_JSON_export_holds_samples_events_and_fractions_with_their_units()
    {
        // One table per file (samples by default), each with the batch's header and units.
        JsonElement Export(string file, params string[] table)
        {
            var path = batches.Files.PathOf(file);
            Assert.Equal(0, batches.Cli(["export", batches.Ids["default"], "--journal", batches.Journal, "--format", "json", "--out", path, .. table]).Exit);
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement.Clone();
            Assert.Equal(batches.Ids["default"], root.GetProperty("batchId").GetString());
            Assert.Equal("completed", root.GetProperty("outcome").GetString());
            Assert.Equal("°C", root.GetProperty("units").GetProperty("vapour_celsius").GetString());
            return root;
        }
        var samples = Export("export.json");
        Assert.True(samples.GetProperty("samples").GetArrayLength() > 3600);
        Assert.False(samples.TryGetProperty("events", out _));
        Assert.True(Export("events.json", "--table", "events").GetProperty("events").GetArrayLength() > 5);
        var fractions = Export("fractions.json", "--table", "fractions");
        Assert.Equal(5, fractions.GetProperty("fractions").GetArrayLength());
        Assert.False(fractions.TryGetProperty("samples", out _));
    }

    [Fact]
    public void Batches_are_listed_newest_first_and_filtered()
    {
        List<JsonElement> List(params string[] filter)
        {
            var (exit, output, error) = batches.Cli(["batches", "--journal", batches.Journal, "--json", .. filter]);
            Assert.True(exit == 0, error);
            return JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        }
        var all = List();
        Assert.Equal([batches.Ids["faulted"], batches.Ids["aborted"], batches.Ids["default"]], all.Select(b => b.GetProperty("id").GetString()!).ToArray());
        Assert.Equal([batches.Ids["default"]], List("--outcome", "completed").Select(b => b.GetProperty("id").GetString()!));
        Assert.Equal([batches.Ids["aborted"]], List("--outcome", "aborted").Select(b => b.GetProperty("id").GetString()!));
        Assert.Equal([batches.Ids["faulted"]], List("--outcome", "held").Select(b => b.GetProperty("id").GetString()!));
        Assert.Equal([batches.Ids["faulted"]], List("--alarm", "sensor-fault:vapour").Select(b => b.GetProperty("id").GetString()!));
        Assert.Equal(3, List("--still", "still-1", "--recipe", "strong-aroma-default").Count);
        Assert.Empty(List("--still", "still-2"));
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        Assert.Equal(3, List("--from", today, "--to", today).Count);
        Assert.Empty(List("--to", DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        Assert.Equal(1, all.Single(b => b.GetProperty("id").GetString() == batches.Ids["faulted"]).GetProperty("trips").GetInt32());

        var (exit, _, error) = batches.Cli("batches", "--journal", batches.Journal, "--outcome", "lost");
        Assert.Equal(2, exit);
        Assert.Contains("--outcome = 'lost': one of completed, aborted, held, unfinished", error);
    }

    [Fact]
    public void Compare_puts_batches_side_by_side_and_overlays_their_temperatures()
    {
        var html = batches.Files.PathOf("compare.html");
        var (exit, output, error) = batches.Cli("compare", batches.Ids["default"], batches.Ids["aborted"], batches.Ids["faulted"], "--journal", batches.Journal, "--out", html);
        Assert.True(exit == 0, error);
        foreach (var row in new[] { "hearts duration", "hearts-1 L", "hearts-1 % vol", "pure alcohol L", "trips", "time above a cooling limit" })
        {
            Assert.Contains(row, output);
        }
        var (dom, console) = Chromium.Load(html);
        Assert.Empty(console);
        var vapour = Regex.Match(dom, @"data-chart=""vapour"">(.*?)</figure>", RegexOptions.Singleline);
        Assert.True(vapour.Success);
        // One line per batch in the overlay.
        foreach (var id in batches.Ids.Values) Assert.Contains(id, vapour.Groups[1].Value);
    }

    [Fact]
    public async Task A_batch_still_running_in_another_process_is_reported_up_to_now()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("running.db");
        using var still = StillControlProcess.Start(files.Folder, "simulate", "--speed", "100", "--mqtt", "off", "--journal", journal);
        string? id = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            if (!File.Exists(journal)) continue;
            var (exit, output, _) = batches.Cli("batches", "--journal", journal, "--json");
            if (exit == 0 && JsonDocument.Parse(output).RootElement.EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } first)
            {
                id = first.GetProperty("id").GetString();
                // A few minutes of the batch in the journal.
                if (Regex.IsMatch(batches.Cli("export", id!, "--journal", journal, "--format", "csv", "--table", "samples").Output, @"(\r\n.*){120}")) break;
            }
        }
        Assert.NotNull(id);
        Assert.False(still.Process.HasExited, "the batch is still running");
        var html = files.PathOf("running.html");
        var (reportExit, _, error) = batches.Cli("report", id!, "--journal", journal, "--out", html);
        Assert.True(reportExit == 0, error);
        Assert.Contains($"batch {id} has not ended (unfinished; running now: a service has this journal open): reporting up to", error);
        var text = File.ReadAllText(html);
        Assert.Contains("id=\"unfinished\" data-activity=\"running\"", text);
        Assert.Contains("data-chart=\"temperatures\"", text);
        Assert.Contains("<td>loading</td>", text);
        var listed = JsonDocument.Parse(batches.Cli("batches", "--journal", journal, "--json", "--outcome", "running").Output).RootElement;
        Assert.Equal(id, Assert.Single(listed.EnumerateArray()).GetProperty("id").GetString());

        // A second service on the same journal is refused before it opens anything.
        var (secondExit, _, secondError) = await StillControlProcess.RunAsync(files.Folder, "simulate", "--mqtt", "off", "--journal", journal);
        Assert.Equal(2, secondExit);
        Assert.Contains($"journal {journal} is in use by another stillcontrol process", secondError);
        Assert.False(still.Process.HasExited, "the first service runs on");

        // Killed outright (as a power cut would): the same batch now reads as interrupted.
        still.Process.Kill();
        still.Process.WaitForExit();
        (reportExit, _, error) = batches.Cli("report", id!, "--journal", journal, "--out", html);
        Assert.True(reportExit == 0, error);
        Assert.Contains($"batch {id} has not ended (unfinished; interrupted: no service has this journal open", error);
        Assert.Contains("data-activity=\"interrupted\"", File.ReadAllText(html));
        var table = batches.Cli("batches", "--journal", journal).Output;
        Assert.Matches($@"{id}\s.*\sinterrupted\s", table);
        Assert.Contains("(interrupted: no service has this journal open", table);
        listed = JsonDocument.Parse(batches.Cli("batches", "--journal", journal, "--json", "--outcome", "interrupted").Output).RootElement;
        Assert.Equal("interrupted", Assert.Single(listed.EnumerateArray()).GetProperty("activity").GetString());
    }

    [Fact]
    public void An_unknown_batch_and_an_empty_journal_get_clear_messages()
    {
        var (exit, _, error) = batches.Cli("report", "still-9-20200101-000000", "--journal", batches.Journal);
        Assert.Equal(2, exit);
        Assert.Contains("has no batch 'still-9-20200101-000000'", error);

        var empty = batches.Files.PathOf("empty.db");
        using (new Journal.BatchJournal(empty, TimeProvider.System, TimeSpan.Zero))
        {
        }
        (exit, _, error) = batches.Cli("export", "x", "--journal", empty, "--format", "json");
        Assert.Equal(2, exit);
        Assert.Contains("holds no batches yet", error);
        (exit, _, error) = batches.Cli("compare", "x", "--journal", batches.Files.PathOf("missing.db"));
        Assert.Equal(2, exit);
        (exit, _, error) = batches.Cli("export", batches.Ids["default"], "--journal", batches.Journal, "--format", "csv");
        Assert.Equal(0, exit);
        (exit, _, error) = batches.Cli("export", batches.Ids["default"], "--journal", batches.Journal, "--format", "xlsx");
        Assert.Equal(2, exit);
        Assert.Contains("--format = 'xlsx': csv or json", error);
    }
}
