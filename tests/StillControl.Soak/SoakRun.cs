using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using StillControl.History;
using StillControl.Telemetry;

namespace StillControl.Soak;

/// <summary>What became of one batch.</summary>
public sealed class BatchRecord(int number, int seed)
{
    public int Number { get; } = number;
    public int Seed { get; } = seed;
    public string? Id { get; set; }
    public string? Outcome { get; set; }
    public string? Reason { get; set; }
    public int Starts { get; set; }
    public int Kills { get; set; }
    public int JournalFull { get; set; }
    public List<int> ExitCodes { get; } = new();
}

/// <summary>A command id the soak sent, and how.</summary>
public sealed class SentCommand(string category, string command)
{
    public string Category { get; } = category;
    public string Command { get; } = command;
    public int Sends { get; set; }
}

/// <summary>
/// The soak: seeded batches back to back, each the real program (<c>simulate --speed N</c>) against a real Mosquitto and a real
/// VictoriaMetrics, with a seeded fault injector acting at random moments. Faults are injected one at a time (each finished,
/// servers back and the service connected again, before the next), so every result can be attributed; the moments are random.
/// </summary>
public sealed class SoakRun : IDisposable
{
    public const string TopicBase = "stillcontrol/plant/still-1";
    public const string CommandTopic = TopicBase + "/command";

    private readonly TestFiles files = new();
    private readonly Mosquitto broker;
    private readonly VictoriaMetrics database;
    private readonly JournalDisk disk;
    private readonly Watcher watcher;
    private readonly Random random;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly StringBuilder log = new();
    private ServiceProcess? service;
    private int replayCounter;
    private readonly List<string> answeredIds = new();

    public SoakSettings Settings { get; }
    public List<BatchRecord> Batches { get; } = new();
    public Dictionary<Fault, int> Injected { get; } = Enum.GetValues<Fault>().ToDictionary(f => f, _ => 0);
    public Dictionary<string, SentCommand> Sent { get; } = new(StringComparer.Ordinal);
    public int GarbageWithoutId { get; private set; }
    /// <summary>Things that went against a promise while the soak ran (each also in the log).</summary>
    public List<string> Findings { get; } = new();
    public string Log { get { lock (log) return log.ToString(); } }
    public TimeSpan Elapsed => clock.Elapsed;

