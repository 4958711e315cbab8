using System.Text.Json;
using StillControl.Cli;
using StillControl.Journal;

namespace StillControl.Telemetry;

public class MqttOutageTests
{
    [Fact]
    public async Task A_broker_outage_in_mid_batch_loses_nothing_and_the_backlog_arrives_in_order()
    {
        using var broker = new Mosquitto(persistent: true);
        using var files = new TestFiles();
        var journalPath = files.PathOf("journal.db");
        // A persistent session (-c) so the watcher, like a plant's historian, gets what was queued for it across the restart.
        using var watcher = broker.Subscribe("stillcontrol/plant/still-1/#", broker.AnonymousPort, "-c");
        using var still = StillControlProcess.Start(files.Folder, "simulate", "--verbose", "--speed", "400", "--mqtt", $"127.0.0.1:{broker.AnonymousPort}", "--journal", journalPath);

        await watcher.WaitFor(m => m.Count(x => x.Topic.EndsWith("/telemetry")) > 1500, TimeSpan.FromSeconds(60));
        broker.Stop(crash: false);
        await Task.Delay(TimeSpan.FromSeconds(4));
        broker.Start();

        Assert.Equal(0, await still.WaitAsync(TimeSpan.FromSeconds(120)));
        Assert.Matches("MQTT (link lost|connection to 127.0.0.1 failed)", still.Error);

        using var journal = new BatchJournal(journalPath, TimeProvider.System, TimeSpan.FromSeconds(1));
        var batch = Assert.Single(journal.ListBatches());
        Assert.Equal("completed", batch.Outcome);
        var expectedEvents = journal.Events(null);
        long expectedSamples;
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={journalPath};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM samples";
            expectedSamples = (long)command.ExecuteScalar()!;
        }

        var messages = await watcher.WaitFor(m => m.Where(x => x.Topic.EndsWith("/telemetry")).Select(x => Seq(x.Payload)).Distinct().Count() >= expectedSamples, TimeSpan.FromSeconds(30));
        var sampleSeqs = messages.Where(m => m.Topic.EndsWith("/telemetry")).Select(m => Seq(m.Payload)).ToList();
        Assert.Equal(Enumerable.Range(1, (int)expectedSamples).Select(i => (long)i), sampleSeqs.Distinct().Order());
        // First deliveries come oldest first; a redelivery after the reconnect repeats an identical message, never a different one.
        var firstSeen = sampleSeqs.Distinct().ToList();
        Assert.Equal(firstSeen.Order().ToList(), firstSeen);
        var payloads = messages.Where(m => m.Topic.EndsWith("/telemetry")).GroupBy(m => Seq(m.Payload));
        Assert.All(payloads, g => Assert.Single(g.Select(m => m.Payload).Distinct()));

        var events = messages.Where(m => m.Topic.EndsWith("/events")).Select(m => JsonDocument.Parse(m.Payload).RootElement)
            .DistinctBy(e => e.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(expectedEvents.Select(e => e.Sequence), events.Select(e => e.GetProperty("seq").GetInt64()));
        Assert.Equal(expectedEvents.Select(e => e.At), events.Select(e => e.GetProperty("at").GetDateTimeOffset()));
    }

    private static long Seq(string payload) => JsonDocument.Parse(payload).RootElement.GetProperty("seq").GetInt64();
}
