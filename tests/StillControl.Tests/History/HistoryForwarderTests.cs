using System.Text.Json;
using Microsoft.Data.Sqlite;
using StillControl.Cli;
using StillControl.Process;
using StillControl.Simulation;

namespace StillControl.History;

/// <summary>History through InfluxDB.Client into a real VictoriaMetrics, read back through its export API.</summary>
public class HistoryForwarderTests
{
    [Fact]
    public async Task Every_journal_sample_and_event_of_a_batch_lands_exactly_once()
    {
        using var history = new VictoriaMetrics();
        using var run = await Simulate.RunAsync(extra: ["--influx", history.Url]);
        Assert.Equal("completed", run.Outcome);
        await AssertJournalMatchesAsync(run.Journal, history);
    }

    [Fact]
    public async Task A_database_outage_mid_batch_and_a_kill_9_during_it_lose_and_duplicate_nothing()
    {
        using var history = new VictoriaMetrics();
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        using (var still = StillControlProcess.Start(files.Folder, "simulate", "--speed", "400", "--mqtt", "off", "--influx", history.Url, "--journal", journal))
        {
            await WaitForSamplesAsync(history, 1500);
            history.Stop();
            // The still runs on through the outage and is then killed outright while the database is still away.
            await Task.Delay(TimeSpan.FromSeconds(3));
            still.Process.Kill();
            await still.WaitAsync(TimeSpan.FromSeconds(20));
        }
        history.Start();
        // Resumed in accelerated real time, not at full speed: the forwarder sends the backlog while the batch runs on, as on a
        // Pi, instead of everything resting on the 10 s drain at stop (too short for a loaded CI machine with the whole day's
        // backlog behind a just-restarted database).
        var (exit, _, error) = await StillControlProcess.RunAsync(files.Folder, "simulate", "--resume", "--json", "--verbose", "--speed", "400", "--mqtt", "off", "--influx", history.Url, "--journal", journal);
        Assert.True(exit == 0, error);
        await AssertJournalMatchesAsync(journal, history, error);
    }

    [Fact]
    public async Task Broker_and_database_away_at_once_with_a_kill_9_in_the_outage_and_everything_arrives_afterwards()
    {
        using var history = new VictoriaMetrics();
        using var broker = new Telemetry.Mosquitto(persistent: true);
        using var watcher = broker.Subscribe("stillcontrol/plant/still-1/telemetry", broker.AnonymousPort, "-c");
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        string[] Args(params string[] more) => ["simulate", "--mqtt", $"127.0.0.1:{broker.AnonymousPort}", "--influx", history.Url, "--journal", journal, .. more];
        using (var still = StillControlProcess.Start(files.Folder, Args("--speed", "400")))
        {
            await WaitForSamplesAsync(history, 1500);
            history.Stop();
            broker.Stop(crash: false);
            await Task.Delay(TimeSpan.FromSeconds(3));
            still.Process.Kill();
            await still.WaitAsync(TimeSpan.FromSeconds(20));
        }
        history.Start();
        broker.Start();
        // Accelerated real time, as in the test above: both forwarders catch up while the batch runs on.
        var (exit, _, error) = await StillControlProcess.RunAsync(files.Folder, Args("--resume", "--json", "--verbose", "--speed", "400"));
        Assert.True(exit == 0, error);
        await AssertJournalMatchesAsync(journal, history, error);

        long samples;
        using (var connection = new SqliteConnection($"Data Source={journal};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM samples";
            samples = (long)command.ExecuteScalar()!;
        }
        static long Seq(string payload) => JsonDocument.Parse(payload).RootElement.GetProperty("seq").GetInt64();
        var received = await watcher.WaitFor(m => m.Select(x => Seq(x.Payload)).Distinct().Count() >= samples, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(1, (int)samples).Select(i => (long)i), received.Select(m => Seq(m.Payload)).Distinct().Order());
    }

    private static async Task WaitForSamplesAsync(VictoriaMetrics history, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if ((await history.ExportAsync("stillcontrol_sample_held")).Count >= count) return;
            await Task.Delay(200);
        }
        throw new TimeoutException($"fewer than {count} samples reached the database");
    }

    /// <summary>Per channel, one point per journal sample where the reading was good, at the sample's time; one point per event.</summary>
    private static async Task AssertJournalMatchesAsync(string journal, VictoriaMetrics history, string? serviceLog = null)
    {
        try
        {
            await CompareAsync(journal, history);
        }
        catch (Xunit.Sdk.XunitException e) when (serviceLog is not null)
        {
            throw new Xunit.Sdk.XunitException(e.Message + Environment.NewLine + "--- the resumed service's log ---" + Environment.NewLine + serviceLog);
        }
    }

    private static async Task CompareAsync(string journal, VictoriaMetrics history)
    {
        var rows = new List<(long T, string Readings)>();
        long events;
        using (var connection = new SqliteConnection($"Data Source={journal};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT t, readings FROM samples ORDER BY seq";
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read()) rows.Add((reader.GetInt64(0), reader.GetString(1)));
            }
            command.CommandText = "SELECT COUNT(*) FROM events";
            events = (long)command.ExecuteScalar()!;
        }

        var held = await history.ExportAsync("stillcontrol_sample_held");
        Assert.Equal(rows.Select(r => r.T).Order(), held.Select(p => p.Timestamp).Order());

        foreach (var channel in new[] { Channel.Vapour, Channel.Distillate, Channel.CoolingFlow, Channel.SteamPressure })
        {
            var expected = rows.Select(r => (r.T, Doc: JsonDocument.Parse(r.Readings).RootElement))
                .Where(r => r.Doc.TryGetProperty(channel.Name(), out var c) && c.TryGetProperty("value", out _))
                .Select(r => (r.T, r.Doc.GetProperty(channel.Name()).GetProperty("value").GetDouble()))
                .OrderBy(x => x.T).ToList();
            var actual = (await history.ExportAsync("stillcontrol_sample_" + LineProtocol.FieldName(channel)))
                .Select(p => (p.Timestamp, p.Value)).OrderBy(x => x.Timestamp).ToList();
            Assert.Equal(expected.Count, actual.Count);
            Assert.Equal(expected, actual);
        }

        var eventPoints = await history.ExportAsync("stillcontrol_event_seq");
        Assert.Equal(events, eventPoints.Count);
        Assert.Equal(Enumerable.Range(1, (int)events).Select(i => (double)i), eventPoints.Select(p => p.Value).Order());
        Assert.Contains(eventPoints, p => p.Labels["kind"] == "phase-changed" && p.Labels["code"] == "complete" && p.Labels["still"] == "still-1");
    }
}
