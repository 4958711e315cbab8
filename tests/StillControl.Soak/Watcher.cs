using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using StillControl.Telemetry;

namespace StillControl.Soak;

/// <summary>One telemetry or event message as the independent subscriber got it.</summary>
public readonly record struct Copy(long PayloadHash, string? BatchId, long AtMs, double? Steam, string? Kind, string? Code);

/// <summary>
/// The independent subscriber: mosquitto_sub, started before the first batch with a persistent session (clean session off,
/// QoS 1, a fixed client id) on a broker with persistence, so a broker restart (SIGTERM) costs it nothing that the broker had
/// acknowledged. It counts what arrives as it arrives (payload hashes, not payloads): telemetry and events by journal sequence,
/// command results by id, and the service's availability and state, live only (a retained copy handed over at a
/// resubscription is not news).
/// </summary>
public sealed class Watcher : IDisposable
{
    private readonly System.Diagnostics.Process process;
    private readonly object gate = new();
    private readonly string topicBase;
    private readonly string readyTopic;
    private volatile bool ready;
    private long index;
    private long lastOnlineIndex = -1;
    private long lastStateIndex = -1;

    public Dictionary<long, List<Copy>> Samples { get; } = new();
    public Dictionary<long, List<Copy>> Events { get; } = new();
    /// <summary>Command results by id: each result's payload (they are small).</summary>
    public Dictionary<string, List<string>> Results { get; } = new(StringComparer.Ordinal);
    public List<string> ResultsWithoutId { get; } = new();
    public int Online { get; private set; }
    public int Offline { get; private set; }
    public List<string> Unparsed { get; } = new();

    public Watcher(int port, string topicBase)
    {
        this.topicBase = topicBase;
        var id = Guid.NewGuid().ToString("N")[..10];
        readyTopic = Mosquitto.ReadyPrefix + id;
        var args = new List<string> { "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-q", "1", "-c", "-i", "soak-watcher-" + id,
            "-V", "mqttv311", "-F", "%t %r %p", "-t", readyTopic };
        foreach (var topic in new[] { "availability", "state", "telemetry", "events", "command/result" }) args.AddRange(["-t", $"{topicBase}/{topic}"]);
        process = System.Diagnostics.Process.Start(new ProcessStartInfo("mosquitto_sub", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Take(e.Data); };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (!ready)
            {
                if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"mosquitto_sub on port {port} did not receive its own ready ping within 20 s");
                Mosquitto.Publish(port, readyTopic, "ready");
                Thread.Sleep(300);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private readonly StreamWriter? raw = Environment.GetEnvironmentVariable("SOAK_RAW") is { Length: > 0 } path ? new StreamWriter(path) { AutoFlush = true } : null;

    private void Take(string line)
    {
        lock (gate) raw?.WriteLine(line.Length > 300 ? line[..300] : line);
        var first = line.IndexOf(' ');
        var second = first < 0 ? -1 : line.IndexOf(' ', first + 1);
        if (second < 0)
        {
            lock (gate) Unparsed.Add(line);
            return;
        }
        var topic = line[..first];
        var retained = line[(first + 1)..second] == "1";
        var payload = line[(second + 1)..];
        if (topic == readyTopic)
        {
            ready = true;
            return;
        }
        try
        {
            lock (gate)
            {
                index++;
                var kind = topic.StartsWith(topicBase + "/", StringComparison.Ordinal) ? topic[(topicBase.Length + 1)..] : topic;
                switch (kind)
                {
                    case "availability":
                        if (retained) break;
                        if (payload == "online") { Online++; lastOnlineIndex = index; }
                        else Offline++;
                        break;
                    case "state":
                        if (!retained) lastStateIndex = index;
                        break;
                    case "telemetry":
                    {
                        using var json = JsonDocument.Parse(payload);
                        var root = json.RootElement;
                        Add(Samples, root.GetProperty("seq").GetInt64(), new Copy(Hash(payload), Text(root, "batchId"), At(root),
                            root.GetProperty("steamValvePercent").GetDouble(), null, null));
                        break;
                    }
                    case "events":
                    {
                        using var json = JsonDocument.Parse(payload);
                        var root = json.RootElement;
                        Add(Events, root.GetProperty("seq").GetInt64(), new Copy(Hash(payload), Text(root, "batchId"), At(root), null,
                            Text(root, "kind"), Text(root, "code")));
                        break;
                    }
                    case "command/result":
                    {
                        using var json = JsonDocument.Parse(payload);
                        if (Text(json.RootElement, "id") is { } id)
                        {
                            if (!Results.TryGetValue(id, out var list)) Results[id] = list = new();
                            list.Add(payload);
                        }
                        else
                        {
                            ResultsWithoutId.Add(payload);
                        }
                        break;
                    }
                    default:
                        Unparsed.Add(line);
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            lock (gate) Unparsed.Add(line);
        }
    }

    private static void Add(Dictionary<long, List<Copy>> into, long seq, Copy copy)
    {
        if (!into.TryGetValue(seq, out var list)) into[seq] = list = new(1);
        list.Add(copy);
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long At(JsonElement root) => root.GetProperty("at").GetDateTimeOffset().ToUnixTimeMilliseconds();

    private static long Hash(string payload) => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(payload)), 0);

    /// <summary>Runs <paramref name="read"/> under the watcher's lock (the collections change as messages arrive).</summary>
    public T Read<T>(Func<Watcher, T> read)
    {
        lock (gate) return read(this);
    }

    /// <summary>How many live "online" messages have come so far.</summary>
    public int OnlineCount() { lock (gate) return Online; }

    /// <summary>
    /// Whether the service has connected (a live "online" after <paramref name="onlineBefore"/> of them) and is past its
    /// subscription to the command topic: its link publishes the state only after subscribing, so a live state after the last
    /// online says commands sent now reach it.
    /// </summary>
    public bool Ready(int onlineBefore)
    {
        lock (gate) return Online > onlineBefore && lastStateIndex > lastOnlineIndex;
    }

    public int ResultCount(string id)
    {
        lock (gate) return Results.TryGetValue(id, out var list) ? list.Count : 0;
    }

    public int ResultsWithoutIdCount()
    {
        lock (gate) return ResultsWithoutId.Count;
    }

    public void Dispose()
    {
        lock (gate) raw?.Dispose();
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }
}
