using System.Collections.Concurrent;
using System.Diagnostics;
using OsProcess = System.Diagnostics.Process;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StillControl.Hosting;
using StillControl.Recipes;
using StillControl.Simulation;
using StillControl.Web;

namespace StillControl.Bench;

/// <summary>
/// The plant under a fleet: N simulated stills at 10x real time, all hosted in this one process (each its own StillHost: control
/// thread, journal, MQTT link), publishing to one Mosquitto; `stillcontrol plant` in its own process, so its CPU and memory are
/// its own. Sample-to-board latency: from the control step that took a sample (this process's clock) to the board's pushed
/// tile (GET /api/stream) showing that sample as the still's newest. Needs Debian's mosquitto.
/// Run: dotnet run -c Release --project bench/StillControl.Bench -- plant [STILLS] [SECONDS] [SPEED]
/// </summary>
public static class PlantBench
{
    public static async Task RunAsync(string[] args)
    {
        var stills = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50;
        var seconds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 120;
        var speed = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 10;
        var folder = Directory.CreateTempSubdirectory("stillcontrol-bench-plant-").FullName;
        var processes = new List<OsProcess>();
        var hosts = new List<IHost>();
        try
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"plant bench: {stills} simulated stills at {speed}x real time in ONE process (a StillHost each), one Mosquitto, `stillcontrol plant` in its own process; {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at start (the machine is shared with other agents)"));
            var mqttPort = FreePort();
            File.WriteAllText(Path.Combine(folder, "mosquitto.conf"), $"user root\npersistence false\nlistener {mqttPort} 127.0.0.1\nallow_anonymous true\n");
            var broker = Start("mosquitto", ["-c", Path.Combine(folder, "mosquitto.conf")], folder);
            processes.Add(broker);
            WaitListening(mqttPort);

            var users = Path.Combine(folder, "users.json");
            new UserStore(users).AddOrReplace("bench", Role.Viewer, "bench-password");
            var boardPort = FreePort();
            var plant = Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "stillcontrol.dll"), "plant", "--mqtt", $"127.0.0.1:{mqttPort}", "--panel", $"127.0.0.1:{boardPort}", "--users", users], folder);
            processes.Add(plant);
            WaitListening(boardPort);

            // The board's pushed updates, read as a browser would: signed in, one event stream for every tile.
            var cookies = new CookieContainer();
            using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = new Uri($"http://127.0.0.1:{boardPort}/"), Timeout = Timeout.InfiniteTimeSpan };
            (await http.PostAsJsonAsync("/api/login", new { user = "bench", password = "bench-password" })).EnsureSuccessStatusCode();
            var clocks = new ConcurrentDictionary<string, StepClock>();
            var latencies = new ConcurrentBag<(long At, double Milliseconds)>();
            using var stop = new CancellationTokenSource();
            var reader = ReadBoardAsync(http, clocks, latencies, stop.Token);

            var started = Stopwatch.StartNew();
            for (var i = 1; i <= stills; i++)
            {
                var name = $"bench-{i:00}";
                var clock = new StepClock();
                clocks[$"site-{(i - 1) / 10 + 1}/{name}"] = clock;
                var overrides = new Dictionary<string, string?>
                {
                    ["Still:Name"] = name,
                    ["Still:Site"] = $"site-{(i - 1) / 10 + 1}",
                    ["Journal:Path"] = Path.Combine(folder, name + ".db"),
                    ["Mqtt:Enabled"] = "true",
                    ["Mqtt:Host"] = "127.0.0.1",
                    ["Mqtt:Port"] = mqttPort.ToString(CultureInfo.InvariantCulture),
                    ["Mqtt:HomeAssistantDiscovery"] = "false",
                    ["Logging:LogLevel:Default"] = "Error",
                };
                // Whole seconds, as simulate starts: samples then fall on exact control steps whatever precision the journal keeps.
                var start = new DateTimeOffset(DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero) - TimeSpan.FromHours(12); // in the past: simulated time never passes the wall clock
                var setup = new SimulationSetup(new Scenario(), i, speed, Resume: false, start, null, TimeSpan.FromHours(1), RealTime: false);
                var host = StillHost.Build([], overrides, DefaultRecipe.Create(), setup, LogLevel.Error);
                host.Services.GetRequiredService<ControlCycle>().AddObserver(clock);
                await host.StartAsync();
                hosts.Add(host);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{stills} stills started in {started.Elapsed.TotalSeconds:0.0} s"));

            var onBoard = Stopwatch.StartNew();
            while (true)
            {
                var board = await http.GetFromJsonAsync<JsonElement>("/api/stills");
                var online = board.EnumerateArray().Count(s => s.GetProperty("online").GetBoolean() && s.GetProperty("lastSampleAt").ValueKind == JsonValueKind.String);
                if (online == stills) break;
                if (onBoard.Elapsed > TimeSpan.FromMinutes(3)) throw new TimeoutException($"only {online} of {stills} stills on the board after 3 minutes");
                await Task.Delay(500);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"all {stills} stills on the board (online, samples flowing) {onBoard.Elapsed.TotalSeconds:0.0} s after the last one started"));

            // Warm-up over; measure.
            await Task.Delay(TimeSpan.FromSeconds(10));
            latencies.Clear();
            var plantCpu0 = CpuSeconds(plant.Id);
            var brokerCpu0 = CpuSeconds(broker.Id);
            var selfCpu0 = CpuSeconds(Environment.ProcessId);
            var window = Stopwatch.StartNew();
            long plantRssMax = 0, selfRssMax = 0;
            while (window.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                await Task.Delay(1000);
                plantRssMax = Math.Max(plantRssMax, RssKilobytes(plant.Id));
                selfRssMax = Math.Max(selfRssMax, RssKilobytes(Environment.ProcessId));
            }
            var wall = window.Elapsed.TotalSeconds;
            var plantCpu = (CpuSeconds(plant.Id) - plantCpu0) / wall * 100;
            var brokerCpu = (CpuSeconds(broker.Id) - brokerCpu0) / wall * 100;
            var selfCpu = (CpuSeconds(Environment.ProcessId) - selfCpu0) / wall * 100;
            var board2 = await http.GetFromJsonAsync<JsonElement>("/api/stills");
            var phases = board2.EnumerateArray().GroupBy(s => s.GetProperty("phase").GetString()).Select(g => $"{g.Key} {g.Count()}");
            var samples = latencies.Select(l => l.Milliseconds).Order().ToList();
            Console.WriteLine($"(tile events read from the board's stream in all: {Interlocked.Read(ref tiles)})");
            static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
            var sampleRate = stills * speed; // one journal sample per simulated second per still
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                measured over {wall:0} s: {samples.Count} tile updates with a new sample ({samples.Count / wall:0}/s; the stills take {sampleRate:0} samples/s, the board coalesces each still's to at most one push per {Plant.Board.Coalesce.TotalMilliseconds:0} ms)
                sample-to-board latency: p50 {Percentile(samples, 0.50):0} ms, p99 {Percentile(samples, 0.99):0} ms, max {(samples.Count > 0 ? samples[^1] : double.NaN):0} ms
                plant process: CPU {plantCpu:0} % of one core, RSS max {plantRssMax / 1024.0:0} MB
                Mosquitto: CPU {brokerCpu:0} % of one core
                the {stills} stills' host process (and this bench's board reader): CPU {selfCpu:0} % of one core, RSS max {selfRssMax / 1024.0:0} MB
                phases on the board at the end: {string.Join(", ", phases)}
                load average at the end {File.ReadAllText("/proc/loadavg").Split(' ')[0]} (2 cores shared with other agents: figures are upper bounds)
                """));
            stop.Cancel();
            try { await reader; } catch (OperationCanceledException) { } catch (HttpRequestException) { } catch (IOException) { }
        }
        finally
        {
            await Task.WhenAll(hosts.Select(async h =>
            {
                try { await h.StopAsync(TimeSpan.FromSeconds(15)); } catch (Exception) { }
                h.Dispose();
            }));
            foreach (var process in processes)
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
                process.Dispose();
            }
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Each control step's simulated time and the wall clock when it ran, so a sample's time tells when it was taken.</summary>
    private sealed class StepClock : ICycleObserver
    {
        private readonly ConcurrentDictionary<long, long> steps = new();

        public void AfterStep(ControlCycle cycle, DateTimeOffset now)
        {
            steps[now.UtcTicks] = Stopwatch.GetTimestamp();
            if (steps.Count > 4000)
            {
                // Keep a few minutes of simulated time: drop the oldest half.
                var cut = steps.Keys.Order().ElementAt(2000);
                foreach (var key in steps.Keys.Where(k => k < cut)) steps.TryRemove(key, out _);
            }
        }

        public long? WallAt(DateTimeOffset sampleAt) => steps.TryGetValue(sampleAt.UtcTicks, out var wall) ? wall : null;
    }

    private static long tiles;

    private static async Task ReadBoardAsync(HttpClient http, ConcurrentDictionary<string, StepClock> clocks, ConcurrentBag<(long, double)> latencies, CancellationToken cancellationToken)
    {
        await Task.Yield();
        using var response = await http.GetAsync("/api/stream", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var seen = new Dictionary<string, DateTimeOffset>();
        string? eventName = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) eventName = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && eventName == "tile")
            {
                Interlocked.Increment(ref tiles);
                var received = Stopwatch.GetTimestamp();
                using var tile = JsonDocument.Parse(line[6..]);
                var root = tile.RootElement;
                var key = $"{root.GetProperty("site").GetString()}/{root.GetProperty("name").GetString()}";
                if (root.GetProperty("lastSampleAt").ValueKind != JsonValueKind.String) continue;
                var at = root.GetProperty("lastSampleAt").GetDateTimeOffset();
                if (seen.TryGetValue(key, out var last) && last == at) continue;
                seen[key] = at;
                if (clocks.TryGetValue(key, out var clock) && clock.WallAt(at) is { } taken)
                {
                    latencies.Add((received, Stopwatch.GetElapsedTime(taken, received).TotalMilliseconds));
                }
            }
            else if (line.Length == 0) eventName = null;
        }
    }

    private static double CpuSeconds(int pid)
    {
        // /proc/PID/stat: utime and stime are fields 14 and 15, in clock ticks (100 per second on Linux).
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static long RssKilobytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        return 0;
    }

    private static OsProcess Start(string file, string[] args, string folder)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = folder };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        var process = OsProcess.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } text && text.Contains("fail", StringComparison.OrdinalIgnoreCase)) Console.Error.WriteLine($"[{file}] {text}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void WaitListening(int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }
        throw new TimeoutException($"nothing listens on port {port} after 60 s");
    }
}
