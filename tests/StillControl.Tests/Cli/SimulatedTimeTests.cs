using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using MQTTnet;
using StillControl.Hosting;
using StillControl.Telemetry;

namespace StillControl.Cli;

/// <summary>Simulated time never runs ahead of the wall clock in anything a simulation writes or publishes.</summary>
public class SimulatedTimeTests
{
    private static Task<(int Exit, string Output, string Error)> Run(params string[] args) => InProcess.Run(args);

    /// <summary>Every time the journal holds, in unix milliseconds, by table.</summary>
    private static Dictionary<string, long?> LatestTimes(string journal)
    {
        using var connection = new SqliteConnection($"Data Source={journal};Mode=ReadOnly;Pooling=False");
        connection.Open();
        var latest = new Dictionary<string, long?>();
        foreach (var (name, sql) in new[]
        {
            ("samples", "SELECT max(t) FROM samples"), ("events", "SELECT max(t) FROM events"), ("checkpoints", "SELECT max(t) FROM checkpoints"),
            ("batch start", "SELECT max(started_at) FROM batches"), ("batch end", "SELECT max(ended_at) FROM batches"), ("batch state", "SELECT max(state_at) FROM batches"),
        })
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            latest[name] = command.ExecuteScalar() is long t ? t : null;
        }
        return latest;
    }

    [Fact]
    public async Task Flat_out_no_journal_row_or_MQTT_message_is_later_than_the_wall_clock_and_the_batch_ends_by_now()
    {
        using var broker = new Mosquitto();
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");

        // A listener like Home Assistant: every message with the wall time it arrived at.
        var received = new ConcurrentQueue<(DateTimeOffset At, string Topic, string Payload)>();
        using var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            received.Enqueue((DateTimeOffset.UtcNow, e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString()));
            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.AnonymousPort).Build());
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("stillcontrol/#").Build());

        var simulation = Task.Run(() => Run("simulate", "--speed", "max", "--mqtt", $"127.0.0.1:{broker.AnonymousPort}", "--journal", journal));
        // While it runs: whatever the journal holds when read was written before the read ended, so it may not be later.
        var readsWithRows = 0;
        while (!simulation.IsCompleted)
        {
            if (File.Exists(journal))
            {
                try
                {
                    var latest = LatestTimes(journal);
                    var wall = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                    foreach (var (table, t) in latest)
                    {
                        Assert.True(t is null || t <= wall, $"{table}: {DateTimeOffset.FromUnixTimeMilliseconds(t ?? 0):O} read at {DateTimeOffset.FromUnixTimeMilliseconds(wall):O}");
                    }
                    if (latest["samples"] is not null) readsWithRows++;
                }
                catch (SqliteException)
                {
                    // The writer may be creating the schema.
                }
            }
            await Task.Delay(20);
        }
        var (exit, output, error) = await simulation;
        Assert.True(exit == 0, error);
        Assert.Contains("Placing the batch", output);
        Assert.True(readsWithRows > 0, "the journal was read while the batch ran");

        var now = DateTimeOffset.UtcNow;
        var final = LatestTimes(journal);
        foreach (var (table, t) in final) Assert.True(t is null || t <= now.ToUnixTimeMilliseconds(), $"{table} after the run");
        var started = DateTimeOffset.FromUnixTimeMilliseconds(final["batch start"]!.Value);
        var ended = DateTimeOffset.FromUnixTimeMilliseconds(final["batch end"]!.Value);
        // Placed so that it ends by now, close to now: within the placement margin plus what the run and this test took.
        Assert.InRange(ended, now - CommandLine.PlacementMargin - TimeSpan.FromMinutes(10), now);
        Assert.True(ended - started > TimeSpan.FromHours(1), $"a whole batch, {ended - started}");

        // Every journal row carries its time on the wire ("at"): none may be later than the moment it arrived.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && !received.Any(m => m.Payload.Contains(ended.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)))
        {
            await Task.Delay(50);
        }
        var stamped = 0;
        foreach (var (arrived, topic, payload) in received)
        {
            if (!payload.StartsWith('{')) continue;
            using var document = JsonDocument.Parse(payload);
            if (!document.RootElement.TryGetProperty("at", out var at) || at.ValueKind != JsonValueKind.String) continue;
            Assert.True(at.GetDateTimeOffset() <= arrived, $"{topic} stamped {at.GetString()} arrived at {arrived:O}");
            stamped++;
        }
        Assert.True(stamped > 1000, $"{stamped} stamped messages");
        await client.DisconnectAsync();
    }

    [Fact]
    public async Task A_start_the_user_gives_is_honoured_and_a_start_in_the_future_is_refused()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        var now = DateTimeOffset.UtcNow;
        var start = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero) - TimeSpan.FromHours(7);
        var text = start.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var (exit, output, error) = await Run("simulate", "--start", text, "--mqtt", "off", "--json", "--journal", journal);
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("Placing the batch", error);
        var result = JsonDocument.Parse(output).RootElement;
        // The batch starts on the first control steps after the given time (its id is its start, to the second).
        Assert.StartsWith($"still-1-{start:yyyyMMdd-HHmm}", result.GetProperty("batchId").GetString());
        var times = LatestTimes(journal);
        var started = DateTimeOffset.FromUnixTimeMilliseconds(times["batch start"]!.Value);
        Assert.InRange(started, start, start + TimeSpan.FromMinutes(1));
        Assert.True(times["samples"] <= DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        var future = (DateTimeOffset.UtcNow + TimeSpan.FromHours(1)).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var refused = await Run("simulate", "--start", future, "--mqtt", "off", "--journal", files.PathOf("future.db"));
        Assert.Equal(2, refused.Exit);
        Assert.Contains($"--start = '{future}'", refused.Error);
        Assert.Contains("in the future", refused.Error);
        refused = await Run("simulate", "--start", "yesterday", "--mqtt", "off", "--journal", files.PathOf("garbled.db"));
        Assert.Equal(2, refused.Exit);
        Assert.Contains("--start = 'yesterday': an ISO 8601 time", refused.Error);
        refused = await Run("simulate", "--start", text, "--resume", "--journal", journal);
        Assert.Equal(2, refused.Exit);
        Assert.Contains("--start is for a new batch", refused.Error);
        Assert.False(File.Exists(files.PathOf("future.db")), "nothing was opened for a refused start");
    }

    [Fact]
    public async Task A_flat_out_pacer_that_reaches_the_wall_clock_waits_for_it()
    {
        var wall = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero));
        var clock = new SimulationClock(wall.GetUtcNow() - TimeSpan.FromSeconds(1));
        var period = TimeSpan.FromMilliseconds(250);
        var pacer = new MaximumSpeedPacer(clock, period, wall);
        // One second of headroom: four steps run at once.
        for (var i = 0; i < 4; i++) Assert.True(await pacer.WaitForNextStepAsync(CancellationToken.None));
        Assert.Equal(wall.GetUtcNow(), clock.GetUtcNow());
        // The fifth would pass the wall clock: it waits until the wall clock has moved on a period.
        var fifth = pacer.WaitForNextStepAsync(CancellationToken.None).AsTask();
        wall.Advance(TimeSpan.FromMilliseconds(100));
        Assert.False(fifth.IsCompleted);
        wall.Advance(TimeSpan.FromMilliseconds(150));
        Assert.True(await fifth.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(clock.GetUtcNow() <= wall.GetUtcNow());

        // Cancelled while waiting: the loop ends, the clock stays behind.
        using var cancel = new CancellationTokenSource();
        var sixth = pacer.WaitForNextStepAsync(cancel.Token).AsTask();
        cancel.Cancel();
        Assert.False(await sixth.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(clock.GetUtcNow() <= wall.GetUtcNow());
    }

    [Fact]
    public void The_placement_ends_the_batch_by_now_at_any_speed()
    {
        var now = new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero);
        var span = TimeSpan.FromMinutes(119.5);
        foreach (var speed in new double?[] { null, 1.5, 60, 400, 20_000 })
        {
            var start = CommandLine.Placement(now, span, speed);
            // Simulated time start + speed·w against wall time now + w, for every w up to the batch's end.
            var wallDuration = speed is { } x ? span / x : TimeSpan.Zero;
            for (var f = 0.0; f <= 1.0; f += 0.125)
            {
                var w = wallDuration * f;
                var simulated = start + (speed is { } s ? w * s : span * f);
                Assert.True(simulated <= now + w, $"speed {speed}: {simulated:O} at wall {now + w:O}");
            }
            var end = start + span;
            Assert.InRange(end, now + wallDuration - CommandLine.PlacementMargin - TimeSpan.FromSeconds(1), now + wallDuration);
        }
    }
}
