using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace StillControl.History;

/// <summary>
/// A real VictoriaMetrics (Debian's victoria-metrics) speaking the InfluxDB write API, on a free loopback port with its own
/// storage folder, started, stopped and restarted by the test. Deduplication per series and millisecond makes a rewrite of the
/// same point idempotent, as InfluxDB is.
/// </summary>
public sealed class VictoriaMetrics : IDisposable
{
    private readonly TestFiles files = new();
    private System.Diagnostics.Process? process;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public int Port { get; } = StillControl.FreePort.Next();
    public string Url => $"http://127.0.0.1:{Port}";

    private readonly bool deduplicate;

    /// <param name="deduplicate">One point per series and millisecond (the default, like InfluxDB's identity at ms precision); the
    /// soak turns it off to see every point written, repeats included.</param>
    public VictoriaMetrics(bool deduplicate = true)
    {
        this.deduplicate = deduplicate;
        // A constructor that throws is never disposed: a database that started but never answered is stopped here.
        try
        {
            Start();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Start()
    {
        process = System.Diagnostics.Process.Start(new ProcessStartInfo("victoria-metrics",
        [
            $"-httpListenAddr=127.0.0.1:{Port}", $"-storageDataPath={files.PathOf("data")}", "-retentionPeriod=100y",
            .. (deduplicate ? new[] { "-dedup.minScrapeInterval=1ms" } : []), "-search.disableCache", "-loggerLevel=ERROR",
        ]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (Http.GetStringAsync($"{Url}/health").Result.Trim() == "OK") return;
            }
            catch (AggregateException)
            {
            }
            Thread.Sleep(100);
        }
        throw new InvalidOperationException($"victoria-metrics did not start on port {Port}");
    }

    /// <summary>Stops the database as an operator would (SIGTERM: it writes what it holds in memory first).</summary>
    public void Stop()
    {
        if (process is { HasExited: false })
        {
            using (var term = System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                term.WaitForExit();
            }
            if (!process.WaitForExit(TimeSpan.FromSeconds(20))) process.Kill();
            process.WaitForExit();
        }
        process?.Dispose();
        process = null;
    }

    /// <summary>Every stored point of a metric, across all its series: (labels, timestamp ms, value).</summary>
    public async Task<List<(Dictionary<string, string> Labels, long Timestamp, double Value)>> ExportAsync(string metric)
    {
        await Http.GetAsync($"{Url}/internal/force_flush");
        var end = DateTimeOffset.UtcNow.AddDays(2).ToUnixTimeSeconds();
        var text = await Http.GetStringAsync($"{Url}/api/v1/export?match[]={Uri.EscapeDataString($"{{__name__=\"{metric}\"}}")}&start=0&end={end}");
        var result = new List<(Dictionary<string, string>, long, double)>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var series = JsonDocument.Parse(line).RootElement;
            var labels = series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            var values = series.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList();
            var timestamps = series.GetProperty("timestamps").EnumerateArray().Select(t => t.GetInt64()).ToList();
            for (var i = 0; i < values.Count; i++) result.Add((labels, timestamps[i], values[i]));
        }
        return result;
    }

    public void Dispose()
    {
        Stop();
        files.Dispose();
    }
}
