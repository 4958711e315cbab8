using System.Globalization;
using System.Text.Json;
using StillControl.Process;

namespace StillControl.Plant;

/// <summary>One point of a still's telemetry as the board keeps it: the still's time, its strength and every channel's value.</summary>
public sealed record LivePoint(long Sequence, DateTimeOffset At, string Phase, double? StrengthPercentVolume, double SteamValvePercent, double CoolingValvePercent, IReadOnlyDictionary<string, double?> Channels);

/// <summary>A line of a still's recent history on its live view: an event it published, or one the plant raised about it.</summary>
public sealed record StillEventLine(DateTimeOffset At, string Source, string Kind, string Code, string Message);

/// <summary>
/// One still as the board shows it, taken at one moment (immutable). <see cref="Online"/>: its availability says online and it
/// is not silent. <see cref="LastSeen"/>: the plant's clock at the last live message from it (retained ones replayed by the
/// broker do not count), so the data age is now minus that.
/// </summary>
public sealed record StillView(
    string Site, string Name, bool Online, string Availability, bool Silent, string? OfflineReason, string Phase, string? BatchId, DateTimeOffset? StartedAt,
    double? ElapsedSeconds, DateTimeOffset? StillClock, double? StrengthPercentVolume, bool Held, string? HoldCause, double? SteamValvePercent, double? CoolingValvePercent,
    string? Receiver, string? CoolingChannel, double? CoolingCelsius, double? CoolingTargetCelsius, double? CoolingMaximumCelsius,
    // idle (no batch), standby (no distillate yet), on-target (within StillRegistry.CoolingBandCelsius), off-target, over (above the maximum), unknown (no good reading).
    string Cooling,
    bool CoverLayerAdvised, IReadOnlyList<string> ActiveAlarms, IReadOnlyList<string> UnacknowledgedAlarms, IReadOnlyList<string> Backlogs,
    DateTimeOffset? LastSeen, double? DataAgeSeconds, long? LastSampleSequence, DateTimeOffset? LastSampleAt, long Version);

/// <summary>
/// Every still under the topic root, found from its own topics (<c>{root}/{site}/{still}/availability|state|telemetry|events</c>):
/// nothing is configured per still. It keeps what the board shows and raises a <see cref="PlantEvent"/> on each change worth a
/// person's attention: alarms raised, cleared and acknowledged, holds and releases, advisories, backlogs, and a still gone
/// offline (its availability, which is also its will message, or silence while a batch runs) and back.
/// </summary>
/// <remarks>
/// Thread-safe: the MQTT client feeds <see cref="Receive"/> from its own task and <see cref="Tick"/> runs on a timer; handlers
/// of <see cref="Changed"/> and <see cref="Updated"/> run after the registry's lock is released, one at a time per call, and an
/// exception in one is caught and counted (a notification module cannot stop the board).
/// </remarks>
public sealed class StillRegistry
{
    /// <summary>A still whose own clock is this far ahead of an event's time: the event comes from a backlog being caught up, not news.</summary>
    public static readonly TimeSpan BackfillAge = TimeSpan.FromMinutes(5);
    /// <summary>More stills than this under the root is someone publishing nonsense: the rest are ignored, and said so.</summary>
    public const int MaximumStills = 2000;
    public const int MaximumPayloadBytes = 256 * 1024;
    private const int EventLines = 60;
    private const int MaximumNameLength = 64;

    private readonly object gate = new();
    private readonly Dictionary<(string Site, string Name), Entry> stills = [];
    private readonly string prefix;
    private readonly TimeSpan silentAfter;
    private readonly int liveSamples;
    private readonly TimeProvider time;
    private long version;
    private long handlerFailures;
    private long rejected;

    public StillRegistry(string topicRoot, TimeSpan silentAfter, int liveSamples, TimeProvider time)
    {
        prefix = topicRoot.TrimEnd('/') + "/";
        this.silentAfter = silentAfter;
        this.liveSamples = liveSamples;
        this.time = time;
    }

