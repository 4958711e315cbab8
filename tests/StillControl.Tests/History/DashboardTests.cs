using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using StillControl.Simulation;

namespace StillControl.History;

/// <summary>
/// Every query of the shipped Grafana dashboards asks for measurements, fields, tags and tag values that the history writer
/// really writes: checked against what a simulated batch with a trip wrote to VictoriaMetrics. The PromQL queries are also
/// run there and must return data; the Flux ones are checked by name (no InfluxDB 2 here).
/// </summary>
public sealed class DashboardTests : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly VictoriaMetrics history = new();

    private async Task<JsonElement> Get(string path)
    {
        using var document = JsonDocument.Parse(await Http.GetStringAsync(history.Url + path));
        Assert.Equal("success", document.RootElement.GetProperty("status").GetString());
        return document.RootElement.GetProperty("data").Clone();
    }

    private async Task<HashSet<string>> Values(string path) => (await Get(path)).EnumerateArray().Select(e => e.GetString()!).ToHashSet();

    [Fact]
    public async Task Every_dashboard_query_uses_names_the_writer_writes_and_the_PromQL_ones_return_data()
    {
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "cooling-water-loss", "phase": "hearts", "afterSeconds": 300, "forSeconds": 180 } ] }""",
            extra: ["--influx", history.Url]);
        // The batch's last moment: instant queries are asked there (the simulated clock ran ahead of the wall clock).
        var last = run.Samples().Count;
        Assert.True(last > 3600);
        var held = await history.ExportAsync("stillcontrol_sample_held");
        var end = held.Max(p => p.Timestamp) / 1000.0;
        var start = held.Min(p => p.Timestamp) / 1000.0;

        var names = await Values("/api/v1/label/__name__/values?start=0");
        var labels = await Values("/api/v1/labels?start=0");
        var kinds = await Values("/api/v1/label/kind/values?start=0");
        Assert.Contains("interlock-trip", kinds);

        var folder = Path.Combine(TestFiles.Repository(), "deploy", "grafana", "dashboards");
        var checkedQueries = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(folder, "victoriametrics"), "*.json"))
        {
            using var dashboard = JsonDocument.Parse(File.ReadAllText(file));
            var queries = dashboard.RootElement.GetProperty("panels").EnumerateArray()
                .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => (Panel: p.GetProperty("title").GetString()!, Expr: t.GetProperty("expr").GetString()!, Legend: t.TryGetProperty("legendFormat", out var l) ? l.GetString()! : "",
                    Instant: t.TryGetProperty("instant", out var i) && i.GetBoolean())))
                .ToList();
            var variables = dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("query").GetString()!).ToList();
            var annotations = Annotations(dashboard.RootElement).Select(a => a.GetProperty("expr").GetString()!).ToList();
            Assert.Equal(2, annotations.Count);
            foreach (var text in queries.Select(q => q.Expr + " " + q.Legend).Concat(variables).Concat(annotations))
            {
                foreach (Match metric in Regex.Matches(text, @"stillcontrol_[a-z_]+")) Assert.Contains(metric.Value, names);
                foreach (Match matcher in Regex.Matches(text, @"(\w+)\s*(=~|!=|!~|=)\s*""([^""]*)""")) Assert.Contains(matcher.Groups[1].Value, labels);
                foreach (Match kind in Regex.Matches(text, @"kind\s*=~?\s*""([^""]*)""")) Assert.All(kind.Groups[1].Value.Split('|'), k => Assert.Contains(k, kinds));
                foreach (Match by in Regex.Matches(text, @"by \(([^)]*)\)"))
                {
                    foreach (var label in by.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries)) Assert.Contains(label, labels);
                }
                foreach (Match legend in Regex.Matches(text, @"\{\{(\w+)\}\}")) Assert.Contains(legend.Groups[1].Value, labels);
                foreach (Match values in Regex.Matches(text, @"label_values\([^,]+,\s*(\w+)\)")) Assert.Contains(values.Groups[1].Value, labels);
            }
            foreach (var (panel, expr, _, instant) in queries.Concat(annotations.Select(a => (Panel: "annotation", Expr: a, Legend: "", Instant: false))))
            {
                var query = Substitute(expr, ".*");
                // Instant panels (phase now, alarms in range) at the batch's end; time series over the whole batch.
                var c = CultureInfo.InvariantCulture;
                var result = await Get(instant
                    ? $"/api/v1/query?query={Uri.EscapeDataString(query)}&time={end.ToString("0.###", c)}"
                    : $"/api/v1/query_range?query={Uri.EscapeDataString(query)}&start={start.ToString("0.###", c)}&end={end.ToString("0.###", c)}&step=60");
                Assert.True(result.GetProperty("result").GetArrayLength() > 0, $"{Path.GetFileName(file)} '{panel}': {query} returned nothing");
                checkedQueries++;
            }
        }
        Assert.True(checkedQueries >= 19, $"{checkedQueries} PromQL queries");

        var fluxChecked = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(folder, "influxdb"), "*.json"))
        {
            using var dashboard = JsonDocument.Parse(File.ReadAllText(file));
            var queries = dashboard.RootElement.GetProperty("panels").EnumerateArray().SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("query").GetString()!))
                .Concat(dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("query").GetString()!))
                .Concat(Annotations(dashboard.RootElement).Select(a => a.GetProperty("target").GetProperty("query").GetString()!));
            foreach (var flux in queries)
            {
                var measurements = Regex.Matches(flux, @"r\._measurement == ""([^""]+)""").Select(m => m.Groups[1].Value).ToList();
                Assert.NotEmpty(measurements);
                var fields = Regex.Matches(flux, @"r\._field == ""([^""]+)""").Select(m => m.Groups[1].Value).ToList();
                foreach (var field in fields)
                {
                    // Numeric fields are metrics in VictoriaMetrics; string fields (an event's message) only the writer's own line shows.
                    Assert.True(measurements.Any(m => names.Contains($"{m}_{field}")) || EventFields.Contains(field), $"{Path.GetFileName(file)}: field {field}");
                }
                foreach (Match tag in Regex.Matches(flux, @"r\.([a-z]\w*) =="))
                {
                    Assert.Contains(tag.Groups[1].Value, labels);
                }
                foreach (Match kind in Regex.Matches(flux, @"r\.kind == ""([^""]*)""")) Assert.Contains(kind.Groups[1].Value, kinds);
                foreach (Match columns in Regex.Matches(flux, @"columns: \[([^\]]*)\]"))
                {
                    foreach (var column in columns.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries).Select(c => c.Trim('"')))
                    {
                        Assert.True(column.StartsWith('_') || labels.Contains(column), $"{Path.GetFileName(file)}: column {column}");
                    }
                }
                foreach (Match tag in Regex.Matches(flux, @"tag: ""(\w+)""")) Assert.Contains(tag.Groups[1].Value, labels);
                fluxChecked++;
            }
        }
        Assert.True(fluxChecked >= 19, $"{fluxChecked} Flux queries");
    }

    [Fact]
    public void One_organisation_and_bucket_name_in_every_query_the_shipped_configuration_and_the_docs()
    {
        var defaults = new HistoryOptions();
        var root = TestFiles.Repository();
        var seen = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(root, "deploy", "grafana", "dashboards", "influxdb"), "*.json"))
        {
            foreach (Match bucket in Regex.Matches(File.ReadAllText(file), @"bucket: \\""([^""\\]+)\\"""))
            {
                Assert.Equal(defaults.Bucket, bucket.Groups[1].Value);
                seen++;
            }
        }
        Assert.True(seen >= 19, $"{seen} bucket names in the Flux dashboards");
        var central = Path.Combine(root, "deploy", "central");
        var datasource = File.ReadAllText(Path.Combine(central, "grafana", "provisioning", "datasources", "stillcontrol.yaml"));
        Assert.Matches($@"organization: {defaults.Org}\s", datasource);
        Assert.Matches($@"defaultBucket: {defaults.Bucket}\s", datasource);
        var compose = File.ReadAllText(Path.Combine(central, "compose.yaml"));
        Assert.Matches($@"DOCKER_INFLUXDB_INIT_ORG: {defaults.Org}\s", compose);
        Assert.Matches($@"DOCKER_INFLUXDB_INIT_BUCKET: {defaults.Bucket}\s", compose);
        using var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "deploy", "stillcontrol.json")), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        Assert.Equal(defaults.Org, reference.RootElement.GetProperty("Influx").GetProperty("Org").GetString());
        Assert.Equal(defaults.Bucket, reference.RootElement.GetProperty("Influx").GetProperty("Bucket").GetString());
        // Every configuration example in the reports documentation names the same ones.
        var docs = File.ReadAllText(Path.Combine(root, "docs", "reports.md"));
        var examples = Regex.Matches(docs, @"""Org"": ""([^""]+)"", ""Bucket"": ""([^""]+)""");
        Assert.NotEmpty(examples);
        Assert.All(examples, m => Assert.Equal((defaults.Org, defaults.Bucket), (m.Groups[1].Value, m.Groups[2].Value)));
    }

    /// <summary>The fields the history writer puts on an event point, read from a line it writes.</summary>
    private static readonly HashSet<string> EventFields = Regex.Matches(
            LineProtocol.Event(new Journal.JournalEvent(1, "b", DateTimeOffset.UnixEpoch, "phase-changed", "hearts", "hearts", "m", null), "plant", "still-1").Split(' ')[1],
            @"(?:^|,)(\w+)=").Select(m => m.Groups[1].Value).ToHashSet();

    private static IEnumerable<JsonElement> Annotations(JsonElement dashboard) =>
        dashboard.TryGetProperty("annotations", out var a) ? a.GetProperty("list").EnumerateArray().Where(x => x.TryGetProperty("target", out _)) : [];

    private static string Substitute(string expr, string batch) => expr.Replace("$site", "plant", StringComparison.Ordinal).Replace("$still", "still-1", StringComparison.Ordinal)
        .Replace("$batch", batch, StringComparison.Ordinal).Replace("$__range", "6h", StringComparison.Ordinal);

    /// <summary>A panel whose job is to name the phase now keeps the phase label: it is what the panel shows.</summary>
    private static bool NamesThePhase(JsonElement target) =>
        (target.TryGetProperty("legendFormat", out var l) && l.GetString()!.Contains("{{phase}}", StringComparison.Ordinal))
        || (target.TryGetProperty("query", out var q) && Regex.IsMatch(q.GetString()!, @"keep\(columns: \[[^\]]*""phase"""));

    [Fact]
    public async Task No_panel_splits_its_series_by_batch_or_phase_and_the_batch_selector_narrows_them_to_one_batch()
    {
        // Two batches, so a query that still keeps the batch label shows two series where one is wanted.
        using var first = await Simulate.RunAsync(null, extra: ["--influx", history.Url]);
        // Placed hours before the first (both would otherwise end a few minutes before now, and could share a start second).
        var earlier = DateTime.UtcNow.AddHours(-4).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        using var second = await Simulate.RunAsync("""{ "seed": 11 }""", extra: ["--influx", history.Url, "--start", earlier]);
        var held = await history.ExportAsync("stillcontrol_sample_held");
        var end = held.Max(p => p.Timestamp) / 1000.0;
        var start = held.Min(p => p.Timestamp) / 1000.0;
        var c = CultureInfo.InvariantCulture;
        // VictoriaMetrics indexes new series within a few seconds: wait for both batches' labels.
        List<string> batchIds = [];
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            batchIds = (await Values($"/api/v1/label/batch/values?start=0&match[]={Uri.EscapeDataString("stillcontrol_sample_held")}")).Where(b => b != "none").ToList();
            if (batchIds.Count >= 2) break;
        }
        Assert.Equal(2, batchIds.Count);

        var folder = Path.Combine(TestFiles.Repository(), "deploy", "grafana", "dashboards");
        var series = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(folder, "victoriametrics"), "*.json"))
        {
            using var dashboard = JsonDocument.Parse(File.ReadAllText(file));
            var variables = dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
            if (variables.FirstOrDefault(v => v.GetProperty("name").GetString() == "batch") is { ValueKind: JsonValueKind.Object } batchVariable)
            {
                // The selector lists both batches, and offers "All".
                Assert.True(batchVariable.GetProperty("includeAll").GetBoolean());
                var match = Regex.Match(batchVariable.GetProperty("query").GetString()!, @"label_values\((.+),\s*batch\)");
                var listed = await Values($"/api/v1/label/batch/values?start=0&match[]={Uri.EscapeDataString(Substitute(match.Groups[1].Value, ".*"))}");
                Assert.Equal(batchIds.Order(), listed.Order());
            }
            foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
            {
                var title = panel.GetProperty("title").GetString()!;
                foreach (var target in panel.GetProperty("targets").EnumerateArray())
                {
                    if (NamesThePhase(target)) continue;
                    var expr = target.GetProperty("expr").GetString()!;
                    var instant = target.TryGetProperty("instant", out var i) && i.GetBoolean();
                    foreach (var batch in new[] { ".*", batchIds[0] })
                    {
                        var query = Substitute(expr, batch);
                        var result = (await Get(instant
                            ? $"/api/v1/query?query={Uri.EscapeDataString(query)}&time={end.ToString("0.###", c)}"
                            : $"/api/v1/query_range?query={Uri.EscapeDataString(query)}&start={start.ToString("0.###", c)}&end={end.ToString("0.###", c)}&step=60")).GetProperty("result").EnumerateArray().ToList();
                        foreach (var s in result)
                        {
                            var labels = s.GetProperty("metric").EnumerateObject().Select(p => p.Name).ToList();
                            Assert.False(labels.Contains("batch") || labels.Contains("phase"), $"{Path.GetFileName(file)} '{title}': {expr} splits by {string.Join(", ", labels)}");
                        }
                        if (panel.GetProperty("type").GetString() == "timeseries")
                        {
                            // One still wrote: one series per channel, whichever batches the range holds.
                            Assert.True(result.Count == 1, $"{Path.GetFileName(file)} '{title}': {query} gave {result.Count} series");
                            series++;
                            if (batch != ".*" && expr.Contains("$batch", StringComparison.Ordinal))
                            {
                                // Narrowed to one batch: the points stop where that batch stopped.
                                var times = result[0].GetProperty("values").EnumerateArray().Select(v => v[0].GetDouble()).ToList();
                                var own = held.Where(p => p.Labels["batch"] == batch).Select(p => p.Timestamp / 1000.0).ToList();
                                Assert.True(times.Max() <= own.Max() + 600 && times.Min() >= own.Min() - 60, $"{title}: {times.Min()}-{times.Max()} outside batch {batch} {own.Min()}-{own.Max()}");
                            }
                        }
                    }
                }
            }
        }
        Assert.True(series >= 2 * 12, $"{series} time-series queries checked");

        // Flux cannot be run here: every time-series query must regroup by still and field (dropping batch and phase from the
        // group key), and no group() may keep batch or phase.
        foreach (var file in Directory.GetFiles(Path.Combine(folder, "influxdb"), "*.json"))
        {
            using var dashboard = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
            {
                foreach (var target in panel.GetProperty("targets").EnumerateArray())
                {
                    var flux = target.GetProperty("query").GetString()!;
                    foreach (Match group in Regex.Matches(flux, @"group\(columns: \[([^\]]*)\]\)"))
                    {
                        Assert.DoesNotContain("\"batch\"", group.Groups[1].Value);
                        Assert.DoesNotContain("\"phase\"", group.Groups[1].Value);
                    }
                    if (panel.GetProperty("type").GetString() == "timeseries")
                    {
                        var regroup = Regex.Match(flux, @"\|> group\(columns: \[([^\]]*)\]\)[\s\S]*\|> aggregateWindow");
                        Assert.True(regroup.Success, $"{Path.GetFileName(file)} '{panel.GetProperty("title").GetString()}': no group() before aggregateWindow: {flux}");
                        Assert.Contains("\"still\"", regroup.Groups[1].Value);
                    }
                }
            }
        }
    }

    public void Dispose() => history.Dispose();
}
