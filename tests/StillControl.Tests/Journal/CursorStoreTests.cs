using System.Text.Json;
using Microsoft.Data.Sqlite;
using StillControl.Cli;
using StillControl.History;
using StillControl.Telemetry;

namespace StillControl.Journal;

/// <summary>
/// Found by the soak: while the journal's disk was full, the MQTT link could not store its cursor, took that for a lost link and
/// sent the same rows again at every reconnect (327 copies of each in 20 s), and the history forwarder stopped for good.
/// </summary>
public class CursorStoreTests
{
    [Fact]
    public async Task A_cursor_that_cannot_be_stored_sends_nothing_twice_and_stops_no_forwarder()
    {
        using var broker = new Mosquitto();
        using var history = new VictoriaMetrics();
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        using var watcher = broker.Subscribe("stillcontrol/plant/still-1/telemetry", broker.AnonymousPort);
        using var still = StillControlProcess.Start(files.Folder, "simulate", "--verbose", "--speed", "50", "--mqtt", $"127.0.0.1:{broker.AnonymousPort}",
            "--influx", history.Url, "--journal", journal);
        int Distinct(List<(string Topic, bool Retained, string Payload)> m) => m.Select(x => Seq(x.Payload)).Distinct().Count();
        var before = Distinct(await watcher.WaitFor(m => m.Count > 100, TimeSpan.FromSeconds(60)));
        Assert.True(before > 100, "no telemetry before the cursor store was blocked");

        int released;
        // Another writer holds the cursors file (as a full disk or a read-only file refuses it): every store fails meanwhile.
        using (var blocker = new SqliteConnection($"Data Source={JournalReader.CursorPath(journal)};Pooling=False"))
        {
            blocker.Open();
            using (var begin = blocker.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                begin.ExecuteNonQuery();
            }
            // Each store waits out the busy timeout before it fails, so forwarding is slower meanwhile, but it goes on.
            var failed = await watcher.WaitFor(_ => still.Error.Contains("the mqtt cursor cannot be stored") && still.Error.Contains("the influx cursor cannot be stored"),
                TimeSpan.FromSeconds(90));
            Assert.True(still.Error.Contains("the influx cursor cannot be stored") && still.Error.Contains("the mqtt cursor cannot be stored"),
                $"no clear error from each forwarder about its cursor: {still.Error}");
            var blocked = await watcher.WaitFor(m => Distinct(m) > Distinct(failed) + 50, TimeSpan.FromSeconds(60));
            Assert.True(Distinct(blocked) > Distinct(failed) + 50, $"forwarding stopped while the cursor could not be stored: {still.Error}");
            released = Distinct(blocked);
            using var rollback = blocker.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }
        still.Terminate();
        Assert.Equal(0, await still.WaitAsync(TimeSpan.FromSeconds(60)));

        // What each forwarder stored last (a stop drains what it can; rows the loop wrote after that go at the next start).
        ForwarderCursor mqtt, influx;
        using (var reader = new JournalReader(journal))
        {
            mqtt = reader.LoadCursor(MqttLink.CursorName);
            influx = reader.LoadCursor(HistoryForwarder.CursorName);
        }
        Assert.True(mqtt.Samples >= released && influx.Samples >= released, $"forwarders did not store their cursors past the rows sent while they could not: {mqtt} {influx}, {released} on MQTT");
        // The broker never went away: every sample up to the cursor exactly once, none sent again.
        var telemetry = await watcher.WaitFor(m => Distinct(m) >= mqtt.Samples, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(1, (int)mqtt.Samples).Select(i => (long)i), telemetry.Select(m => Seq(m.Payload)).Order());
        // History went on after the failed stores: every sample up to its cursor is there.
        var points = await history.ExportAsync("stillcontrol_sample_steam_valve_percent");
        Assert.Equal(influx.Samples, points.Select(p => p.Timestamp).Distinct().Count());
        // One clear error per forwarder, not one per attempt.
        // One error in the log and one alarm in the journal per forwarder, not one per attempt.
        Assert.Equal(1, still.Error.Split("MQTT link: the mqtt cursor cannot be stored").Length - 1);
        Assert.Equal(1, still.Error.Split("alarm-raised: the mqtt cursor cannot be stored").Length - 1);
        Assert.Equal(1, still.Error.Split("History: the influx cursor cannot be stored").Length - 1);
        Assert.Equal(1, still.Error.Split("alarm-raised: the influx cursor cannot be stored").Length - 1);
        Assert.DoesNotContain("MQTT link lost", still.Error);
    }

    private static long Seq(string payload) => JsonDocument.Parse(payload).RootElement.GetProperty("seq").GetInt64();
}