    /// <summary>Raised for each event worth telling a person (contract 2). Runs on the MQTT client's task or the silence timer's.</summary>
    public event Action<PlantEvent>? Changed;

    /// <summary>Raised when a still's view changed (for the board's pushed updates).</summary>
    public event Action<StillView>? Updated;

    /// <summary>The topic filter that covers every still under the root.</summary>
    public string Filter => prefix + "+/+/+";

    /// <summary>Messages that could not be read (bad topic part, bad JSON, too large), each ignored.</summary>
    public long Rejected => Interlocked.Read(ref rejected);

    /// <summary>Exceptions thrown by <see cref="Changed"/> or <see cref="Updated"/> handlers, each caught.</summary>
    public long HandlerFailures => Interlocked.Read(ref handlerFailures);

    /// <summary>The last reason a message was ignored, for the log.</summary>
    public string? LastRejection { get; private set; }

    public int Count { get { lock (gate) return stills.Count; } }

    /// <summary>Every still, by site then name.</summary>
    public IReadOnlyList<StillView> Snapshot()
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            return stills.Values.OrderBy(e => e.Site, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal).Select(e => e.View(now)).ToList();
        }
    }

    public StillView? Find(string site, string name)
    {
        lock (gate)
        {
            return stills.TryGetValue((site, name), out var entry) ? entry.View(time.GetUtcNow()) : null;
        }
    }

    /// <summary>A still's recent telemetry (oldest first), after <paramref name="afterSequence"/>, for its live view.</summary>
    public IReadOnlyList<LivePoint> Points(string site, string name, long afterSequence = 0)
    {
        lock (gate)
        {
            if (!stills.TryGetValue((site, name), out var entry)) return [];
            return entry.Points.Where(p => p.Sequence > afterSequence).ToList();
        }
    }

    /// <summary>A still's recent history lines, newest first.</summary>
    public IReadOnlyList<StillEventLine> Lines(string site, string name)
    {
        lock (gate)
        {
            return stills.TryGetValue((site, name), out var entry) ? entry.Lines.Reverse().ToList() : [];
        }
    }

    /// <summary>
    /// Takes one MQTT message. Returns whether it was about a still (false: another topic, or unreadable and ignored).
    /// <paramref name="retained"/>: the broker replayed it on subscribing, so it says nothing about the still being alive now.
    /// </summary>
    public bool Receive(string topic, ReadOnlySpan<byte> payload, bool retained)
    {
        if (!topic.StartsWith(prefix, StringComparison.Ordinal)) return false;
        var parts = topic[prefix.Length..].Split('/');
        if (parts.Length != 3) return false; // command, command/result and anything deeper are not the still's own reports
        var kind = parts[2];
        if (kind is not ("availability" or "state" or "telemetry" or "events")) return false;
        var (site, name) = (parts[0], parts[1]);
        if (!NameAllowed(site) || !NameAllowed(name))
        {
            Reject($"topic {PrintableText.Of(topic)}: a site and still name of 1 to {MaximumNameLength} printable characters");
            return false;
        }
        if (payload.Length > MaximumPayloadBytes)
        {
            Reject($"topic {topic}: payload of {payload.Length} bytes, over {MaximumPayloadBytes}");
            return false;
        }

        var raised = new List<PlantEvent>();
        StillView? updated;
        var now = time.GetUtcNow();
        lock (gate)
        {
            if (!stills.TryGetValue((site, name), out var entry))
            {
                if (stills.Count >= MaximumStills)
                {
                    Reject($"topic {topic}: already {MaximumStills} stills under {prefix}; ignored");
                    return false;
                }
                entry = new Entry(site, name, now, liveSamples);
                stills[(site, name)] = entry;
            }
            string? problem;
            try
            {
                problem = kind switch
                {
                    "availability" => entry.Availability(payload, retained, now, raised),
                    "state" => entry.State(payload, now, raised),
                    "telemetry" => entry.Telemetry(payload, now),
                    _ => entry.Event(payload, retained, now, raised),
                };
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or ArgumentException)
            {
                problem = ex.Message;
            }
            if (problem is not null)
            {
                Reject($"topic {topic}: {PrintableText.Of(problem)}");
            }
            if (!retained && problem is null) entry.Seen(now, raised);
            entry.Version = ++version;
            updated = entry.View(now);
        }
        Raise(raised, updated);
        return true;
    }

    /// <summary>Checks every still for silence: a batch running and no live message for <c>Plant:SilentAfterSeconds</c>.</summary>
    public void Tick()
    {
        var now = time.GetUtcNow();
        var raised = new List<PlantEvent>();
        var updated = new List<StillView>();
        lock (gate)
        {
            foreach (var entry in stills.Values)
            {
                var before = raised.Count;
                entry.CheckSilence(now, silentAfter, raised);
                if (raised.Count > before)
                {
                    entry.Version = ++version;
                    updated.Add(entry.View(now));
                }
            }
        }
        foreach (var e in raised) Invoke(Changed, e);
        foreach (var view in updated) Invoke(Updated, view);
    }

    private void Raise(List<PlantEvent> raised, StillView? updated)
    {
        foreach (var e in raised) Invoke(Changed, e);
        if (updated is not null) Invoke(Updated, updated);
    }

    private void Invoke<T>(Action<T>? handlers, T value)
    {
        if (handlers is null) return;
        foreach (var handler in handlers.GetInvocationList().Cast<Action<T>>())
        {
            try
            {
                handler(value);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref handlerFailures);
            }
        }
    }

    private void Reject(string reason)
    {
        Interlocked.Increment(ref rejected);
        LastRejection = reason;
    }

    private static bool NameAllowed(string text) =>
        text.Length is > 0 and <= MaximumNameLength && text.All(c => !char.IsControl(c) && !char.IsSurrogate(c) && c is not ('+' or '#'));

    private static bool IsBacklogCode(string code) => code.EndsWith("-backlog-over-limit", StringComparison.Ordinal);

    /// <summary>One still's state; only touched under the registry's lock.</summary>
    private sealed class Entry(string site, string name, DateTimeOffset firstSeen, int liveSamples)
    {
        public string Site { get; } = site;
        public string Name { get; } = name;
        public long Version { get; set; }
        public Queue<LivePoint> Points { get; } = new();
        public Queue<StillEventLine> Lines { get; } = new();

        private string availability = "unknown";
        private bool offlineRaised;
        private bool silent;
        private DateTimeOffset watchSince = firstSeen;
        private DateTimeOffset? lastSeen;
        private bool stateSeen;
        private string phase = "idle";
        private string? batchId;
        private DateTimeOffset? startedAt;
        private DateTimeOffset? stillClock;
        private DateTimeOffset? stateAt;
        private double? strength;
        private bool held;
        private string? holdCause;
        private double? steam;
        private double? coolingValve;
        private string? receiver;
        private string? coolingChannel;
        private double? coolingCelsius;
        private double? coolingTarget;
        private double? coolingMaximum;
        private bool coverAdvised;
        private IReadOnlyList<string> active = [];
        private IReadOnlyList<string> unacknowledged = [];
        private readonly SortedSet<string> backlogs = new(StringComparer.Ordinal);
        private long? lastSampleSequence;
        private DateTimeOffset? lastSampleAt;
        private long lastEventSequence;
        private bool advisoryRaised;

        private bool Running => Phases.TryParse(phase, out var p) && p.IsActive();

        private void Add(List<PlantEvent> raised, DateTimeOffset now, string kind, string code, string message)
        {
            var e = new PlantEvent(Site, Name, kind, code, PrintableText.Of(message), now);
            raised.Add(e);
            Line(new StillEventLine(now, "plant", kind, code, e.Message));
        }

        private void Line(StillEventLine line)
        {
            Lines.Enqueue(line);
            while (Lines.Count > EventLines) Lines.Dequeue();
        }

        public string? Availability(ReadOnlySpan<byte> payload, bool retained, DateTimeOffset now, List<PlantEvent> raised)
        {
            var text = System.Text.Encoding.UTF8.GetString(payload).Trim();
            if (text is not ("online" or "offline")) return $"availability \"{PrintableText.Of(text.Length > 40 ? text[..40] + "…" : text)}\": online or offline";
            var was = availability;
            availability = text;
            if (text == "offline")
            {
                silent = false;
                if (!offlineRaised)
                {
                    offlineRaised = true;
                    Add(raised, now, PlantEventKinds.Offline, PlantEventKinds.StillOffline, retained && was == "unknown"
                        ? $"{Name} at {Site} is offline (its availability when the plant started watching)"
                        : Running
                            ? $"{Name} at {Site} went offline while batch {batchId} was in {phase} (its will message or a stop)"
                            : $"{Name} at {Site} went offline (its will message or a stop)");
                }
            }
            else
            {
                watchSince = now;
                if (offlineRaised && !silent)
                {
                    offlineRaised = false;
                    Add(raised, now, PlantEventKinds.Online, PlantEventKinds.StillOffline, $"{Name} at {Site} is online again");
                }
            }
            return null;
        }

        /// <summary>A live message: the still is alive now; a silent still is back.</summary>
        public void Seen(DateTimeOffset now, List<PlantEvent> raised)
        {
            lastSeen = now;
            if (silent)
            {
                silent = false;
                if (offlineRaised && availability != "offline")
                {
                    offlineRaised = false;
                    Add(raised, now, PlantEventKinds.Online, PlantEventKinds.StillOffline, $"{Name} at {Site} sends data again");
                }
            }
        }

        public void CheckSilence(DateTimeOffset now, TimeSpan after, List<PlantEvent> raised)
        {
            if (silent || availability == "offline" || !Running) return;
            var since = lastSeen is { } seen && seen > watchSince ? seen : watchSince;
            if (now - since < after) return;
            silent = true;
            if (!offlineRaised)
            {
                offlineRaised = true;
                Add(raised, now, PlantEventKinds.Offline, PlantEventKinds.StillOffline,
                    string.Create(CultureInfo.InvariantCulture, $"{Name} at {Site} has sent nothing for {(now - since).TotalSeconds:0} s while batch {batchId} is in {phase} (Plant:SilentAfterSeconds = {after.TotalSeconds:0})"));
            }
        }

        public string? State(ReadOnlySpan<byte> payload, DateTimeOffset now, List<PlantEvent> raised)
        {
            using var document = JsonDocument.Parse(payload.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return "state: a JSON object";
            var newPhase = Text(root, "phase");
            if (newPhase is null || !Phases.TryParse(newPhase, out _)) return $"state: phase \"{PrintableText.Of(newPhase ?? "")}\": one of the still's phases";
            var first = !stateSeen;
            stateSeen = true;
            var newActive = Strings(root, "activeAlarms");
            var newUnacknowledged = Strings(root, "unacknowledgedAlarms");
            var newHeld = root.TryGetProperty("held", out var h) && h.ValueKind == JsonValueKind.True;
            var newCover = root.TryGetProperty("coverLayerAdvised", out var c) && c.ValueKind == JsonValueKind.True;
            var newCause = Text(root, "holdCause");
            var newBatch = Text(root, "batchId");
            if (first)
            {
                // What is already wrong when the plant first sees a still is raised once: the plant may have been down when it happened.
                foreach (var code in newActive) Add(raised, now, PlantEventKinds.AlarmRaised, code, $"{Name} at {Site}: alarm {code} active ({newPhase})");
                if (newHeld) Add(raised, now, PlantEventKinds.Held, newCause ?? "held", $"{Name} at {Site}: batch {newBatch} held in {newPhase}: {newCause}");
                if (newCover)
                {
                    advisoryRaised = true;
                    Add(raised, now, PlantEventKinds.Advisory, "cover-layer", $"{Name} at {Site}: cover the next layer");
                }
            }
            else if (coverAdvised && !newCover && advisoryRaised)
            {
                advisoryRaised = false;
                Add(raised, now, PlantEventKinds.AdvisoryDone, "cover-layer", $"{Name} at {Site}: cover-layer advisory done");
            }
            phase = newPhase;
            batchId = newBatch;
            held = newHeld;
            holdCause = newCause;
            coverAdvised = newCover;
            active = newActive;
            unacknowledged = newUnacknowledged;
            startedAt = Time(root, "startedAt");
            stateAt = Time(root, "at");
            if (stateAt is { } at && (stillClock is null || at > stillClock)) stillClock = at;
            steam = Number(root, "steamValvePercent");
            coolingValve = Number(root, "coolingValvePercent");
            receiver = Text(root, "receiver");
            // The state is sent on change and every few seconds; the samples carry the newer strength when they flow.
            if (lastSampleAt is null || stateAt >= lastSampleAt) strength = Number(root, "strengthPercentVolume");
            coolingChannel = Text(root, "coolingChannel");
            coolingTarget = Number(root, "coolingTargetCelsius");
            coolingMaximum = Number(root, "coolingMaximumCelsius");
            coolingCelsius = Number(root, "coolingCelsius");
            return null;
        }

        public string? Telemetry(ReadOnlySpan<byte> payload, DateTimeOffset now)
        {
            using var document = JsonDocument.Parse(payload.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return "telemetry: a JSON object";
            if (!root.TryGetProperty("seq", out var seqElement) || !seqElement.TryGetInt64(out var seq)) return "telemetry: seq, a whole number";
            var at = Time(root, "at") ?? throw new FormatException("telemetry: at, a time");
            // A backlog being caught up after an outage arrives oldest first: it goes on the live view, but the tile keeps the newest.
            var newest = lastSampleAt is null || at >= lastSampleAt;
            var channels = new Dictionary<string, double?>(StringComparer.Ordinal);
            if (root.TryGetProperty("channels", out var list) && list.ValueKind == JsonValueKind.Object)
            {
                foreach (var channel in list.EnumerateObject())
                {
                    if (!Channels.TryParse(channel.Name, out _)) continue;
                    double? value = null;
                    if (channel.Value.ValueKind == JsonValueKind.Object && channel.Value.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Number
                        && (!channel.Value.TryGetProperty("quality", out var q) || q.GetString() == "good"))
                    {
                        value = v.GetDouble();
                    }
                    channels[channel.Name] = value;
                }
            }
            var point = new LivePoint(seq, at, Text(root, "phase") ?? phase, Number(root, "strengthPercentVolume"),
                Number(root, "steamValvePercent") ?? 0, Number(root, "coolingValvePercent") ?? 0, channels);
            if (Points.Count == 0 || at > Points.Last().At)
            {
                Points.Enqueue(point);
                while (Points.Count > liveSamples) Points.Dequeue();
            }
            if (!newest) return null;
            lastSampleAt = at;
            lastSampleSequence = seq;
            if (stillClock is null || at > stillClock) stillClock = at;
            strength = point.StrengthPercentVolume;
            if (Text(root, "batchId") is { } sampleBatch && sampleBatch == batchId)
            {
                steam = point.SteamValvePercent;
                coolingValve = point.CoolingValvePercent;
            }
            if (coolingChannel is { } measured && channels.TryGetValue(measured, out var reading) && reading is not null) coolingCelsius = reading;
            return null;
        }

        public string? Event(ReadOnlySpan<byte> payload, bool retained, DateTimeOffset now, List<PlantEvent> raised)
        {
            using var document = JsonDocument.Parse(payload.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return "events: a JSON object";
            if (!root.TryGetProperty("seq", out var seqElement) || !seqElement.TryGetInt64(out var seq)) return "events: seq, a whole number";
            var kind = Text(root, "kind") ?? "";
            var code = Text(root, "code") ?? "";
            var message = Text(root, "message") ?? "";
            var at = Time(root, "at") ?? now;
            // A row sent again after a reconnect (its acknowledgement was lost) is not news; a journal started afresh counts from 1 again.
            if (seq <= lastEventSequence && seq > lastEventSequence - 10_000) return null;
            lastEventSequence = seq;
            Line(new StillEventLine(at, "still", PrintableText.Of(kind), PrintableText.Of(code), PrintableText.Of(message)));
            if (retained || (stillClock is { } clock && clock - at > BackfillAge)) return null;
            var who = $"{Name} at {Site}";
            switch (kind)
            {
                case "alarm-raised" when IsBacklogCode(code):
                    if (backlogs.Add(code)) Add(raised, now, PlantEventKinds.Backlog, code, $"{who}: {message}");
                    break;
                case "alarm-cleared" when IsBacklogCode(code):
                    if (backlogs.Remove(code)) Add(raised, now, PlantEventKinds.BacklogCleared, code, $"{who}: {message}");
                    break;
                case "alarm-raised":
                    Add(raised, now, PlantEventKinds.AlarmRaised, code, $"{who}: {message}");
                    break;
                case "alarm-cleared":
                    Add(raised, now, PlantEventKinds.AlarmCleared, code, $"{who}: {message}");
                    break;
                case "alarm-acknowledged":
                    Add(raised, now, PlantEventKinds.AlarmAcknowledged, code, $"{who}: {message}");
                    break;
                case "held":
                    holdCause = code;
                    Add(raised, now, PlantEventKinds.Held, code, $"{who}: {message}");
                    break;
                case "resumed":
                    Add(raised, now, PlantEventKinds.Released, holdCause ?? code, $"{who}: {message}");
                    break;
                case "advisory":
                    if (code == "cover-layer") advisoryRaised = true;
                    Add(raised, now, PlantEventKinds.Advisory, code, $"{who}: {message}");
                    break;
            }
            return null;
        }

        public StillView View(DateTimeOffset now)
        {
            var online = availability == "online" && !silent;
            var reason = availability == "offline" ? "availability offline" : silent ? "silent" : null;
            double? elapsed = startedAt is { } s && stillClock is { } clock && batchId is not null ? Math.Max(0, Math.Round((clock - s).TotalSeconds)) : null;
            // Judged while distillate runs (heads to steaming); before that only a breach of the maximum is news.
            var flowing = Phases.TryParse(phase, out var p) && p is >= Process.Phase.Heads and <= Process.Phase.Steaming;
            var cooling = !Running || coolingTarget is null ? "idle"
                : coolingCelsius is not { } measured ? "unknown"
                : coolingMaximum is { } max && measured > max ? "over"
                : !flowing ? "standby"
                : Math.Abs(measured - coolingTarget.Value) <= CoolingBandCelsius ? "on-target" : "off-target";
            return new StillView(Site, Name, online, availability, silent, reason, phase, batchId, startedAt, elapsed, stillClock, strength, held, holdCause,
                steam, coolingValve, receiver, coolingChannel, coolingCelsius, coolingTarget, coolingMaximum, cooling, coverAdvised, active, unacknowledged,
                backlogs.ToList(), lastSeen, lastSeen is { } seen ? Math.Round((now - seen).TotalSeconds, 1) : null, lastSampleSequence, lastSampleAt, Version);
        }

        private static string? Text(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? PrintableText.Of(value.GetString()!) : null;

        private static double? Number(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && double.IsFinite(d) ? d : null;

        private static DateTimeOffset? Time(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var t) ? t : null;

        private static IReadOnlyList<string> Strings(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
                ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => PrintableText.Of(v.GetString()!)).ToList()
                : [];
    }

    /// <summary>The cooling channel within this of its target counts as on target (the loop's usual swing is well inside it).</summary>
    public const double CoolingBandCelsius = 3;
}
