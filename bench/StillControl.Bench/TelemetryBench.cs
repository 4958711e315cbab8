using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using StillControl.History;
using StillControl.Hosting;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Simulation;
using StillControl.Telemetry;

namespace StillControl.Bench;

/// <summary>
/// Figures for the telemetry and history work. Needs Debian's victoria-metrics, mosquitto and curl; starts and stops its own
/// servers on free loopback ports. Run: dotnet run -c Release --project bench/StillControl.Bench -- telemetry
/// </summary>
public static class TelemetryBench
{
    public static async Task RunAsync()
    {
        var folder = Directory.CreateTempSubdirectory("stillcontrol-bench-").FullName;
        try
        {
            var journal = Path.Combine(folder, "day.db");
            var rows = WriteDayOfSamples(journal);
            await DrainAsync(folder, journal, rows);
            await MqttDrainAsync(folder, journal, rows);
            await LatenessAsync(folder, journal);
            await MqttLatencyAsync(folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static long WriteDayOfSamples(string path)
    {
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        using var journal = new BatchJournal(path, TimeProvider.System, TimeSpan.FromSeconds(1));
        var state = new BatchState { BatchId = "bench-day", Phase = Phase.Hearts, StartedAt = start };
        var decisions = new Decisions { SteamValvePercent = 20, CoolingValvePercent = 35, Receiver = "hearts-1" };
        journal.BeginBatch("bench-day", start, "bench", "{}");
        const int seconds = 24 * 3600;
        for (var i = 0; i < seconds; i++)
        {
            foreach (var channel in Channels.All)
            {
                state.Signals[(int)channel] = new SignalMemory { Status = ReadingQuality.Good, Value = 20 + (i % 600) * 0.1 + (int)channel };
            }
            decisions.StrengthPercentVolume = 70 - (i % 3600) / 100.0;
            journal.AppendSample(state, decisions, start.AddSeconds(i));
        }
        journal.Commit(force: true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"backlog: a day of samples at 1 s, {seconds:N0} rows, {Channels.Count} channels each, journal {new FileInfo(path).Length / 1e6:0.0} MB"));
        return seconds;
    }

    private static async Task DrainAsync(string folder, string journal, long rows)
    {
        // Raw ingestion of the very same line protocol, as the yardstick.
        var lines = Path.Combine(folder, "day.lp");
        var build = Stopwatch.StartNew();
        using (var reader = new JournalReader(journal))
        await using (var file = new StreamWriter(lines, false, new UTF8Encoding(false)))
        {
            long after = 0;
            while (reader.SamplesAfter(after, 10_000) is { Count: > 0 } batch)
            {
                foreach (var sample in batch) await file.WriteLineAsync(LineProtocol.Sample(sample, "plant", "still-1"));
                after = batch[^1].Sequence;
            }
        }
        build.Stop();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reading the journal and building line protocol alone: {rows / build.Elapsed.TotalSeconds:N0} rows/s"));
        using (var raw = new Server(folder, "raw"))
        {
            var watch = Stopwatch.StartNew();
            Run("curl", "-sS", "--fail", "--data-binary", $"@{lines}", $"{raw.Url}/api/v2/write?org=x&bucket=x&precision=ns");
            watch.Stop();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"raw curl --data-binary of the same line protocol: {rows / watch.Elapsed.TotalSeconds:N0} points/s ({watch.Elapsed.TotalSeconds:0.00} s)"));
            RawRate = rows / watch.Elapsed.TotalSeconds;
        }
        using (var target = new Server(folder, "forwarded"))
        {
            var forwarder = new HistoryForwarder(new HistoryOptions { Url = target.Url, BatchRows = int.Parse(Environment.GetEnvironmentVariable("BATCH") ?? "5000", CultureInfo.InvariantCulture), DrainOnStopSeconds = 0 }, _ => { }, journal, "plant", "still-1",
                NullLogger<HistoryForwarder>.Instance);
            var watch = Stopwatch.StartNew();
            await forwarder.StartAsync(CancellationToken.None);
            using (var reader = new JournalReader(journal))
            {
                while (reader.LoadCursor(HistoryForwarder.CursorName).Samples < rows) await Task.Delay(20);
            }
            watch.Stop();
            await forwarder.StopAsync(CancellationToken.None);
            var rate = rows / watch.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"backlog drain through HistoryForwarder (InfluxDB.Client, {Environment.GetEnvironmentVariable("BATCH") ?? "5000"} rows a write): {rate:N0} points/s ({watch.Elapsed.TotalSeconds:0.00} s) = {rate / RawRate:0.00} of raw"));
        }
        File.Delete(JournalReader.CursorPath(journal));
    }

    private static double RawRate;

    private static async Task LatenessAsync(string folder, string backlogJournal)
    {
        foreach (var withBacklog in new[] { false, true })
        {
            using var target = withBacklog ? new Server(folder, "lateness") : null;
            HistoryForwarder? forwarder = null;
            if (target is not null)
            {
                File.Delete(JournalReader.CursorPath(backlogJournal));
                forwarder = new HistoryForwarder(new HistoryOptions { Url = target.Url, DrainOnStopSeconds = 0 }, _ => { }, backlogJournal, "plant", "still-1", NullLogger<HistoryForwarder>.Instance);
                await forwarder.StartAsync(CancellationToken.None);
            }
            var path = Path.Combine(folder, $"lateness-{withBacklog}.db");
            var scenario = new Scenario();
            var schedule = new FaultSchedule();
            var still = new SimulatedStill(scenario, schedule, seed: 1);
            using var journal = new BatchJournal(path, TimeProvider.System, TimeSpan.FromMilliseconds(100));
            var period = TimeSpan.FromMilliseconds(50);
            var cycle = new ControlCycle(still, still, DefaultRecipe.Create(), journal, TimeProvider.System, new ControlOptions { Period = period }, NullLogger<ControlCycle>.Instance);
            cycle.AddObserver(new SimulatedDistiller(still, schedule, scenario, false, TimeSpan.FromHours(12), endWhenDone: false));
            cycle.Start();
            // The service's own loop: a dedicated thread, raised where allowed, paced by a PeriodicTimer.
            using var pacer = new RealTimePacer(TimeProvider.System, period);
            var origin = TimeProvider.System.GetTimestamp();
            var elapsed = new List<double>();
            var elevatedText = "";
            await ControlThread.Run(
                async token => elapsed.Count < 600 && await pacer.WaitForNextStepAsync(token),
                () =>
                {
                    elapsed.Add(TimeProvider.System.GetElapsedTime(origin).TotalMilliseconds);
                    cycle.Tick();
                },
                CancellationToken.None,
                elevated => elevatedText = elevated ? "raised thread" : "normal thread");
            // Each tick against its place in the schedule (tick k at k periods), measured from the most punctual tick so the
            // timer's phase does not count. A tick the timer folded into the next (a stall longer than a period) is reported.
            var missed = (int)Math.Round(elapsed[^1] / period.TotalMilliseconds) - 600;
            var raw = elapsed.Select((e, k) => e - (k + 1) * period.TotalMilliseconds).ToList();
            var best = raw.Min();
            // Modulo the period: after a folded tick the schedule moves on by one, which is not lateness of the later ticks.
            var lateness = raw.Select(r => (r - best) % period.TotalMilliseconds).ToList();
            cycle.Stop();
            if (forwarder is not null) await forwarder.StopAsync(CancellationToken.None);
            lateness.Sort();
            double P(double q) => lateness[(int)Math.Min(lateness.Count - 1, q * lateness.Count)];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"control loop lateness, 50 ms period, 600 ticks, {elevatedText}, {(withBacklog ? $"while draining the day's backlog ({forwarder!.Written:N0} points written meanwhile)" : "no backlog")}: p50 {P(0.5):0.00} ms, p99 {P(0.99):0.00} ms, max {lateness[^1]:0.00} ms, ticks missed {Math.Max(0, missed)}"));
        }
    }

    /// <summary>
    /// The day's backlog through MqttLink to Mosquitto, with one row in flight and with several, on bare loopback and through
    /// a proxy that delays every byte by a fixed time each way (a plant network between the Pi and the central broker).
    /// </summary>
    private static async Task MqttDrainAsync(string folder, string journal, long rows)
    {
        var (broker, port) = await StartMosquittoAsync(folder, "drain");
        using var _ = broker;
        try
        {
            var scenario = new Scenario();
            var still = new SimulatedStill(scenario, new FaultSchedule(), seed: 1);
            using var idle = new BatchJournal(Path.Combine(folder, "idle.db"), TimeProvider.System, TimeSpan.FromSeconds(1));
            var cycle = new ControlCycle(still, still, DefaultRecipe.Create(), idle, TimeProvider.System, new ControlOptions(), NullLogger<ControlCycle>.Instance);
            foreach (var oneWayMs in new[] { 0, 5 })
            {
                using var proxy = oneWayMs == 0 ? null : new DelayProxy(port, TimeSpan.FromMilliseconds(oneWayMs));
                foreach (var inFlight in new[] { 1, 16, 64 })
                {
                    // Through the slow link, one in flight would take many minutes for the whole day: time the first 5,000 rows.
                    var target = oneWayMs == 0 ? rows : Math.Min(rows, 5_000);
                    File.Delete(JournalReader.CursorPath(journal));
                    var link = new MqttLink(new MqttOptions { Enabled = true, Host = "127.0.0.1", Port = proxy?.Port ?? port, HomeAssistantDiscovery = false, MaxInFlight = inFlight, DrainOnStopSeconds = 0 },
                        cycle, journal, "plant", $"drain-{inFlight}", NullLogger<MqttLink>.Instance);
                    await link.StartAsync(CancellationToken.None);
                    using (var reader = new JournalReader(journal))
                    {
                        // Timed from the first acknowledged batch, so the connection and its handshake do not count.
                        while (reader.LoadCursor(MqttLink.CursorName).Samples == 0) await Task.Delay(5);
                        var from = reader.LoadCursor(MqttLink.CursorName).Samples;
                        var watch = Stopwatch.StartNew();
                        long at;
                        while ((at = reader.LoadCursor(MqttLink.CursorName).Samples) < target && watch.Elapsed < TimeSpan.FromMinutes(3)) await Task.Delay(20);
                        watch.Stop();
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"backlog drain through MqttLink to Mosquitto, {(oneWayMs == 0 ? "bare loopback" : $"{oneWayMs} ms each way")}, {inFlight} in flight: {(at - from) / watch.Elapsed.TotalSeconds:N0} rows/s ({at - from:N0} rows in {watch.Elapsed.TotalSeconds:0.00} s)"));
                    }
                    await link.StopAsync(CancellationToken.None);
                    link.Dispose();
                }
            }
            File.Delete(JournalReader.CursorPath(journal));
        }
        finally
        {
            broker.Kill();
        }
    }

    /// <summary>A TCP relay on loopback that hands every chunk on only after a fixed delay, in order, in both directions.</summary>
    private sealed class DelayProxy : IDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource stop = new();
        public int Port { get; }

        public DelayProxy(int targetPort, TimeSpan delay)
        {
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            _ = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    TcpClient inner;
                    try { inner = await listener.AcceptTcpClientAsync(stop.Token); } catch (Exception) { return; }
                    var outer = new TcpClient();
                    await outer.ConnectAsync(IPAddress.Loopback, targetPort);
                    inner.NoDelay = outer.NoDelay = true;
                    _ = Pump(inner.GetStream(), outer.GetStream(), delay, stop.Token);
                    _ = Pump(outer.GetStream(), inner.GetStream(), delay, stop.Token);
                }
            });
        }

        private static async Task Pump(NetworkStream from, NetworkStream to, TimeSpan delay, CancellationToken token)
        {
            var queue = System.Threading.Channels.Channel.CreateUnbounded<(long Due, byte[] Bytes)>();
            var writer = Task.Run(async () =>
            {
                try
                {
                    await foreach (var (due, bytes) in queue.Reader.ReadAllAsync(token))
                    {
                        var wait = TimeProvider.System.GetElapsedTime(TimeProvider.System.GetTimestamp(), due);
                        if (wait > TimeSpan.Zero) await Task.Delay(wait, token);
                        await to.WriteAsync(bytes, token);
                    }
                }
                catch (Exception)
                {
                }
                to.Close();
            }, token);
            var buffer = new byte[65536];
            try
            {
                int n;
                while ((n = await from.ReadAsync(buffer, token)) > 0)
                {
                    var due = TimeProvider.System.GetTimestamp() + (long)(delay.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
                    queue.Writer.TryWrite((due, buffer.AsSpan(0, n).ToArray()));
                }
            }
            catch (Exception)
            {
            }
            queue.Writer.TryComplete();
            await writer;
        }

        public void Dispose()
        {
            stop.Cancel();
            listener.Stop();
        }
    }

    private static async Task MqttLatencyAsync(string folder)
    {
        var (broker, port) = await StartMosquittoAsync(folder, "latency");
        using var _ = broker;
        try
        {
            var path = Path.Combine(folder, "mqtt.db");
            var scenario = new Scenario();
            var schedule = new FaultSchedule();
            var still = new SimulatedStill(scenario, schedule, seed: 1);
            using var journal = new BatchJournal(path, TimeProvider.System, TimeSpan.FromMilliseconds(100));
            var options = new ControlOptions { SampleInterval = TimeSpan.FromMilliseconds(250) };
            var cycle = new ControlCycle(still, still, DefaultRecipe.Create(), journal, TimeProvider.System, options, NullLogger<ControlCycle>.Instance);
            cycle.AddObserver(new SimulatedDistiller(still, schedule, scenario, false, TimeSpan.FromHours(12), endWhenDone: false));
            var link = new MqttLink(new MqttOptions { Enabled = true, Host = "127.0.0.1", Port = port, HomeAssistantDiscovery = false }, cycle, path, "plant", "still-1", NullLogger<MqttLink>.Instance);
            var latencies = new List<double>();
            using var subscriber = new MqttClientFactory().CreateMqttClient();
            subscriber.ApplicationMessageReceivedAsync += e =>
            {
                var at = JsonDocument.Parse(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload)).RootElement.GetProperty("at").GetDateTimeOffset();
                lock (latencies) latencies.Add((DateTimeOffset.UtcNow - at).TotalMilliseconds);
                return Task.CompletedTask;
            };
            await subscriber.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("bench-watcher").Build());
            await subscriber.SubscribeAsync(link.Topics.Telemetry, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
            cycle.Start();
            await link.StartAsync(CancellationToken.None);
            using var timer = new PeriodicTimer(options.Period, TimeProvider.System);
            for (var tick = 0; tick < 4 * 40; tick++)
            {
                await timer.WaitForNextTickAsync();
                cycle.Tick();
            }
            await Task.Delay(500);
            await link.StopAsync(CancellationToken.None);
            cycle.Stop();
            List<double> sorted;
            lock (latencies) sorted = latencies.Skip(8).Order().ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sample to subscriber through Mosquitto on loopback ({sorted.Count} samples, journal commit every 100 ms, link polls every 100 ms): p50 {sorted[sorted.Count / 2]:0} ms, p99 {sorted[(int)(sorted.Count * 0.99)]:0} ms"));
        }
        finally
        {
            broker.Kill();
        }
    }

    /// <summary>A Mosquitto of its own on a free loopback port, anonymous, without persistence.</summary>
    private static async Task<(System.Diagnostics.Process Broker, int Port)> StartMosquittoAsync(string folder, string name)
    {
        var port = FreePort();
        var conf = Path.Combine(folder, $"mosquitto-{name}.conf");
        File.WriteAllText(conf, $"user root\npersistence false\nlistener {port} 127.0.0.1\nallow_anonymous true\n");
        var broker = System.Diagnostics.Process.Start(new ProcessStartInfo("mosquitto", ["-c", conf]) { RedirectStandardError = true, UseShellExecute = false })!;
        await Task.Delay(500);
        return (broker, port);
    }

    private static void Run(string file, params string[] args)
    {
        using var p = System.Diagnostics.Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file}: {output}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A VictoriaMetrics of its own for one measurement.</summary>
    private sealed class Server : IDisposable
    {
        private readonly System.Diagnostics.Process process;
        public string Url { get; }

        public Server(string folder, string name)
        {
            var port = FreePort();
            Url = $"http://127.0.0.1:{port}";
            process = System.Diagnostics.Process.Start(new ProcessStartInfo("victoria-metrics", [$"-httpListenAddr=127.0.0.1:{port}", $"-storageDataPath={Path.Combine(folder, "vm-" + name)}", "-retentionPeriod=100y", "-loggerLevel=ERROR"])
                { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
            using var http = new HttpClient();
            for (var i = 0; i < 200; i++)
            {
                try
                {
                    if (http.GetStringAsync($"{Url}/health").Result.Trim() == "OK") return;
                }
                catch (AggregateException)
                {
                }
                Thread.Sleep(50);
            }
            throw new InvalidOperationException("victoria-metrics did not start");
        }

        public void Dispose()
        {
            process.Kill();
            process.WaitForExit();
            process.Dispose();
        }
    }
}
