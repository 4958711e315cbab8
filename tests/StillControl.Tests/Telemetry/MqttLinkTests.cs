using System.Text.Json;
using StillControl.Cli;
using StillControl.Journal;
using StillControl.Simulation;

namespace StillControl.Telemetry;

/// <summary>The MQTT link against a real Mosquitto, watched by an independent mosquitto_sub.</summary>
public class MqttLinkTests
{
    private const string Topics = "stillcontrol/plant/still-1/#";

    [Fact]
    public async Task A_simulated_batch_publishes_every_sample_and_event_once_in_order_with_availability()
    {
        using var broker = new Mosquitto();
        using var watcher = broker.Subscribe(Topics, broker.AnonymousPort);
        using var run = await Simulate.RunAsync(extra: ["--mqtt", $"127.0.0.1:{broker.AnonymousPort}"]);
        Assert.Equal("completed", run.Outcome);

        using var journal = new BatchJournal(run.Journal, TimeProvider.System, TimeSpan.FromSeconds(1));
        var batchId = run.Result.GetProperty("batchId").GetString()!;
        var expectedSamples = CountRows(run.Journal, "samples");
        var expectedEvents = journal.Events(null).Count;
        var messages = await watcher.WaitFor(m => m.Count(x => x.Topic.EndsWith("/telemetry")) >= expectedSamples && m.Any(x => x.Payload == "offline"), TimeSpan.FromSeconds(30));

        var telemetry = messages.Where(m => m.Topic.EndsWith("/telemetry")).Select(m => JsonDocument.Parse(m.Payload).RootElement).ToList();
        var sequences = telemetry.Select(t => t.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(expectedSamples, sequences.Distinct().Count());
        Assert.Equal(sequences.Order().ToList(), sequences);
        var hearts = telemetry.First(t => t.GetProperty("phase").GetString() == "hearts");
        Assert.Equal("°C", hearts.GetProperty("channels").GetProperty("vapour").GetProperty("unit").GetString());
        Assert.Equal("good", hearts.GetProperty("channels").GetProperty("vapour").GetProperty("quality").GetString());
        Assert.Equal(batchId, hearts.GetProperty("batchId").GetString());

        var events = messages.Where(m => m.Topic.EndsWith("/events")).Select(m => JsonDocument.Parse(m.Payload).RootElement).ToList();
        Assert.Equal(expectedEvents, events.Count);
        Assert.Equal(journal.Events(null).Select(e => e.Message), events.Select(e => e.GetProperty("message").GetString()));
        Assert.Contains(events, e => e.GetProperty("kind").GetString() == "phase-changed" && e.GetProperty("code").GetString() == "complete");

        var availability = messages.Where(m => m.Topic.EndsWith("/availability")).Select(m => m.Payload).ToList();
        Assert.Equal(["online", "offline"], availability);

        // A newcomer gets the retained availability and the last state at once.
        using var late = broker.Subscribe(Topics, broker.AnonymousPort);
        var retained = await late.WaitFor(m => m.Count(x => x.Retained) >= 2, TimeSpan.FromSeconds(5));
        Assert.Contains(retained, m => m.Retained && m.Topic.EndsWith("/availability") && m.Payload == "offline");
        var state = JsonDocument.Parse(retained.Single(m => m.Retained && m.Topic.EndsWith("/state")).Payload).RootElement;
        Assert.Equal("complete", state.GetProperty("phase").GetString());
    }

    [Fact]
    public async Task Remote_commands_each_get_one_result_and_an_audit_entry_and_only_allowed_ones_act()
    {
        using var broker = new Mosquitto();
        using var files = new TestFiles();
        var password = files.Write("mqtt-password", Mosquitto.StillPassword + "\n");
        var config = files.Write("config.json", $$"""
            { "Mqtt": { "Enabled": true, "Host": "127.0.0.1", "Port": {{broker.AuthenticatedPort}}, "Username": "{{Mosquitto.StillUser}}", "PasswordFile": "{{password}}" } }
            """);
        var journalPath = files.PathOf("journal.db");
        using var results = broker.Subscribe("stillcontrol/plant/still-1/command/result", broker.AuthenticatedPort, "-u", Mosquitto.ViewerUser, "-P", Mosquitto.ViewerPassword);
        using var service = StillControlProcess.Start(files.Folder, "run", "--config", config, "--journal", journalPath);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !(service.Error.Contains("idle → loading") && service.Error.Contains("MQTT connected"))) await Task.Delay(100);
        Assert.Contains("MQTT connected", service.Error);

        void Send(string payload, string user = Mosquitto.OperatorUser, string password = Mosquitto.OperatorPassword) =>
            Mosquitto.Publish(broker.AuthenticatedPort, "stillcontrol/plant/still-1/command", payload, "-u", user, "-P", password);
        Send("""{ "id": "c1", "command": "hold", "operator": "wang" }""");
        Send("""{ "id": "c2", "command": "start", "operator": "wang" }""");
        Send("""{ "id": "c3", "command": "ack", "operator": "wang" }""");
        Send("not json at all");
        Send("""{ "id": "c5", "command": "hold", "operator": "wang", "argument": "x", "pad": "x" }""");
        Send("""{ "id": 6, "command": "hold", "operator": "wang" }""");
        Send("{ \"id\": \"c7\", \"command\": \"hold\", \"operator\": \"wang\", \"argument\": \"" + new string('x', 3000) + "\" }");
        Send("""{ "id": "c8", "command": "abort", "operator": "mallory" }""", Mosquitto.ViewerUser, Mosquitto.ViewerPassword);

        var messages = await results.WaitFor(m => m.Count >= 7, TimeSpan.FromSeconds(20));
        await Task.Delay(1000);
        var byId = results.Messages.Select(m => JsonDocument.Parse(m.Payload).RootElement).ToList();
        JsonElement Result(string? id) => Assert.Single(byId, r => (r.GetProperty("id").ValueKind == JsonValueKind.Null ? null : r.GetProperty("id").GetString()) == id && id is not null);
        Assert.True(Result("c1").GetProperty("accepted").GetBoolean());
        Assert.Contains("held", Result("c1").GetProperty("reason").GetString());
        Assert.False(Result("c2").GetProperty("accepted").GetBoolean());
        Assert.Contains("not allowed remotely", Result("c2").GetProperty("reason").GetString());
        Assert.False(Result("c3").GetProperty("accepted").GetBoolean());
        Assert.Contains("no alarm", Result("c3").GetProperty("reason").GetString());
        Assert.Contains("unknown key \"pad\"", Result("c5").GetProperty("reason").GetString());
        Assert.Contains(byId, r => r.GetProperty("reason").GetString()!.StartsWith("not JSON"));
        Assert.Contains(byId, r => r.GetProperty("reason").GetString()!.Contains("\"id\" must be a string"));
        Assert.Contains(byId, r => r.GetProperty("reason").GetString()!.Contains("bytes refused"));
        Assert.DoesNotContain(byId, r => r.GetProperty("id").ValueKind == JsonValueKind.String && r.GetProperty("id").GetString() == "c8");
        Assert.Equal(7, byId.Count);

        service.Terminate();
        Assert.Equal(0, await service.WaitAsync(TimeSpan.FromSeconds(30)));
        using var journal = new BatchJournal(journalPath, TimeProvider.System, TimeSpan.FromSeconds(1));
        var audit = journal.Events(null).Where(e => e.Kind is "command-accepted" or "command-refused" && e.Message.Contains("mqtt")).Select(e => e.Message).ToList();
        Assert.Contains(audit, m => m.Contains("hold by wang (mqtt, id c1)"));
        Assert.Contains(audit, m => m.Contains("id c2") && m.Contains("not allowed remotely"));
        Assert.Equal(7, audit.Count);
        Assert.Single(journal.ListBatches(), b => b.Phase == "loading");
    }

