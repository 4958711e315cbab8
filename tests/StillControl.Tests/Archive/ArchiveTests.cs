using System.Text.Json;
using StillControl.Cli;
using StillControl.Process;
using StillControl.Telemetry;

namespace StillControl.Archive;

/// <summary>One PostgreSQL server for the archive tests of a class (each test makes its own database on it).</summary>
public sealed class PostgresFixture : IDisposable
{
    public PostgresServer Server { get; } = new();

    public void Dispose() => Server.Dispose();
}

/// <summary>
/// The central batch archive end to end: simulated stills journal batches, their archive forwarders send them through a real
/// Mosquitto, the plant's ingest stores them in SQLite and in a real PostgreSQL, and the review verbs read them back.
/// </summary>
public sealed class ArchiveTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static DateTimeOffset Day(int daysAgo) =>
        new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-daysAgo).AddHours(6);

    [Fact]
    public async Task SqliteAndPostgresArchivesHoldTheSameBatchesAndReportThemAsTheJournalDoes()
    {
        using var broker = new Mosquitto();
        using var files = new TestFiles();
        // Two stills: still-a with two batches on two days, still-b with one.
        var journalA = files.PathOf("still-a.db");
        var journalB = files.PathOf("still-b.db");
        var a1 = await ArchiveRig.RunBatch(journalA, "still-a", Day(3), seed: 1);
        var a2 = await ArchiveRig.RunBatch(journalA, "still-a", Day(2), seed: 2);
        var b1 = await ArchiveRig.RunBatch(journalB, "still-b", Day(2), seed: 3);
        // The same journals a second time, for the second plant (each forwarder keeps its cursor beside its journal).
        foreach (var name in new[] { "still-a", "still-b" }) File.Copy(files.PathOf($"{name}.db"), files.PathOf($"{name}-copy.db"));

        var sqlite = files.PathOf("plant/archive.db");
        var pg = postgres.Server.NewDatabase();
        foreach (var (archive, suffix) in new[] { (sqlite, ""), (pg, "-copy") })
        {
            var ingest = await ArchiveRig.StartIngest(broker.AnonymousPort, archive);
            var forwarders = new[]
            {
                await ArchiveRig.StartForwarder(broker.AnonymousPort, files.PathOf($"still-a{suffix}.db"), "still-a"),
                await ArchiveRig.StartForwarder(broker.AnonymousPort, files.PathOf($"still-b{suffix}.db"), "still-b"),
            };
            try
            {
                await ArchiveRig.WaitUntil(() =>
                {
                    var a = ArchiveRig.Matches(archive, "still-a", journalA, out var da);
                    var b = ArchiveRig.Matches(archive, "still-b", journalB, out var db);
                    return (a && b, $"{da} {db}; plant: {ingest.Chunks} chunks, {ingest.Refused} refused, {ingest.LastError}; stills: "
                        + string.Join(", ", forwarders.Select(f => $"{f.Chunks} chunks, {f.LastError}")));
                }, TimeSpan.FromSeconds(120), $"every batch in {(archive == sqlite ? "SQLite" : "PostgreSQL")}");
            }
            finally
            {
                foreach (var f in forwarders) await f.StopAsync(CancellationToken.None);
                await ingest.StopAsync(CancellationToken.None);
            }
            Assert.Equal(0, ingest.Refused);
        }

        // batches --archive --json: every still's batches, each with its still and site, the same from both databases.
        var fromSqlite = await InProcess.Run("batches", "--archive", sqlite, "--json");
        var fromPostgres = await InProcess.Run("batches", "--archive", pg, "--json");
        Assert.True(fromSqlite.Exit == 0, fromSqlite.Error);
        Assert.True(fromPostgres.Exit == 0, fromPostgres.Error);
        Assert.Equal(fromSqlite.Output, fromPostgres.Output);
        var listed = JsonDocument.Parse(fromSqlite.Output).RootElement.EnumerateArray().ToList();
        Assert.Equal(3, listed.Count);
        Assert.Equal(new[] { (a1, "still-a"), (a2, "still-a"), (b1, "still-b") }.OrderBy(x => x.Item1),
            listed.Select(b => (b.GetProperty("id").GetString()!, b.GetProperty("still").GetString()!)).OrderBy(x => x.Item1));
        Assert.All(listed, b => Assert.Equal(ArchiveRig.Site, b.GetProperty("site").GetString()));
        Assert.All(listed, b => Assert.Equal("completed", b.GetProperty("outcome").GetString()));
        // The journal's own listing has no site key: a still's journal is one still.
        Assert.DoesNotContain("\"site\"", (await InProcess.Run("batches", "--journal", journalA, "--json")).Output);
        // --still filters across the archive.
        var onlyB = JsonDocument.Parse((await InProcess.Run("batches", "--archive", pg, "--still", "still-b", "--json")).Output).RootElement;
        Assert.Equal(b1, Assert.Single(onlyB.EnumerateArray()).GetProperty("id").GetString());

        // report --archive: the same report as from the still's journal, from either database.
        foreach (var (id, journal) in new[] { (a1, journalA), (a2, journalA), (b1, journalB) })
        {
            var fromJournal = await InProcess.Run("report", id, "--journal", journal, "--out", "-");
            Assert.True(fromJournal.Exit == 0, fromJournal.Error);
            foreach (var archive in new[] { sqlite, pg })
            {
                var fromArchive = await InProcess.Run("report", id, "--archive", archive, "--out", "-");
                Assert.True(fromArchive.Exit == 0, fromArchive.Error);
                Assert.Equal(ArchiveRig.Comparable(fromJournal.Output), ArchiveRig.Comparable(fromArchive.Output));
            }
            Assert.Contains("<svg", fromJournal.Output);
            foreach (var table in new[] { "samples", "events", "fractions" })
            {
                var exportJournal = await InProcess.Run("export", id, "--format", "csv", "--table", table, "--journal", journal);
                var exportArchive = await InProcess.Run("export", id, "--format", "csv", "--table", table, "--archive", pg);
                Assert.True(exportArchive.Exit == 0, exportArchive.Error);
                Assert.Equal(exportJournal.Output, exportArchive.Output);
            }
            var batchJournal = await InProcess.Run("batch", id, "--journal", journal, "--json");
            var batchArchive = await InProcess.Run("batch", id, "--archive", sqlite, "--json");
            Assert.Equal(batchJournal.Output, batchArchive.Output);
        }

        // compare across two stills, from the archive.
        var compare = await InProcess.Run("compare", a2, b1, "--archive", pg, "--json");
        Assert.True(compare.Exit == 0, compare.Error);
        Assert.Contains(a2, compare.Output);
        Assert.Contains(b1, compare.Output);
    }

    [Fact]
    public async Task AStillOfflineForAWeekCatchesUpAndEveryBatchArrivesOnce()
    {
        using var broker = new Mosquitto();
        using var files = new TestFiles();
        var journal = files.PathOf("still-w.db");
        var archive = postgres.Server.NewDatabase();
        var ids = new List<string>();
        // The plant is down for a week: the still runs its batches, its forwarder sends and is never confirmed.
        for (var day = 7; day >= 3; day -= 2)
        {
            ids.Add(await ArchiveRig.RunBatch(journal, "still-w", Day(day), seed: day, ArchiveRig.Archiving(broker.AnonymousPort, drainSeconds: 0)));
            Assert.Equal(default, ArchiveRig.Cursor(journal));
        }
        var backlog = ArchiveRig.JournalCounts(journal);
        Assert.Equal(3, backlog.Count);
        Assert.True(backlog.Values.Sum(c => c.Samples) > 10_000, "a week's backlog of samples");

        // The plant comes back; the still runs its next batch and, before it stops, has sent the whole week.
        var ingest = await ArchiveRig.StartIngest(broker.AnonymousPort, archive);
        try
        {
            ids.Add(await ArchiveRig.RunBatch(journal, "still-w", Day(1), seed: 1, ArchiveRig.Archiving(broker.AnonymousPort, drainSeconds: 120)));
            Assert.True(ArchiveRig.Matches(archive, "still-w", journal, out var difference), difference);
        }
        finally
        {
            await ingest.StopAsync(CancellationToken.None);
        }
        // Every batch once, every row once: what the plant added is exactly the journal's rows and headers.
        var counts = ArchiveRig.JournalCounts(journal);
        Assert.Equal(ids.Order(), counts.Keys.Order());
        using var store = ArchiveStore.Open(archive);
        Assert.Equal(ids.Order(), store.List(new Reports.BatchFilter()).Select(b => b.Id).Order());
        Assert.Equal(counts.Values.Sum(c => c.Samples + c.Events), store.List(new Reports.BatchFilter()).Sum(b => store.Count("still-w", b.Id).Samples + store.Count("still-w", b.Id).Events));
        Assert.NotEqual(default, ArchiveRig.Cursor(journal));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgresql")]
    public async Task ThePlantKilledMidUploadAndRestartedLosesNothingAndDoublesNothing(string database)
    {
        using var broker = new Mosquitto();
        using var files = new TestFiles();
        var journal = files.PathOf("still-k.db");
        for (var day = 3; day >= 1; day--) await ArchiveRig.RunBatch(journal, "still-k", Day(day), seed: 10 + day);
        var expected = ArchiveRig.JournalCounts(journal);
        var total = expected.Values.Sum(c => c.Samples + c.Events);
        var archive = database == "sqlite" ? files.PathOf("plant/archive.db") : postgres.Server.NewDatabase();
        var users = files.PathOf("users.json");
        new Web.UserStore(users).AddOrReplace("viewer", Web.Role.Viewer, "looks-at-tiles");
        string[] plantArgs = ["plant", "--mqtt", $"127.0.0.1:{broker.AnonymousPort}", "--archive", archive, "--panel", $"127.0.0.1:{FreePort.Next()}", "--users", users];

        // Small chunks, so the upload takes many round trips and the kill lands in the middle of it.
        var forwarder = new ArchiveForwarder(new ArchiveOptions { Enabled = true, ChunkRows = 200, AckTimeoutSeconds = 2, RetryMaximumSeconds = 1, PollMilliseconds = 50, DrainOnStopSeconds = 0 },
            new MqttOptions { Enabled = true, Host = "127.0.0.1", Port = broker.AnonymousPort }, _ => { }, journal, ArchiveRig.Site, "still-k",
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ArchiveForwarder>.Instance);
        await forwarder.StartAsync(CancellationToken.None);
        try
        {
            long atKill;
            using (var plant = StillControlProcess.Start(files.Folder, plantArgs))
            {
                await ArchiveRig.WaitUntil(() =>
                {
                    var held = Held(archive);
                    return (held > 0, $"nothing stored yet; plant: {plant.Error}");
                }, TimeSpan.FromSeconds(60), "the first chunks in the archive");
                plant.Process.Kill(); // SIGKILL, mid-upload
                await plant.WaitAsync(TimeSpan.FromSeconds(10));
                atKill = Held(archive);
            }
            Assert.True(atKill > 0 && atKill < total, $"the kill came mid-upload: {atKill} of {total} rows stored when it landed");

            // The still keeps sending what was not confirmed; the restarted plant takes it, and nothing twice.
            using (var again = StillControlProcess.Start(files.Folder, plantArgs))
            {
                await ArchiveRig.WaitUntil(() => (ArchiveRig.Matches(archive, "still-k", journal, out var difference), difference + " " + again.Error),
                    TimeSpan.FromSeconds(120), "every batch after the restart");
                again.Terminate();
                Assert.Equal(0, await again.WaitAsync(TimeSpan.FromSeconds(30)));
            }
        }
        finally
        {
            await forwarder.StopAsync(CancellationToken.None);
        }
        using var store = ArchiveStore.Open(archive);
        var listed = store.List(new Reports.BatchFilter());
        Assert.Equal(expected.Keys.Order(), listed.Select(b => b.Id).Order());
        foreach (var (id, counts) in expected) Assert.Equal(counts, store.Count("still-k", id));
        Assert.Equal(total, Held(archive));
    }

    /// <summary>Every sample and event row the archive holds, of any still.</summary>
    private static long Held(string archive)
    {
        using var store = ArchiveStore.Open(archive);
        var (samples, events) = store.Count();
        return samples + events;
    }

    [Fact]
    public async Task AChunkThePlantCannotReadIsRefusedWithItsReasonAndNothingIsStored()
    {
        using var broker = new Mosquitto();
        using var files = new TestFiles();
        var archive = files.PathOf("archive.db");
        var ingest = await ArchiveRig.StartIngest(broker.AnonymousPort, archive);
        try
        {
            using var acks = broker.Subscribe("stillcontrol/+/+/archive/ack", broker.AnonymousPort);
            // Not gzip at all: nobody to answer, nothing stored, the ingest carries on.
            Mosquitto.Publish(broker.AnonymousPort, "stillcontrol/works-1/still-x/archive/chunk", "hello");
            // A chunk with an id that names another still than its topic: refused, with the reason, to the sender's topic.
            var bad = new ArchiveChunk(ArchiveChunk.CurrentVersion, "chunk-1", "works-1", "still-y", [], [new ArchiveSample("still-y-20261101-060000", 1, 0, "loading", false, 0, 0, null, null, "{}")], []);
            var path = files.PathOf("bad.gz");
            File.WriteAllBytes(path, bad.Encode());
            PublishFile(broker.AnonymousPort, "stillcontrol/works-1/still-x/archive/chunk", path);
            var messages = await acks.WaitFor(m => m.Count >= 1, TimeSpan.FromSeconds(20));
            var (topic, _, payload) = Assert.Single(messages);
            Assert.Equal("stillcontrol/works-1/still-x/archive/ack", topic);
            var ack = JsonDocument.Parse(payload).RootElement;
            Assert.Equal("chunk-1", ack.GetProperty("chunk").GetString());
            Assert.False(ack.GetProperty("ok").GetBoolean());
            Assert.Contains("still-y", ack.GetProperty("error").GetString());
            Assert.Equal(2, ingest.Refused);
        }
        finally
        {
            await ingest.StopAsync(CancellationToken.None);
        }
        using var store = ArchiveStore.Open(archive);
        Assert.Empty(store.List(new Reports.BatchFilter()));
        Assert.Equal((0, 0), store.Count("still-y", "still-y-20261101-060000"));
    }

    private static void PublishFile(int port, string topic, string path)
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("mosquitto_pub",
            ["-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", topic, "-q", "1", "-f", path])
            { RedirectStandardError = true, UseShellExecute = false })!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, error);
    }

    [Theory]
    [InlineData("""{ "Mqtt": { "Enabled": false }, "Archive": { "Enabled": true } }""", "Archive:Enabled = true: needs Mqtt:Enabled = true")]
    [InlineData("""{ "Mqtt": { "Enabled": true, "Host": "127.0.0.1" }, "Archive": { "Enabled": true, "ChunkRows": 0 } }""", "Archive:ChunkRows = 0: 1 to 100000")]
    [InlineData("""{ "Archive": { "Enabled": true, "Chunks": 5 } }""", "unknown key 'Chunks' under Archive")]
    [InlineData("""{ "Archive": { "AckTimeoutSeconds": "soon" } }""", "Archive:AckTimeoutSeconds = \"soon\": a whole number")]
    public async Task ABadArchiveSettingStopsTheStillAtBootNamingIt(string config, string expected)
    {
        using var files = new TestFiles();
        var path = files.Write("config.json", config);
        var (exit, _, error) = await InProcess.Run("run", "--config", path, "--journal", files.PathOf("j.db"));
        Assert.Equal(2, exit);
        Assert.Contains(expected, error);
    }

    [Fact]
    public async Task AnArchiveThatCannotBeOpenedIsBadInputNamingIt()
    {
        using var files = new TestFiles();
        var missing = await InProcess.Run("batches", "--archive", files.PathOf("nowhere.db"));
        Assert.Equal(2, missing.Exit);
        Assert.Contains($"archive {files.PathOf("nowhere.db")}: no such file", missing.Error);
        var port = FreePort.Next();
        var down = await InProcess.Run("report", "x", "--archive", $"Host=127.0.0.1;Port={port};Username=plant;Password=secret-word;Database=a;Timeout=2");
        Assert.Equal(2, down.Exit);
        Assert.Contains($"PostgreSQL 127.0.0.1:{port}/a: cannot connect", down.Error);
        Assert.DoesNotContain("secret-word", down.Error);
        var both = await InProcess.Run("batches", "--archive", files.PathOf("a.db"), "--journal", files.PathOf("j.db"));
        Assert.Equal(2, both.Exit);
        Assert.Contains("--journal and --archive", both.Error);
        var notSqlite = files.Write("text.db", "this is not a database, just text long enough to be read as a header by sqlite......");
        var garbled = await InProcess.Run("batches", "--archive", notSqlite);
        Assert.Equal(2, garbled.Exit);
        Assert.Contains($"archive {notSqlite}", garbled.Error);
    }
}
