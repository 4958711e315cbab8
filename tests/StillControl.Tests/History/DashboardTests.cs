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
            foreach (var text in queries.Select(q => q.Expr + " " + q.Legend).Concat(variables))
            {
                foreach (Match metric in Regex.Matches(text, @"stillcontrol_[a-z_]+")) Assert.Contains(metric.Value, names);
                foreach (Match matcher in Regex.Matches(text, @"(\w+)\s*(=~|!=|!~|=)\s*""([^""]*)""")) Assert.Contains(matcher.Groups[1].Value, labels);
                foreach (Match kind in Regex.Matches(text, @"kind\s*=\s*""([^""]*)""")) Assert.Contains(kind.Groups[1].Value, kinds);
                foreach (Match by in Regex.Matches(text, @"by \(([^)]*)\)"))
                {
                    foreach (var label in by.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries)) Assert.Contains(label, labels);
                }
                foreach (Match legend in Regex.Matches(text, @"\{\{(\w+)\}\}")) Assert.Contains(legend.Groups[1].Value, labels);
                foreach (Match values in Regex.Matches(text, @"label_values\([^,]+,\s*(\w+)\)")) Assert.Contains(values.Groups[1].Value, labels);
            }
            foreach (var (panel, expr, _, instant) in queries)
            {
                var query = expr.Replace("$site", "plant", StringComparison.Ordinal).Replace("$still", "still-1", StringComparison.Ordinal)
                    .Replace("$__range", "6h", StringComparison.Ordinal);
                // Instant panels (phase now, alarms in range) at the batch's end; time series over the whole batch.
                var c = CultureInfo.InvariantCulture;
                var result = await Get(instant
                    ? $"/api/v1/query?query={Uri.EscapeDataString(query)}&time={end.ToString("0.###", c)}"
                    : $"/api/v1/query_range?query={Uri.EscapeDataString(query)}&start={start.ToString("0.###", c)}&end={end.ToString("0.###", c)}&step=60");
                Assert.True(result.GetProperty("result").GetArrayLength() > 0, $"{Path.GetFileName(file)} '{panel}': {query} returned nothing");
                checkedQueries++;
            }
        }
        Assert.True(checkedQueries >= 15, $"{checkedQueries} PromQL queries");

        var fluxChecked = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(folder, "influxdb"), "*.json"))
        {
            using var dashboard = JsonDocument.Parse(File.ReadAllText(file));
            var queries = dashboard.RootElement.GetProperty("panels").EnumerateArray().SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("query").GetString()!))
                .Concat(dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("query").GetString()!));
            foreach (var flux in queries)
            {
                var measurements = Regex.Matches(flux, @"r\._measurement == ""([^""]+)""").Select(m => m.Groups[1].Value).ToList();
                Assert.NotEmpty(measurements);
                var fields = Regex.Matches(flux, @"r\._field == ""([^""]+)""").Select(m => m.Groups[1].Value).ToList();
                foreach (var field in fields)
                {
                    Assert.Contains(measurements, m => names.Contains($"{m}_{field}"));
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
        Assert.True(fluxChecked >= 15, $"{fluxChecked} Flux queries");
    }

    public void Dispose() => history.Dispose();
}
