using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using StillControl.Cli;
using StillControl.Journal;

namespace StillControl.Telemetry;

/// <summary>
/// Every command id the service received ends with exactly one result, however the service stops: a kill -9 between running a
/// command and storing its result, a kill while commands wait, a clean stop with commands still queued. A real Mosquitto and
/// the program as a process; the program's test hooks hold it at the exact point, so the kill lands there every time.
/// </summary>
public sealed class CommandStopTests : IDisposable
{
    private const string CommandTopic = "stillcontrol/plant/still-1/command";
    private readonly Mosquitto broker = new();
    private readonly TestFiles files = new();

    private string Journal => files.PathOf("journal.db");

    private StillControlProcess StartService(Dictionary<string, string>? hooks = null)
    {
        var config = files.Write("config.json", $$"""{ "Mqtt": { "Enabled": true, "Host": "127.0.0.1", "Port": {{broker.AnonymousPort}} } }""");
        var service = StillControlProcess.StartWith(hooks ?? [], files.Folder, "run", "--config", config, "--journal", Journal);
        WaitFor(() => service.Error.Contains("MQTT connected") && service.Error.Contains("Control loop started"), TimeSpan.FromSeconds(60), () => service.Error);
        return service;
    }

    private static void WaitFor(Func<bool> condition, TimeSpan timeout, Func<string> explain)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !condition()) Thread.Sleep(50);
        Assert.True(condition(), explain());
    }

    private void Send(string payload) => Mosquitto.Publish(broker.AnonymousPort, CommandTopic, payload);

    private void Flood(IEnumerable<string> ids)
    {
        var lines = string.Join("\n", ids.Select(id => $$"""{ "id": "{{id}}", "command": "ack", "operator": "wang" }""")) + "\n";
        using var pub = System.Diagnostics.Process.Start(new ProcessStartInfo("mosquitto_pub", ["-h", "127.0.0.1", "-p", $"{broker.AnonymousPort}", "-t", CommandTopic, "-q", "1", "-l"])
        { UseShellExecute = false, RedirectStandardInput = true })!;
        pub.StandardInput.Write(lines);
        pub.StandardInput.Close();
        pub.WaitForExit();
        Assert.Equal(0, pub.ExitCode);
    }

    private static List<JsonElement> Results(Mosquitto.Subscriber results) =>
        results.Messages.Select(m => JsonDocument.Parse(m.Payload).RootElement.Clone()).ToList();

    private static string? IdOf(JsonElement result) => result.GetProperty("id").ValueKind == JsonValueKind.Null ? null : result.GetProperty("id").GetString();

    /// <summary>The journal's command audit events from MQTT, read beside a running service (read-only).</summary>
    private List<string> Audit()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Journal, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT message FROM events WHERE kind IN ('command-accepted', 'command-refused') AND message LIKE '%mqtt%' ORDER BY seq";
        using var reader = command.ExecuteReader();
        var messages = new List<string>();
        while (reader.Read()) messages.Add(reader.GetString(0));
        return messages;
    }

    /// <summary>Ids the service has written down as received and not yet answered.</summary>
    private List<string> Owed()
    {
        using var ledger = new CommandLedger(Journal);
        return ledger.Unanswered().Select(u => u.Id).ToList();
    }

    private static void KillHard(StillControlProcess service)
    {
        service.Process.Kill(entireProcessTree: true);
        service.Process.WaitForExit();
    }

    private static async Task Stop(StillControlProcess service)
    {
        service.Terminate();
        Assert.Equal(0, await service.WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task A_kill_between_running_a_command_and_storing_its_result_gives_it_interrupted_and_one_still_waiting_not_run_after_the_restart()
    {
        using var results = broker.Subscribe(CommandTopic + "/result", broker.AnonymousPort);
        using (var service = StartService(new() { ["STILLCONTROLTEST_HOLD_BEFORE_RESULT"] = "k1" }))
        {
            Send("""{ "id": "k1", "command": "hold", "operator": "wang" }""");
            // The loop ran it and answered; the link holds before storing the result. Its audit event reaches the journal's disk.
            WaitFor(() => service.Error.Contains("test hook: holding: command k1 answered by the control loop"), TimeSpan.FromSeconds(30), () => service.Error);
            WaitFor(() => Audit().Any(m => m.Contains("hold by wang (mqtt, id k1)")), TimeSpan.FromSeconds(30), () => string.Join("\n", Audit()));
            // A second command arrives while the link is held: received (acknowledged to the broker), never handed to the loop.
            Send("""{ "id": "k2", "command": "ack", "operator": "wang" }""");
            WaitFor(() => Owed().Contains("k2"), TimeSpan.FromSeconds(30), () => string.Join(", ", Owed()));
            KillHard(service);
        }
        Assert.Empty(results.Messages);
        Assert.Equal(["k1", "k2"], Owed());

        using (var again = StartService())
        {
            // The next start answers both before it takes any command: k1 may have run (it did), k2 never reached the loop.
            var got = await results.WaitFor(m => m.Count >= 2, TimeSpan.FromSeconds(30));
            var first = Results(results);
            Assert.Equal(["k1", "k2"], first.Select(IdOf).ToList());
            Assert.False(first[0].GetProperty("accepted").GetBoolean());
            Assert.Equal("interrupted: the service stopped before this command's result was stored; it may or may not have run; check the batch events",
                first[0].GetProperty("reason").GetString());
            Assert.False(first[1].GetProperty("accepted").GetBoolean());
            Assert.StartsWith("not run: the service stopped", first[1].GetProperty("reason").GetString());
            Assert.Equal("hold", first[0].GetProperty("command").GetString());
            Assert.Equal("ack", first[1].GetProperty("command").GetString());

            // Sent again, neither runs: each gets the result it was given, byte for byte.
            Send("""{ "id": "k1", "command": "hold", "operator": "wang" }""");
            Send("""{ "id": "k2", "command": "ack", "operator": "wang" }""");
            await results.WaitFor(m => m.Count >= 4, TimeSpan.FromSeconds(30));
            var payloads = results.Messages.Select(m => m.Payload).ToList();
            Assert.Equal(payloads[0], payloads[2]);
            Assert.Equal(payloads[1], payloads[3]);
            await Stop(again);
        }
        Assert.Equal(4, results.Messages.Count);
        Assert.Empty(Owed());
        var audit = Audit();
        // k1 ran once, before the kill, and never again; each delivery has its audit event.
        Assert.Single(audit, m => m.Contains("(mqtt, id k1)"));
        Assert.Single(audit, m => m.StartsWith("remote command id k1 interrupted (mqtt)", StringComparison.Ordinal));
        Assert.Single(audit, m => m.Contains("id k1 arrived again"));
        Assert.DoesNotContain(audit, m => m.Contains("(mqtt, id k2)"));
        Assert.Single(audit, m => m.StartsWith("remote command id k2 refused (mqtt): not run: the service stopped", StringComparison.Ordinal));
        Assert.Single(audit, m => m.Contains("id k2 arrived again"));
    }

    [Fact]
    public async Task Commands_still_queued_at_a_clean_stop_are_answered_not_run_before_the_link_closes()
    {
        using var results = broker.Subscribe(CommandTopic + "/result", broker.AnonymousPort);
        using var service = StartService(new() { ["STILLCONTROLTEST_HOLD_COMMANDS_UNTIL_STOP"] = "1" });
        const int count = 100;
        Flood(Enumerable.Range(0, count).Select(i => $"q{i}"));
        // The queue holds 64 for the loop (here held until the stop); the rest are answered busy at once.
        await results.WaitFor(m => m.Count >= count - 64, TimeSpan.FromSeconds(30));
        Assert.Equal(count - 64, results.Messages.Count);
        await Stop(service);
        // Everything was published before the link closed: nothing more comes, and nothing is owed to the next start.
        var all = Results(results);
        Assert.Equal(count, all.Count);
        Assert.Equal(count, all.Select(IdOf).Distinct().Count());
        Assert.Equal(64, all.Count(r => r.GetProperty("reason").GetString() == "not run: the service stopped"));
        Assert.Equal(count - 64, all.Count(r => r.GetProperty("reason").GetString()!.StartsWith("busy", StringComparison.Ordinal)));
        Assert.All(all, r => Assert.False(r.GetProperty("accepted").GetBoolean()));
        Assert.Empty(Owed());
        var audit = Audit();
        Assert.Equal(count, audit.Count(m => m.Contains("id q")));
        Assert.Equal(64, audit.Count(m => m.Contains("refused (mqtt): not run: the service stopped")));
        Assert.DoesNotContain(audit, m => m.Contains("ack by wang"));
    }

    [Fact]
    public async Task A_flood_cut_by_a_clean_stop_leaves_every_received_id_exactly_one_result()
    {
        using var results = broker.Subscribe(CommandTopic + "/result", broker.AnonymousPort);
        using var service = StartService();
        const int count = 400;
        Flood(Enumerable.Range(0, count).Select(i => $"s{i}"));
        // As soon as the first answers come back, the stop: wherever it lands, no id is left without its one result.
        await results.WaitFor(m => m.Count >= 1, TimeSpan.FromSeconds(30));
        await Stop(service);
        var all = Results(results);
        var ids = all.Select(IdOf).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Empty(Owed());
        var audit = Audit();
        // Each id with a result has exactly one audit event and each audited id one result: the journal and the wire agree.
        var audited = audit.Select(m => System.Text.RegularExpressions.Regex.Match(m, @"id (s\d+)")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(audited.Count, audited.Distinct().Count());
        Assert.Equal(ids.Order(StringComparer.Ordinal), audited.Order(StringComparer.Ordinal));
    }

    public void Dispose()
    {
        broker.Dispose();
        files.Dispose();
    }
}