    [Fact]
    public async Task A_wrong_password_is_reported_with_the_broker_reason_and_the_still_runs_on()
    {
        using var broker = new Mosquitto();
        using var files = new TestFiles();
        var config = files.Write("config.json", $$"""
            { "Mqtt": { "Enabled": true, "Host": "127.0.0.1", "Port": {{broker.AuthenticatedPort}}, "Username": "{{Mosquitto.StillUser}}", "Password": "wrong" } }
            """);
        using var service = StillControlProcess.Start(files.Folder, "run", "--config", config, "--journal", files.PathOf("journal.db"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !(service.Error.Contains("idle → loading") && service.Error.Contains("MQTT connection"))) await Task.Delay(100);
        Assert.Contains("idle → loading", service.Error);
        Assert.Matches("MQTT connection to 127.0.0.1 failed: .*(NotAuthorized|BadUserNameOrPassword)", service.Error);
        service.Terminate();
        Assert.Equal(0, await service.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task When_the_service_dies_the_broker_publishes_its_will_offline_retained()
    {
        using var broker = new Mosquitto();
        using var files = new TestFiles();
        var config = files.Write("config.json", $$"""{ "Mqtt": { "Enabled": true, "Host": "127.0.0.1", "Port": {{broker.AnonymousPort}} } }""");
        using var watcher = broker.Subscribe("stillcontrol/plant/still-1/availability", broker.AnonymousPort);
        using (var service = StillControlProcess.Start(files.Folder, "run", "--config", config, "--journal", files.PathOf("journal.db")))
        {
            var online = await watcher.WaitFor(m => m.Any(x => x.Payload == "online"), TimeSpan.FromSeconds(60));
            Assert.Contains(online, m => m.Payload == "online");
            service.Process.Kill(); // no clean stop: only the will can say offline
            await service.WaitAsync(TimeSpan.FromSeconds(20));
        }
        var messages = await watcher.WaitFor(m => m.Any(x => x.Payload == "offline"), TimeSpan.FromSeconds(30));
        Assert.Equal("offline", messages[^1].Payload);
        using var late = broker.Subscribe("stillcontrol/plant/still-1/availability", broker.AnonymousPort);
        var retained = await late.WaitFor(m => m.Count > 0, TimeSpan.FromSeconds(5));
        Assert.Equal(("stillcontrol/plant/still-1/availability", true, "offline"), Assert.Single(retained));
    }

    private static long CountRows(string journal, string table)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={journal};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }
}
