using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using StillControl.Journal;

namespace StillControl.Soak;

/// <summary>
/// The reckoning after the last batch: the journal is the reference; what reached MQTT (the independent subscriber) and
/// history (VictoriaMetrics, read back with /api/v1/export over the journal's time span) is compared with it row by row, and
/// every command id with its results on the result topic and its audit events in the journal.
/// </summary>
public sealed partial class SoakCheck
{
    private readonly SoakRun run;
    private readonly StringBuilder table = new();

    public List<string> Failures { get; } = new();

    public string Table => table.ToString();

    private SoakCheck(SoakRun run) => this.run = run;

    private sealed record Sample(long Seq, string Batch, long T, double Steam);

    private sealed record Event(long Seq, string Batch, long T, string Kind, string Code, string Message);

    public static async Task<SoakCheck> RunAsync(SoakRun run)
    {
        var check = new SoakCheck(run);
        await check.CheckAsync();
        return check;
    }

    private void Fail(string text) => Failures.Add(text);

    private async Task CheckAsync()
    {
        var (samples, events) = ReadJournal();
        var (mqttCursor, historyCursor) = ReadCursors();
        var lastSample = samples.Count > 0 ? samples[^1].Seq : 0;
        var lastEvent = events.Count > 0 ? events[^1].Seq : 0;
        // What the final stop drained must have reached the subscriber: wait for it (it is a separate process).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && !run.Watcher.Read(w => samples.All(s => s.Seq > mqttCursor.Samples || w.Samples.ContainsKey(s.Seq))
                                                                   && events.All(e => e.Seq > mqttCursor.Events || w.Events.ContainsKey(e.Seq))))
        {
            await Task.Delay(200);
        }

        Batches();
        table.AppendLine();
        var mqtt = Mqtt(samples, events);
        var history = await HistoryAsync(samples, events);
        Delivery(samples, events, mqtt, history, (lastSample - mqttCursor.Samples, lastEvent - mqttCursor.Events),
            (lastSample - historyCursor.Samples, lastEvent - historyCursor.Events));
        table.AppendLine();
        Commands(events);
        table.AppendLine();
        Faults();
        foreach (var finding in run.Findings) Fail("during the run: " + finding);
    }

    private (List<Sample>, List<Event>) ReadJournal()
    {
        using var connection = run.OpenJournal();
        var samples = new List<Sample>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT seq, batch_id, t, steam_percent FROM samples ORDER BY seq";
            using var reader = command.ExecuteReader();
            while (reader.Read()) samples.Add(new Sample(reader.GetInt64(0), reader.IsDBNull(1) ? "none" : reader.GetString(1), reader.GetInt64(2), reader.GetDouble(3)));
        }
        var events = new List<Event>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT seq, batch_id, t, kind, code, message FROM events ORDER BY seq";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                events.Add(new Event(reader.GetInt64(0), reader.IsDBNull(1) ? "none" : reader.GetString(1), reader.GetInt64(2), reader.GetString(3),
                    reader.GetString(4), reader.GetString(5)));
            }
        }
        return (samples, events);
    }

    private (ForwarderCursor Mqtt, ForwarderCursor History) ReadCursors()
    {
        using var connection = run.OpenJournal("journal.db.cursors");
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT forwarder, samples_seq, events_seq FROM cursors";
        using var reader = command.ExecuteReader();
        ForwarderCursor mqtt = default, history = default;
        while (reader.Read())
        {
            var cursor = new ForwarderCursor(reader.GetInt64(1), reader.GetInt64(2));
            if (reader.GetString(0) == Telemetry.MqttLink.CursorName) mqtt = cursor;
            if (reader.GetString(0) == StillControl.History.HistoryForwarder.CursorName) history = cursor;
        }
        return (mqtt, history);
    }

    private void Batches()
    {
        table.AppendLine("| batch | seed | id | outcome | reason | starts | kill -9 | journal-full exits |");
        table.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var b in run.Batches)
        {
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {b.Number} | {b.Seed} | {b.Id ?? "—"} | {b.Outcome ?? "—"} | {Cell(b.Reason)} | {b.Starts} | {b.Kills} | {b.JournalFull} |"));
            var named = b.Outcome == "completed" || (b.Outcome == "held" && !string.IsNullOrWhiteSpace(b.Reason));
            if (!named) Fail($"batch {b.Number} ({b.Id ?? "no id"}): outcome {b.Outcome ?? "none"} ({b.Reason ?? "no reason"}): neither completed nor held with a named reason");
        }
        if (run.Batches.Count != run.Settings.Batches) Fail($"{run.Batches.Count} batches ran, {run.Settings.Batches} were asked for");
    }

    private static string Cell(string? text) => text is null ? "—" : text.Replace("|", "/", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private sealed record Tally(long Expected, long Delivered, long Lost, long SameCopies, long Different, long Unknown);

    /// <summary>
    /// Telemetry and events on MQTT by journal sequence: lost = a journal row no copy of which arrived; same copies = extra copies
    /// byte-identical to the first (a resend after a lost PUBACK or a restart: at-least-once allows them); different = a copy whose
    /// payload differs from another copy of the same row, or whose batch, time or steam valve differs from the journal's row;
    /// unknown = a sequence the journal does not hold.
    /// </summary>
    private (Tally Samples, Tally Events) Mqtt(List<Sample> samples, List<Event> events) => run.Watcher.Read(w =>
    {
        Tally Count<T>(List<T> rows, Func<T, long> seq, Dictionary<long, List<Copy>> got, Func<T, Copy, bool> matches)
        {
            long lost = 0, same = 0, different = 0, delivered = 0;
            var known = new HashSet<long>();
            foreach (var row in rows)
            {
                known.Add(seq(row));
                if (!got.TryGetValue(seq(row), out var copies)) { lost++; continue; }
                delivered++;
                foreach (var copy in copies.Skip(1)) { if (copy.PayloadHash == copies[0].PayloadHash) same++; }
                if (copies.Any(c => c.PayloadHash != copies[0].PayloadHash) || copies.Any(c => !matches(row, c))) different++;
            }
            return new Tally(rows.Count, delivered, lost, same, different, got.Keys.Count(k => !known.Contains(k)));
        }
        return (Count(samples, s => s.Seq, w.Samples, (s, c) => (c.BatchId ?? "none") == s.Batch && c.AtMs == s.T && c.Steam == s.Steam),
                Count(events, e => e.Seq, w.Events, (e, c) => (c.BatchId ?? "none") == e.Batch && c.AtMs == e.T && c.Kind == e.Kind && c.Code == e.Code));
    });

    /// <summary>
    /// History read back from VictoriaMetrics (without deduplication, so every point written is seen, repeats included): a sample
    /// is its batch and time (steam_valve_percent, compared with the journal's), an event its seq field (compared by batch, time
    /// in ms, kind and code). Extra points with the same values are what the forwarder's at-least-once writes allow.
    /// </summary>
    private async Task<(Tally Samples, Tally Events)> HistoryAsync(List<Sample> samples, List<Event> events)
    {
        var all = samples.Select(s => s.T).Concat(events.Select(e => e.T)).ToList();
        if (all.Count == 0) return (new Tally(0, 0, 0, 0, 0, 0), new Tally(0, 0, 0, 0, 0, 0));
        var start = all.Min() / 1000 - 60;
        var end = all.Max() / 1000 + 60;
        var steam = await ExportAsync("stillcontrol_sample_steam_valve_percent", start, end);
        var byKey = steam.GroupBy(p => (Batch: p.Labels.GetValueOrDefault("batch", "none"), p.Timestamp)).ToDictionary(g => g.Key, g => g.Select(p => p.Value).ToList());
        long lost = 0, different = 0, delivered = 0, same = 0;
        var journalKeys = new HashSet<(string, long)>();
        foreach (var s in samples)
        {
            if (!journalKeys.Add((s.Batch, s.T))) { different++; continue; } // two journal rows that history cannot tell apart
            if (!byKey.TryGetValue((s.Batch, s.T), out var values)) { lost++; continue; }
            delivered++;
            if (values.Any(v => v != s.Steam)) different++;
            else same += values.Count - 1;
        }
        var sampleTally = new Tally(samples.Count, delivered, lost, same, different, byKey.Keys.Count(k => !journalKeys.Contains(k)));

        var seqs = await ExportAsync("stillcontrol_event_seq", start, end);
        var bySeq = seqs.GroupBy(p => (long)p.Value).ToDictionary(g => g.Key, g => g.ToList());
        long eventsLost = 0, eventsDifferent = 0, eventsDelivered = 0, eventsSame = 0;
        foreach (var e in events)
        {
            if (!bySeq.TryGetValue(e.Seq, out var points)) { eventsLost++; continue; }
            eventsDelivered++;
            eventsSame += points.Count - 1;
            if (points.Any(p => p.Timestamp != e.T || p.Labels.GetValueOrDefault("batch", "none") != e.Batch
                                || p.Labels.GetValueOrDefault("kind") != e.Kind || p.Labels.GetValueOrDefault("code") != e.Code))
            {
                eventsDifferent++;
            }
        }
        var eventSeqs = events.Select(e => e.Seq).ToHashSet();
        var eventTally = new Tally(events.Count, eventsDelivered, eventsLost, eventsSame, eventsDifferent, bySeq.Keys.Count(k => !eventSeqs.Contains(k)));
        if (eventsLost > 0)
        {
            // Name a few, with what they have in common, for the report.
            var missing = events.Where(e => !bySeq.ContainsKey(e.Seq)).ToList();
            run.Note($"history lacks {missing.Count} events, e.g. {string.Join("; ", missing.Take(5).Select(e => $"seq {e.Seq} {e.Kind}/{e.Code} at {e.T}: {e.Message}"))}");
            var clash = missing.Count(e => events.Any(o => o.Seq != e.Seq && o.T == e.T && o.Kind == e.Kind && o.Code == e.Code && o.Batch == e.Batch));
            run.Note($"of those, {clash} share batch, kind, code and millisecond with another event (one point in InfluxDB's terms)");
        }
        return (sampleTally, eventTally);
    }

    private async Task<List<(Dictionary<string, string> Labels, long Timestamp, double Value)>> ExportAsync(string metric, long start, long end)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        await http.GetAsync($"{run.Database.Url}/internal/force_flush");
        var text = await http.GetStringAsync(
            $"{run.Database.Url}/api/v1/export?match[]={Uri.EscapeDataString($"{{__name__=\"{metric}\"}}")}&start={start}&end={end}");
        var result = new List<(Dictionary<string, string>, long, double)>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var series = JsonDocument.Parse(line);
            var labels = series.RootElement.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            var values = series.RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList();
            var timestamps = series.RootElement.GetProperty("timestamps").EnumerateArray().Select(t => t.GetInt64()).ToList();
            for (var i = 0; i < values.Count; i++) result.Add((labels, timestamps[i], values[i]));
        }
        return result;
    }

    private void Delivery(List<Sample> samples, List<Event> events, (Tally Samples, Tally Events) mqtt, (Tally Samples, Tally Events) history,
        (long Samples, long Events) mqttBehind, (long Samples, long Events) historyBehind)
    {
        table.AppendLine("| rows | journal | MQTT received | MQTT lost | MQTT extra copies, same bytes | MQTT different values | MQTT unknown | history stored | history lost | history extra points, same values | history different values | history unknown | left behind cursor (MQTT / history) |");
        table.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        void Row(string name, Tally m, Tally h, long mqttLeft, long historyLeft)
        {
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {m.Expected} | {m.Delivered} | {m.Lost} | {m.SameCopies} | {m.Different} | {m.Unknown} | {h.Delivered} | {h.Lost} | {h.SameCopies} | {h.Different} | {h.Unknown} | {mqttLeft} / {historyLeft} |"));
            if (m.Lost > 0) Fail($"{name}: {m.Lost} journal rows never reached the MQTT subscriber");
            if (m.Different > 0) Fail($"{name}: {m.Different} rows reached MQTT with values other than the journal's");
            if (m.Unknown > 0) Fail($"{name}: {m.Unknown} sequences on MQTT the journal does not hold");
            if (h.Lost > 0) Fail($"{name}: {h.Lost} journal rows are not in history");
            if (h.Different > 0) Fail($"{name}: {h.Different} rows in history differ from the journal (or two journal rows share one history point)");
            if (h.Unknown > 0) Fail($"{name}: {h.Unknown} points in history the journal does not hold");
        }
        Row("samples", mqtt.Samples, history.Samples, mqttBehind.Samples, historyBehind.Samples);
        Row("events", mqtt.Events, history.Events, mqttBehind.Events, historyBehind.Events);
        if (samples.Count == 0) Fail("the journal holds no samples");
        _ = events;
    }

    [GeneratedRegex(@"\(mqtt, id (?<id>[^)]+)\)")]
    private static partial Regex Executed();

    [GeneratedRegex(@"^remote command id (?<id>\S+) (arrived again|refused|interrupted)")]
    private static partial Regex ByLink();

    /// <summary>
    /// Every message on the command topic one result: for each id, results on the result topic = messages sent with it (a retained
    /// one: = its deliveries, each refused); the controller judged it (accepted or refused: an audit naming "(mqtt, id X)") at
    /// most once, never for a retained one; audit events for the id = results. Messages with no readable id: results without id =
    /// messages sent, and as many id-less refusals in the journal.
    /// </summary>
    private void Commands(List<Event> events)
    {
        var executed = new Dictionary<string, int>(StringComparer.Ordinal);
        var audits = new Dictionary<string, int>(StringComparer.Ordinal);
        var idlessAudits = 0;
        var interrupted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in events.Where(e => e.Kind is "command-accepted" or "command-refused"))
        {
            if (Executed().Match(e.Message) is { Success: true } x)
            {
                var id = x.Groups["id"].Value;
                // The loop's "not run" (a command it was handed as it stopped) is an answer, not a run.
                if (!e.Message.EndsWith(": not run: the service stopped", StringComparison.Ordinal)) executed[id] = executed.GetValueOrDefault(id) + 1;
                audits[id] = audits.GetValueOrDefault(id) + 1;
            }
            else if (ByLink().Match(e.Message) is { Success: true } l)
            {
                audits[l.Groups["id"].Value] = audits.GetValueOrDefault(l.Groups["id"].Value) + 1;
                if (e.Message.Contains(" interrupted (mqtt)", StringComparison.Ordinal)) interrupted.Add(l.Groups["id"].Value);
            }
            else if (e.Message.StartsWith("remote command refused (mqtt)", StringComparison.Ordinal))
            {
                idlessAudits++;
            }
        }
        var (results, withoutId) = run.Watcher.Read(w => (w.Results.ToDictionary(p => p.Key, p => p.Value.ToList()), w.ResultsWithoutId.Count));
        table.AppendLine("| commands | ids | messages sent | results | ids with results ≠ messages | ids run by the controller | ids run twice | retained run | audit events | ids with audits ≠ results | busy answers | repeats answered with a different result |");
        table.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var category in run.Sent.Values.Select(s => s.Category).Distinct().OrderBy(c => c, StringComparer.Ordinal))
        {
            var ids = run.Sent.Where(p => p.Value.Category == category).ToList();
            long sent = 0, got = 0, mismatched = 0, ran = 0, twice = 0, retainedRan = 0, audited = 0, auditMismatch = 0, busy = 0, differing = 0;
            foreach (var (id, s) in ids)
            {
                var mine = results.GetValueOrDefault(id) ?? new List<string>();
                sent += s.Sends;
                got += mine.Count;
                var expected = category == "retained" ? Math.Max(1, mine.Count) : s.Sends;
                if (mine.Count != expected) mismatched++;
                var runs = executed.GetValueOrDefault(id);
                if (runs > 0) ran++;
                if (runs > 1) twice++;
                if (category == "retained" && (runs > 0 || mine.Any(r => !r.Contains("retained message refused", StringComparison.Ordinal)))) retainedRan++;
                // An id interrupted by a kill after it ran has the loop's audit of the run and the link's of its "interrupted" result: the latter answers it.
                var answers = audits.GetValueOrDefault(id) - (interrupted.Contains(id) ? runs : 0);
                audited += answers;
                if (answers != mine.Count) auditMismatch++;
                busy += mine.Count(r => r.Contains("\"busy:", StringComparison.Ordinal));
                // A repeat gets the first result back, byte for byte (a retained one is refused afresh at each delivery).
                if (category != "retained" && mine.Distinct(StringComparer.Ordinal).Count() > 1) differing++;
            }
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {category} | {ids.Count} | {sent} | {got} | {mismatched} | {ran} | {twice} | {(category == "retained" ? retainedRan.ToString(CultureInfo.InvariantCulture) : "—")} | {audited} | {auditMismatch} | {busy} | {differing} |"));
            if (mismatched > 0) Fail($"commands ({category}): {mismatched} ids whose results do not match the messages sent (one result each)");
            if (twice > 0) Fail($"commands ({category}): {twice} ids run more than once");
            if (retainedRan > 0) Fail($"commands ({category}): {retainedRan} retained commands run or answered other than refused");
            if (auditMismatch > 0) Fail($"commands ({category}): {auditMismatch} ids whose audit events in the journal do not match their results");
            if (differing > 0) Fail($"commands ({category}): {differing} ids answered with different results");
        }
        table.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| unreadable (no id) | — | {run.GarbageWithoutId} | {withoutId} | {Math.Abs(run.GarbageWithoutId - withoutId)} | — | — | — | {idlessAudits} | {Math.Abs(idlessAudits - withoutId)} | — | — |"));
        if (withoutId != run.GarbageWithoutId) Fail($"unreadable commands: {run.GarbageWithoutId} sent, {withoutId} results without id");
        if (idlessAudits != withoutId) Fail($"unreadable commands: {withoutId} results, {idlessAudits} audit events");
        var strays = results.Keys.Where(id => !run.Sent.ContainsKey(id)).ToList();
        if (strays.Count > 0) Fail($"results for ids never sent: {string.Join(", ", strays.Take(5))}");
    }

    private void Faults()
    {
        table.AppendLine("| fault | injected |");
        table.AppendLine("|---|---|");
        foreach (var (fault, count) in run.Injected) table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {FaultName(fault)} | {count} |"));
        var none = run.Injected.Where(p => p.Value == 0).Select(p => FaultName(p.Key)).ToList();
        if (none.Count > 0) Fail($"faults never injected (the batches ended first): {string.Join(", ", none)}");
    }

    public static string FaultName(Fault fault) => fault switch
    {
        Fault.Kill => "kill -9, then --resume",
        Fault.Broker => "broker restart",
        Fault.Database => "database restart",
        Fault.DiskFull => "journal disk full, freed, --resume",
        Fault.Flood => "command flood",
        Fault.Replay => "replayed ids",
        Fault.Retained => "retained hold",
        Fault.Garbage => "garbage payloads (7 kinds)",
        _ => fault.ToString(),
    };
}