    public SoakRun(SoakSettings settings)
    {
        Settings = settings;
        random = new Random(settings.Seed);
        // Every server this run starts is stopped if a later one fails to start (a throwing constructor is never disposed).
        try
        {
            broker = new Mosquitto(persistent: true);
            database = new VictoriaMetrics(deduplicate: false);
            disk = new JournalDisk(files.PathOf("journal-disk"), settings.DiskMegabytes);
            watcher = new Watcher(broker.AnonymousPort, TopicBase);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string JournalOutside => disk.Outside("journal.db");

    public VictoriaMetrics Database => database;

    public Watcher Watcher => watcher;

    public void Note(string text)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,7:0.0} s] {text}");
        lock (log) log.AppendLine(line);
    }

    private void Finding(string text)
    {
        Findings.Add(text);
        Note("FINDING: " + text);
    }

    private double Uniform(double low, double high) => low + random.NextDouble() * (high - low);

    public async Task RunAsync()
    {
        // The deck: each fault kind the same number of times, in a seeded order, dealt out over the batches.
        var deck = new Queue<Fault>(Enum.GetValues<Fault>().SelectMany(f => Enumerable.Repeat(f, Settings.FaultsPerKind)).OrderBy(_ => random.Next()));
        for (var number = 1; number <= Settings.Batches; number++)
        {
            var share = (deck.Count + Settings.Batches - number) / (Settings.Batches - number + 1);
            var hand = new Queue<Fault>();
            for (var i = 0; i < share && deck.Count > 0; i++) hand.Enqueue(deck.Dequeue());
            await RunBatchAsync(number, hand, last: number == Settings.Batches);
            // What this batch had no time for goes to the next one.
            foreach (var left in deck.ToList()) hand.Enqueue(left);
            deck = hand;
        }
        if (deck.Count > 0) Note($"not injected (the last batch ended first): {string.Join(", ", deck)}");
        // The retained command is cleared, as an operator would once they noticed it.
        Publish("-r", "-n");
    }

    private string[] Arguments(int seed, bool resume)
    {
        var args = new List<string>
        {
            "simulate", "--speed", Settings.Speed.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture),
            "--journal", disk.Inside("journal.db"), "--mqtt", $"127.0.0.1:{broker.AnonymousPort}", "--influx", database.Url, "--json",
        };
        if (resume) args.Add("--resume");
        return args.ToArray();
    }

    private async Task StartAsync(BatchRecord batch, bool resume)
    {
        service?.Dispose();
        var online = watcher.OnlineCount();
        service = new ServiceProcess(disk.Enter, Arguments(batch.Seed, resume));
        batch.Starts++;
        Note($"batch {batch.Number}: started (pid {service.Id}{(resume ? ", --resume" : "")})");
        await WaitReadyAsync(online, "start");
    }

    /// <summary>Until the service has connected again and subscribed, or has exited, or a minute has passed (a finding).</summary>
    private async Task WaitReadyAsync(int onlineBefore, string after)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!watcher.Ready(onlineBefore))
        {
            if (service is null || service.HasExited) return;
            if (DateTime.UtcNow > deadline)
            {
                Finding($"the service did not connect to the broker within 90 s after a {after}");
                return;
            }
            await Task.Delay(50);
        }
    }

    private async Task RunBatchAsync(int number, Queue<Fault> hand, bool last)
    {
        var batch = new BatchRecord(number, Settings.Seed % 100_000 + number);
        Batches.Add(batch);
        var before = BatchIds();
        await StartAsync(batch, resume: false);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(15 + 60 * 2 / Settings.Speed);
        var quiet = false;
        while (true)
        {
            var exited = await service!.WaitForExitAsync(TimeSpan.FromSeconds(Uniform(Settings.MinimumGapSeconds, Settings.MaximumGapSeconds)));
            if (exited)
            {
                var code = service.ExitCode;
                batch.ExitCodes.Add(code);
                if (code == 0)
                {
                    Ended(batch, service.Output);
                    return;
                }
                Finding($"batch {number}: the service exited {code} on its own: {Tail(service.Error)}");
                if (!await ContinueAsync(batch, before)) return;
                continue;
            }
            if (DateTime.UtcNow > deadline)
            {
                Finding($"batch {number}: not over after {(deadline - DateTime.UtcNow).TotalMinutes:0} min; killed");
                service.Kill9();
                batch.Outcome = "timed out";
                return;
            }
            // The last batch gets a quiet end (its grain steaming), so what the faults held back drains before the check.
            if (last && !quiet && service.Error.Contains("→ steaming", StringComparison.Ordinal))
            {
                quiet = true;
                Note($"batch {number}: steaming; no more faults, so the final stop can drain");
            }
            if (quiet || hand.Count == 0) continue;
            var fault = hand.Dequeue();
            Injected[fault]++;
            if (await InjectAsync(fault, batch, before)) return;
        }
    }

    /// <summary>A batch the service finished (exit 0): its outcome from the program's JSON, checked against the journal.</summary>
    private void Ended(BatchRecord batch, string output)
    {
        try
        {
            using var json = JsonDocument.Parse(output);
            var root = json.RootElement;
            batch.Id = root.GetProperty("batchId").GetString();
            batch.Outcome = root.GetProperty("outcome").GetString();
            batch.Reason = root.GetProperty("endReason").GetString();
        }
        catch (JsonException ex)
        {
            Finding($"batch {batch.Number}: simulate --json printed no single JSON object ({ex.Message})");
        }
        Note($"batch {batch.Number}: {batch.Id} {batch.Outcome}: {batch.Reason}");
    }

    /// <summary>After the service died (kill -9, journal-full, or on its own): resume the batch, or learn it had ended, or start it anew.</summary>
    private async Task<bool> ContinueAsync(BatchRecord batch, HashSet<string> before)
    {
        if (Unfinished() is not null)
        {
            await StartAsync(batch, resume: true);
            return true;
        }
        var ended = BatchIds().Except(before).ToList();
        if (ended.Count > 0)
        {
            // Killed after the batch had ended and been committed, before the process was gone: the journal has the outcome.
            (batch.Id, batch.Outcome, batch.Reason) = JournalOutcome(ended[^1]);
            Note($"batch {batch.Number}: had ended before the kill: {batch.Id} {batch.Outcome}");
            return false;
        }
        Note($"batch {batch.Number}: killed before its batch record was committed: started anew");
        await StartAsync(batch, resume: false);
        return true;
    }

    /// <summary>Injects one fault; true when the batch ended meanwhile.</summary>
    private async Task<bool> InjectAsync(Fault fault, BatchRecord batch, HashSet<string> before)
    {
        var running = service!;
        switch (fault)
        {
            case Fault.Kill:
            {
                running.Kill9();
                batch.Kills++;
                batch.ExitCodes.Add(-9);
                Note($"batch {batch.Number}: kill -9 (pid {running.Id})");
                return !await ContinueAsync(batch, before);
            }
            case Fault.DiskFull:
            {
                var bytes = disk.Fill();
                Note($"batch {batch.Number}: journal disk filled ({bytes / 1024} KiB of filler)");
                var exited = await running.WaitForExitAsync(TimeSpan.FromSeconds(90));
                if (!exited)
                {
                    Finding($"batch {batch.Number}: the journal's disk was full for 90 s and the service went on without exiting journal-full");
                    disk.Free();
                    return false;
                }
                disk.Free();
                var code = running.ExitCode;
                batch.ExitCodes.Add(code);
                if (code == 0)
                {
                    Note($"batch {batch.Number}: ended before the full disk was noticed");
                    Ended(batch, running.Output);
                    return true;
                }
                if (code == 4 && running.Error.Contains("journal-full", StringComparison.Ordinal) && !running.Error.Contains("internal error", StringComparison.Ordinal))
                {
                    batch.JournalFull++;
                    Note($"batch {batch.Number}: exit 4 journal-full; space freed");
                }
                else
                {
                    Finding($"batch {batch.Number}: full journal disk: exit {code}, not 4 journal-full: {Tail(running.Error)}");
                }
                return !await ContinueAsync(batch, before);
            }
            case Fault.Broker:
            {
                var online = watcher.OnlineCount();
                broker.Stop(crash: false);
                var away = Uniform(1, 4);
                Note($"broker stopped for {away:0.0} s");
                await Task.Delay(TimeSpan.FromSeconds(away));
                broker.Start();
                await WaitReadyAsync(online, "broker restart");
                return false;
            }
            case Fault.Database:
            {
                database.Stop();
                var away = Uniform(1, 4);
                Note($"database stopped for {away:0.0} s");
                await Task.Delay(TimeSpan.FromSeconds(away));
                database.Start();
                return false;
            }
            case Fault.Flood:
            {
                var ids = Enumerable.Range(0, Settings.FloodSize).Select(i => $"flood-{batch.Number}-{Injected[Fault.Flood]}-{i:0000}").ToList();
                foreach (var id in ids) Track(id, "flood", "ack");
                SendLines(ids.Select(id => $$"""{"id":"{{id}}","command":"ack","operator":"soak"}"""));
                Note($"flood of {ids.Count} ack commands");
                await WaitResultsAsync(ids.Select(id => (id, 1)).ToList(), "flood");
                answeredIds.Add(ids[random.Next(ids.Count)]);
                return false;
            }
            case Fault.Replay:
            {
                var id = $"replay-{++replayCounter:000}";
                Track(id, "replay", "ack");
                Send($$"""{"id":"{{id}}","command":"ack","operator":"soak"}""");
                await WaitResultsAsync([(id, 1)], "replay");
                // The same id twice more in one go (both in the link's queue at once), and one answered long ago, perhaps before a kill.
                Track(id, "replay", "ack");
                Track(id, "replay", "ack");
                SendLines([$$"""{"id":"{{id}}","command":"ack","operator":"soak"}""", $$"""{"id":"{{id}}","command":"ack","operator":"soak"}"""]);
                var expect = new List<(string, int)> { (id, 3) };
                if (answeredIds.Count > 0)
                {
                    var old = answeredIds[random.Next(answeredIds.Count)];
                    var expected = watcher.ResultCount(old) + 1;
                    Track(old, Sent[old].Category, Sent[old].Command);
                    Send($$"""{"id":"{{old}}","command":"{{Sent[old].Command}}","operator":"soak"}""");
                    expect.Add((old, expected));
                    Note($"replay of {id} (twice) and of {old}");
                }
                await WaitResultsAsync(expect, "replay");
                answeredIds.Add(id);
                return false;
            }
            case Fault.Retained:
            {
                var id = $"retained-{Injected[Fault.Retained]:000}";
                Track(id, "retained", "hold");
                Mosquitto.Publish(broker.AnonymousPort, CommandTopic, $$"""{"id":"{{id}}","command":"hold","operator":"soak"}""", "-r");
                Note($"retained hold {id} left on the broker");
                await WaitResultsAsync([(id, 1)], "retained");
                return false;
            }
            case Fault.Garbage:
            {
                var n = Injected[Fault.Garbage];
                var withoutId = watcher.ResultsWithoutIdCount();
                SendBytes([0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D]); // {"id":"\xFF\xFE"}: not UTF-8
                Send("""{"id":"lone","command":"hold","operator":"\ud800"}"""); // a lone surrogate in an escape
                SendBytes(Encoding.UTF8.GetBytes("{\"id\":\"huge\",\"operator\":\"" + new string('x', 100 * 1024) + "\"}")); // far over the command limit (2 KiB), under the link's packet limit
                // (128 KiB): a larger one the broker drops for the link and it never arrives (CommandDeliveryTests checks that)
                Send("hold the steam please"); // not JSON
                Send("[1,2,3]"); // JSON, not an object
                Publish("-n"); // empty
                GarbageWithoutId += 6;
                var typed = $"garbage-{n:000}";
                Track(typed, "garbage", "(unreadable)");
                Send($$"""{"id":"{{typed}}","command":5,"operator":"soak"}"""); // an id, and a command of the wrong type
                Note("garbage: invalid UTF-8, lone surrogate, 100 KiB, not JSON, an array, empty, a wrong type");
                await WaitAsync(() => watcher.ResultsWithoutIdCount() >= withoutId + 6 && watcher.ResultCount(typed) >= 1, "garbage");
                return false;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(fault));
        }
    }

    private void Track(string id, string category, string command)
    {
        if (!Sent.TryGetValue(id, out var sent)) Sent[id] = sent = new SentCommand(category, command);
        sent.Sends++;
    }

    private async Task WaitResultsAsync(List<(string Id, int Count)> expected, string what) =>
        await WaitAsync(() => expected.All(e => watcher.ResultCount(e.Id) >= e.Count), what);

    private async Task WaitAsync(Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!done())
        {
            if (service is null || service.HasExited)
            {
                Note($"{what}: the service stopped before every result came (the batch ended)");
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                Finding($"{what}: not every result within 90 s");
                return;
            }
            await Task.Delay(50);
        }
        // The audit events of these results are committed by the loop within its commit interval; a kill must not come first.
        await Task.Delay(500);
    }

    private void Send(string payload) => Mosquitto.Publish(broker.AnonymousPort, CommandTopic, payload);

    private void SendBytes(byte[] payload)
    {
        var path = files.PathOf($"payload-{Guid.NewGuid():N}");
        File.WriteAllBytes(path, payload);
        using var pub = System.Diagnostics.Process.Start(new ProcessStartInfo("mosquitto_pub", ["-h", "127.0.0.1", "-p", $"{broker.AnonymousPort}", "-t", CommandTopic, "-q", "1", "-f", path])
            { UseShellExecute = false, RedirectStandardError = true })!;
        pub.WaitForExit();
        File.Delete(path);
        if (pub.ExitCode != 0) throw new InvalidOperationException($"mosquitto_pub -f failed: {pub.StandardError.ReadToEnd()}");
    }

    /// <summary>mosquitto_pub to the command topic with these options and no -m (an empty message, a retained one cleared).</summary>
    private void Publish(params string[] options)
    {
        using var pub = System.Diagnostics.Process.Start(new ProcessStartInfo("mosquitto_pub", ["-h", "127.0.0.1", "-p", $"{broker.AnonymousPort}", "-t", CommandTopic, "-q", "1", .. options])
            { UseShellExecute = false, RedirectStandardError = true })!;
        pub.WaitForExit();
        if (pub.ExitCode != 0) throw new InvalidOperationException($"mosquitto_pub {string.Join(' ', options)} failed: {pub.StandardError.ReadToEnd()}");
    }

    private void SendLines(IEnumerable<string> lines)
    {
        using var pub = System.Diagnostics.Process.Start(new ProcessStartInfo("mosquitto_pub", ["-h", "127.0.0.1", "-p", $"{broker.AnonymousPort}", "-t", CommandTopic, "-q", "1", "-l"])
            { UseShellExecute = false, RedirectStandardInput = true })!;
        foreach (var line in lines) pub.StandardInput.WriteLine(line);
        pub.StandardInput.Close();
        pub.WaitForExit();
        if (pub.ExitCode != 0) throw new InvalidOperationException("mosquitto_pub -l failed");
    }

    private static string Tail(string text) => text.Length <= 600 ? text.Trim() : "…" + text[^600..].Trim();

    private int snapshots;

    /// <summary>
    /// A read-only connection to a copy of a journal file (and its write-ahead log) taken while no service runs. SQLite resolves
    /// symbolic links itself, so it cannot open a file through the magic /proc/PID/root link; the kernel's file API can copy it.
    /// </summary>
    public SqliteConnection OpenJournal(string name = "journal.db")
    {
        // The previous copy's connection is closed by now (every caller disposes it): only one copy is kept at a time.
        if (snapshots > 0 && Directory.Exists(files.PathOf($"snapshot-{snapshots}"))) Directory.Delete(files.PathOf($"snapshot-{snapshots}"), recursive: true);
        var folder = files.PathOf($"snapshot-{++snapshots}");
        Directory.CreateDirectory(folder);
        var copy = Path.Combine(folder, name);
        File.Copy(disk.Outside(name), copy);
        if (File.Exists(disk.Outside(name + "-wal"))) File.Copy(disk.Outside(name + "-wal"), copy + "-wal");
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = copy, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private HashSet<string> BatchIds()
    {
        if (!File.Exists(JournalOutside)) return new();
        using var connection = OpenJournal();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM batches";
        using var reader = command.ExecuteReader();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read()) ids.Add(reader.GetString(0));
        return ids;
    }

    private string? Unfinished()
    {
        if (!File.Exists(JournalOutside)) return null;
        using var connection = OpenJournal();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM batches WHERE ended_at IS NULL AND state_json IS NOT NULL ORDER BY started_at DESC LIMIT 1";
        return command.ExecuteScalar() as string;
    }

    private (string, string?, string?) JournalOutcome(string id)
    {
        using var connection = OpenJournal();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT outcome, json_extract(state_json, '$.holdCause') FROM batches WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (id, reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    public void Dispose()
    {
        // Child first (it holds the journal inside the namespace), then the servers, then the namespace and the files.
        service?.Dispose();
        watcher?.Dispose();
        broker?.Dispose();
        database?.Dispose();
        disk?.Dispose();
        files.Dispose();
    }
}
