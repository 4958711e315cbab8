using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using StillControl.Archive;
using StillControl.Cli;
using StillControl.Journal;
using StillControl.Telemetry;

namespace StillControl.Bench;

/// <summary>
/// Figures for the central batch archive: how fast the plant stores stills' batch records, against raw inserts of the same
/// rows into SQLite and PostgreSQL, in one run. Needs Debian's postgresql and mosquitto; starts its own servers on free
/// loopback ports (PostgreSQL with fsync on, as a plant would run it). Run:
/// dotnet run -c Release --project bench/StillControl.Bench -- archive [BATCHES]
/// </summary>
public static class ArchiveBench
{
    private const int ChunkRows = 5000;

    public static async Task RunAsync(string[] args)
    {
        var batches = args.Length >= 2 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4;
        Console.WriteLine($"archive bench: runtime {Environment.Version}, {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        Console.WriteLine("(the machine is shared with other agents' builds and tests: figures are what this run saw, not a quiet machine's)");
        using var files = new TestFiles();
        var journals = new List<(string Still, string Path)>();
        for (var i = 0; i < batches; i++)
        {
            var still = $"bench-{i % 2 + 1}";
            var journal = files.PathOf($"{still}.db");
            if (!journals.Contains((still, journal))) journals.Add((still, journal));
            var exit = await CommandLine.RunAsync(["simulate", "--journal", journal, "--mqtt", "off", "--still", still, "--site", "bench", "--seed", (i + 1).ToString(CultureInfo.InvariantCulture)],
                TextWriter.Null, TextWriter.Null);
            if (exit != 0) throw new InvalidOperationException($"simulate exited {exit}");
        }
        var chunks = journals.SelectMany(j => Chunks(j.Path, j.Still)).ToList();
        var rows = chunks.Sum(c => c.Samples.Count + c.Events.Count);
        var encoded = chunks.Select(c => c.Encode()).ToList();
        var raw = chunks.Sum(c => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(c).Length);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rows: {rows} ({chunks.Sum(c => c.Samples.Count)} samples, {chunks.Sum(c => c.Events.Count)} events) of {batches} batches from {journals.Count} stills, in {chunks.Count} chunks of up to {ChunkRows} samples"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"chunk size: {raw / 1024.0 / 1024:0.0} MiB of JSON -> {encoded.Sum(e => e.Length) / 1024.0 / 1024:0.00} MiB gzip ({(double)encoded.Sum(e => e.Length) / raw * 100:0.0} %), {encoded.Sum(e => e.Length) / (double)rows:0} bytes per row on the wire"));
        var decode = Stopwatch.StartNew();
        foreach (var e in encoded) ArchiveChunk.Decode(e);
        decode.Stop();
        Report("decode (gunzip + JSON + checks)", rows, decode.Elapsed);

        using var postgres = new StillControl.Archive.PostgresServer(durable: true);
        Report("raw SQLite: prepared INSERT per row, one transaction per chunk", rows, RawSqlite(files.PathOf("raw.db"), chunks));
        Report("archive SQLite: ArchiveStore.Ingest per chunk (upsert header, ON CONFLICT DO NOTHING)", rows, Ingest(files.PathOf("archive.db"), chunks));
        Report("archive SQLite: same chunks again (all repeats, nothing new)", rows, Ingest(files.PathOf("archive.db"), chunks));
        Report("raw PostgreSQL: prepared INSERT per row, one transaction per chunk", rows, RawPostgresRows(postgres.NewDatabase(), chunks));
        Report("raw PostgreSQL: binary COPY per chunk", rows, RawPostgresCopy(postgres.NewDatabase(), chunks));
        var pg = postgres.NewDatabase();
        Report("archive PostgreSQL: ArchiveStore.Ingest per chunk (unnest arrays, ON CONFLICT DO NOTHING)", rows, Ingest(pg, chunks));
        Report("archive PostgreSQL: same chunks again (all repeats, nothing new)", rows, Ingest(pg, chunks));

        // End to end: the stills' forwarders read their journals, gzip, publish through Mosquitto; the plant decodes, commits, answers.
        using var broker = new Mosquitto();
        foreach (var (name, archive) in new[] { ("SQLite", files.PathOf("e2e.db")), ("PostgreSQL", postgres.NewDatabase()) })
        {
            var copies = journals.Select(j => (j.Still, Path: Copy(j.Path, files.PathOf($"{name}-{Path.GetFileName(j.Path)}")))).ToList();
            Report($"end to end through Mosquitto into {name} (one chunk in flight per still)", rows, await EndToEnd(broker.AnonymousPort, archive, copies, rows));
        }
    }

    private static string Copy(string from, string to)
    {
        File.Copy(from, to);
        return to;
    }

    private static void Report(string what, long rows, TimeSpan elapsed) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {what}: {elapsed.TotalSeconds:0.000} s, {rows / elapsed.TotalSeconds:0} rows/s"));

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; } catch (IOException) { return "?"; }
    }

    /// <summary>The journal's rows as the forwarder would chunk them.</summary>
    private static List<ArchiveChunk> Chunks(string journal, string still)
    {
        using var reader = new JournalReader(journal);
        var result = new List<ArchiveChunk>();
        var cursor = new ForwarderCursor(0, 0);
        List<ArchiveBatch> headers;
        using (var connection = new SqliteConnection($"Data Source={journal};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT id, started_at, ended_at, outcome, recipe_name, recipe_json, phase, state_json, state_at FROM batches";
            using var r = command.ExecuteReader();
            headers = [];
            while (r.Read())
            {
                headers.Add(new ArchiveBatch(r.GetString(0), r.GetInt64(1), r.IsDBNull(2) ? null : r.GetInt64(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4),
                    r.GetString(5), r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetInt64(8), null));
            }
        }
        while (true)
        {
            var samples = reader.SamplesAfter(cursor.Samples, ChunkRows);
            var events = reader.EventsAfter(cursor.Events, ChunkRows);
            if (samples.Count == 0 && events.Count == 0) break;
            result.Add(new ArchiveChunk(ArchiveChunk.CurrentVersion, Guid.NewGuid().ToString("N"), "bench", still, result.Count == 0 ? headers : [],
                samples.Where(s => s.BatchId is not null).Select(s => new ArchiveSample(s.BatchId!, s.Sequence, s.At.ToUnixTimeMilliseconds(), s.Phase, s.Held, s.SteamPercent,
                    s.CoolingPercent, s.Receiver, s.StrengthPercent, s.ReadingsJson)).ToList(),
                events.Where(e => e.BatchId is not null).Select(e => new ArchiveEvent(e.BatchId!, e.Sequence, e.At.ToUnixTimeMilliseconds(), e.Kind, e.Code, e.Phase, e.Message,
                    e.Channel)).ToList()));
            cursor = new ForwarderCursor(samples.Count > 0 ? samples[^1].Sequence : cursor.Samples, events.Count > 0 ? events[^1].Sequence : cursor.Events);
        }
        return result;
    }

    private static TimeSpan Ingest(string archive, List<ArchiveChunk> chunks)
    {
        using var store = ArchiveStore.Open(archive);
        var watch = Stopwatch.StartNew();
        foreach (var chunk in chunks) store.Ingest(chunk);
        return watch.Elapsed;
    }

    private const string SamplesTable = """
        CREATE TABLE samples (still TEXT NOT NULL, batch_id TEXT NOT NULL, seq BIGINT NOT NULL, t BIGINT NOT NULL, phase TEXT NOT NULL, held SMALLINT NOT NULL,
            steam_percent DOUBLE PRECISION NOT NULL, cooling_percent DOUBLE PRECISION NOT NULL, receiver TEXT, strength_percent DOUBLE PRECISION, readings TEXT NOT NULL);
        CREATE TABLE events (still TEXT NOT NULL, batch_id TEXT NOT NULL, seq BIGINT NOT NULL, t BIGINT NOT NULL, kind TEXT NOT NULL, code TEXT NOT NULL,
            phase TEXT NOT NULL, message TEXT NOT NULL, channel TEXT);
        """;

    /// <summary>The same rows into plain SQLite tables (no keys, no conflict checks), WAL and synchronous=NORMAL as the archive.</summary>
    private static TimeSpan RawSqlite(string path, List<ArchiveChunk> chunks)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using (var setup = connection.CreateCommand())
        {
            setup.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" + SamplesTable;
            setup.ExecuteNonQuery();
        }
        var watch = Stopwatch.StartNew();
        foreach (var chunk in chunks)
        {
            using var transaction = connection.BeginTransaction();
            using var sample = connection.CreateCommand();
            sample.Transaction = transaction;
            sample.CommandText = "INSERT INTO samples VALUES ($a, $b, $c, $d, $e, $f, $g, $h, $i, $j, $k)";
            var p = Enumerable.Range(0, 11).Select(i => sample.Parameters.Add(new SqliteParameter("$" + (char)('a' + i), DBNull.Value))).ToArray();
            sample.Prepare();
            foreach (var s in chunk.Samples)
            {
                p[0].Value = chunk.Still; p[1].Value = s.BatchId; p[2].Value = s.Seq; p[3].Value = s.T; p[4].Value = s.Phase; p[5].Value = s.Held ? 1 : 0;
                p[6].Value = s.Steam; p[7].Value = s.Cooling; p[8].Value = (object?)s.Receiver ?? DBNull.Value; p[9].Value = (object?)s.Strength ?? DBNull.Value; p[10].Value = s.Readings;
                sample.ExecuteNonQuery();
            }
            using var ev = connection.CreateCommand();
            ev.Transaction = transaction;
            ev.CommandText = "INSERT INTO events VALUES ($a, $b, $c, $d, $e, $f, $g, $h, $i)";
            var q = Enumerable.Range(0, 9).Select(i => ev.Parameters.Add(new SqliteParameter("$" + (char)('a' + i), DBNull.Value))).ToArray();
            foreach (var e in chunk.Events)
            {
                q[0].Value = chunk.Still; q[1].Value = e.BatchId; q[2].Value = e.Seq; q[3].Value = e.T; q[4].Value = e.Kind; q[5].Value = e.Code; q[6].Value = e.Phase;
                q[7].Value = e.Message; q[8].Value = (object?)e.Channel ?? DBNull.Value;
                ev.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        return watch.Elapsed;
    }

    private static NpgsqlConnection OpenPostgres(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var setup = new NpgsqlCommand(SamplesTable, connection);
        setup.ExecuteNonQuery();
        return connection;
    }

    private static TimeSpan RawPostgresRows(string connectionString, List<ArchiveChunk> chunks)
    {
        using var connection = OpenPostgres(connectionString);
        var watch = Stopwatch.StartNew();
        foreach (var chunk in chunks)
        {
            using var transaction = connection.BeginTransaction();
            using var sample = new NpgsqlCommand("INSERT INTO samples VALUES (@a, @b, @c, @d, @e, @f, @g, @h, @i, @j, @k)", connection, transaction);
            var types = new[] { NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Smallint, NpgsqlDbType.Double,
                NpgsqlDbType.Double, NpgsqlDbType.Text, NpgsqlDbType.Double, NpgsqlDbType.Text };
            var p = types.Select((t, i) => sample.Parameters.Add(new NpgsqlParameter(((char)('a' + i)).ToString(), t) { Value = DBNull.Value })).ToArray();
            sample.Prepare();
            foreach (var s in chunk.Samples)
            {
                p[0].Value = chunk.Still; p[1].Value = s.BatchId; p[2].Value = s.Seq; p[3].Value = s.T; p[4].Value = s.Phase; p[5].Value = (short)(s.Held ? 1 : 0);
                p[6].Value = s.Steam; p[7].Value = s.Cooling; p[8].Value = (object?)s.Receiver ?? DBNull.Value; p[9].Value = (object?)s.Strength ?? DBNull.Value; p[10].Value = s.Readings;
                sample.ExecuteNonQuery();
            }
            using var ev = new NpgsqlCommand("INSERT INTO events VALUES (@a, @b, @c, @d, @e, @f, @g, @h, @i)", connection, transaction);
            var q = Enumerable.Range(0, 9).Select(i => ev.Parameters.Add(new NpgsqlParameter(((char)('a' + i)).ToString(), i is 2 or 3 ? NpgsqlDbType.Bigint : NpgsqlDbType.Text) { Value = DBNull.Value })).ToArray();
            foreach (var e in chunk.Events)
            {
                q[0].Value = chunk.Still; q[1].Value = e.BatchId; q[2].Value = e.Seq; q[3].Value = e.T; q[4].Value = e.Kind; q[5].Value = e.Code; q[6].Value = e.Phase;
                q[7].Value = e.Message; q[8].Value = (object?)e.Channel ?? DBNull.Value;
                ev.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        return watch.Elapsed;
    }

    private static TimeSpan RawPostgresCopy(string connectionString, List<ArchiveChunk> chunks)
    {
        using var connection = OpenPostgres(connectionString);
        var watch = Stopwatch.StartNew();
        foreach (var chunk in chunks)
        {
            using var transaction = connection.BeginTransaction();
            using (var writer = connection.BeginBinaryImport("COPY samples FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var s in chunk.Samples)
                {
                    writer.StartRow();
                    writer.Write(chunk.Still, NpgsqlDbType.Text); writer.Write(s.BatchId, NpgsqlDbType.Text); writer.Write(s.Seq, NpgsqlDbType.Bigint); writer.Write(s.T, NpgsqlDbType.Bigint);
                    writer.Write(s.Phase, NpgsqlDbType.Text); writer.Write((short)(s.Held ? 1 : 0), NpgsqlDbType.Smallint); writer.Write(s.Steam, NpgsqlDbType.Double);
                    writer.Write(s.Cooling, NpgsqlDbType.Double);
                    if (s.Receiver is null) writer.WriteNull(); else writer.Write(s.Receiver, NpgsqlDbType.Text);
                    if (s.Strength is { } strength) writer.Write(strength, NpgsqlDbType.Double); else writer.WriteNull();
                    writer.Write(s.Readings, NpgsqlDbType.Text);
                }
                writer.Complete();
            }
            using (var writer = connection.BeginBinaryImport("COPY events FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var e in chunk.Events)
                {
                    writer.StartRow();
                    writer.Write(chunk.Still, NpgsqlDbType.Text); writer.Write(e.BatchId, NpgsqlDbType.Text); writer.Write(e.Seq, NpgsqlDbType.Bigint); writer.Write(e.T, NpgsqlDbType.Bigint);
                    writer.Write(e.Kind, NpgsqlDbType.Text); writer.Write(e.Code, NpgsqlDbType.Text); writer.Write(e.Phase, NpgsqlDbType.Text); writer.Write(e.Message, NpgsqlDbType.Text);
                    if (e.Channel is null) writer.WriteNull(); else writer.Write(e.Channel, NpgsqlDbType.Text);
                }
                writer.Complete();
            }
            transaction.Commit();
        }
        return watch.Elapsed;
    }

    private static async Task<TimeSpan> EndToEnd(int port, string archive, List<(string Still, string Path)> journals, long rows)
    {
        var mqtt = new MqttOptions { Enabled = true, Host = "127.0.0.1", Port = port };
        var ingest = new ArchiveIngest(mqtt, archive, NullLogger<ArchiveIngest>.Instance);
        await ingest.StartAsync(CancellationToken.None);
        await ingest.Ready;
        var watch = Stopwatch.StartNew();
        var forwarders = new List<ArchiveForwarder>();
        foreach (var (still, path) in journals)
        {
            var forwarder = new ArchiveForwarder(new ArchiveOptions { Enabled = true, ChunkRows = ChunkRows, PollMilliseconds = 20 }, mqtt, _ => { }, path, "bench", still,
                NullLogger<ArchiveForwarder>.Instance);
            await forwarder.StartAsync(CancellationToken.None);
            forwarders.Add(forwarder);
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (DateTime.UtcNow < deadline)
        {
            using var store = ArchiveStore.Open(archive);
            var (samples, events) = store.Count();
            if (samples + events >= rows) break;
            await Task.Delay(20);
        }
        var elapsed = watch.Elapsed;
        foreach (var f in forwarders) await f.StopAsync(CancellationToken.None);
        await ingest.StopAsync(CancellationToken.None);
        return elapsed;
    }
}
