using System.Diagnostics;
using System.Text.Json;
using StillControl.Cli;
using StillControl.Journal;

namespace StillControl.Telemetry;

/// <summary>
/// Remote commands against a real Mosquitto and a running service: each message gets exactly one result and one audit event,
/// an id runs once however often it comes, a retained command never runs, and nothing a sender writes ends the link.
/// </summary>
public sealed class CommandDeliveryTests : IDisposable
{
    private const string CommandTopic = "stillcontrol/plant/still-1/command";
    private readonly Mosquitto broker = new();
    private readonly TestFiles files = new();

    private string Journal => files.PathOf("journal.db");

    private StillControlProcess StartService()
    {
        var config = files.Write("config.json", $$"""{ "Mqtt": { "Enabled": true, "Host": "127.0.0.1", "Port": {{broker.AnonymousPort}} } }""");
        var service = StillControlProcess.Start(files.Folder, "run", "--config", config, "--journal", Journal);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !(service.Error.Contains("idle → loading") && service.Error.Contains("MQTT connected"))) Thread.Sleep(100);
        Assert.Contains("MQTT connected", service.Error);
        return service;
    }

    private void Send(string payload, params string[] extra) => Mosquitto.Publish(broker.AnonymousPort, CommandTopic, payload, extra);

    /// <summary>Sends bytes as they are (not necessarily text), through a file.</summary>
    private void SendBytes(byte[] payload)
    {
        var path = files.PathOf($"payload-{Guid.NewGuid():N}");
        File.WriteAllBytes(path, payload);
        using var pub = System.Diagnostics.Process.Start(new ProcessStartInfo("mosquitto_pub", ["-h", "127.0.0.1", "-p", $"{broker.AnonymousPort}", "-t", CommandTopic, "-q", "1", "-f", path]) { UseShellExecute = false })!;
        pub.WaitForExit();
        Assert.Equal(0, pub.ExitCode);
    }

    private static List<JsonElement> Results(Mosquitto.Subscriber results) =>
        results.Messages.Select(m => JsonDocument.Parse(m.Payload).RootElement.Clone()).ToList();

    private static string? IdOf(JsonElement result) => result.GetProperty("id").ValueKind == JsonValueKind.Null ? null : result.GetProperty("id").GetString();

    private List<string> Audit()
    {
        using var journal = new BatchJournal(Journal, TimeProvider.System, TimeSpan.FromSeconds(1));
        return journal.Events(null).Where(e => e.Kind is "command-accepted" or "command-refused" && e.Message.Contains("mqtt")).Select(e => e.Message).ToList();
    }

    private static async Task Stop(StillControlProcess service)
    {
        service.Terminate();
        Assert.Equal(0, await service.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_retained_command_is_refused_with_a_result_and_never_runs()
    {
        // Left on the broker before the service ever connected: it would be handed over at every connect.
        Send("""{ "id": "r1", "command": "hold", "operator": "wang" }""", "-r");
        using var results = broker.Subscribe(CommandTopic + "/result", broker.AnonymousPort);
        using var service = StartService();
        var got = await results.WaitFor(m => m.Count >= 1, TimeSpan.FromSeconds(20));
        var result = Assert.Single(Results(results));
        Assert.Equal("r1", IdOf(result));
        Assert.False(result.GetProperty("accepted").GetBoolean());
        Assert.Contains("retained message refused", result.GetProperty("reason").GetString());
        // A live command afterwards still runs: the batch is held by it, not by the retained one.
        Send("""{ "id": "l1", "command": "hold", "operator": "wang" }""");
        await results.WaitFor(m => m.Count >= 2, TimeSpan.FromSeconds(20));
        Assert.True(Results(results).Single(r => IdOf(r) == "l1").GetProperty("accepted").GetBoolean());
        await Stop(service);
        var audit = Audit();
        Assert.Single(audit, m => m.Contains("id r1") && m.Contains("retained message refused"));
        Assert.Single(audit, m => m.Contains("hold by wang (mqtt, id l1)"));
        Assert.Equal(2, audit.Count);
    }

    [Fact]
    public async Task A_retained_command_published_while_the_service_is_connected_is_refused_and_never_runs()
    {
        using var results = broker.Subscribe(CommandTopic + "/result", broker.AnonymousPort);
        using var service = StartService();
        // Found by the soak: a broker hands a retained message to a subscription already in place as a live one (MQTT 3.1.1 clears
        // the retain flag), so the command ran once, and was refused only at the next reconnect.
        Send("""{ "id": "r2", "command": "hold", "operator": "wang" }""", "-r");
        await results.WaitFor(m => m.Count >= 1, TimeSpan.FromSeconds(20));
        var result = Assert.Single(Results(results));
        Assert.Equal("r2", IdOf(result));
        Assert.False(result.GetProperty("accepted").GetBoolean());
        Assert.Contains("retained message refused", result.GetProperty("reason").GetString());
        await Stop(service);
        var audit = Audit();
        Assert.DoesNotContain(audit, m => m.Contains("hold by wang"));
        Assert.Single(audit, m => m.Contains("id r2") && m.Contains("retained message refused"));
    }

    [Fact]
    public async Task The_same_id_twice_runs_once_and_both_deliveries_get_the_first_result_even_after_a_restart()
    {
        using var results = broker.Subscribe(CommandTopic + "/result", broker.AnonymousPort);
        using (var service = StartService())
        {
            Send("""{ "id": "d1", "command": "hold", "operator": "wang" }""");
            await results.WaitFor(m => m.Count >= 1, TimeSpan.FromSeconds(20));
            Send("""{ "id": "d1", "command": "hold", "operator": "wang" }""");
            await results.WaitFor(m => m.Count >= 2, TimeSpan.FromSeconds(20));
            await Stop(service);
        }
        using (var again = StartService())
        {
            // After a restart the batch comes back held (power loss); the same id still gets its first answer, not a new run.
            Send("""{ "id": "d1", "command": "hold", "operator": "wang" }""");
            await results.WaitFor(m => m.Count >= 3, TimeSpan.FromSeconds(20));
            await Stop(again);
        }
        var all = Results(results);
        Assert.Equal(3, all.Count);
        Assert.All(all, r => Assert.True(r.GetProperty("accepted").GetBoolean()));
        Assert.Single(all.Select(r => r.GetProperty("reason").GetString()).Distinct());
        var audit = Audit();
        Assert.Single(audit, m => m.Contains("hold by wang (mqtt, id d1)"));
        Assert.Equal(2, audit.Count(m => m.Contains("id d1 arrived again")));
    }

    [Fact]
    public async Task A_flood_of_commands_gets_one_result_and_one_audit_event_each_busy_included()
    {
        using var results = broker.Subscribe(CommandTopic + "/result", broker.AnonymousPort);
        using var service = StartService();
        const int count = 400;
        var lines = string.Join("\n", Enumerable.Range(0, count).Select(i => $$"""{ "id": "f{{i}}", "command": "ack", "operator": "wang" }"""));
        var path = files.Write("flood.txt", lines + "\n");
        // One publisher, one line a message, as fast as the broker takes them.
        using (var pub = System.Diagnostics.Process.Start(new ProcessStartInfo("mosquitto_pub", ["-h", "127.0.0.1", "-p", $"{broker.AnonymousPort}", "-t", CommandTopic, "-q", "1", "-l"])
               { UseShellExecute = false, RedirectStandardInput = true })!)
        {
            await pub.StandardInput.WriteAsync(File.ReadAllText(path));
            pub.StandardInput.Close();
            pub.WaitForExit();
        }
        await results.WaitFor(m => m.Count >= count, TimeSpan.FromSeconds(60));
        var all = Results(results);
        Assert.Equal(count, all.Count);
        Assert.Equal(count, all.Select(IdOf).Distinct().Count());
        await Stop(service);
        Assert.Equal(count, Audit().Count(m => m.Contains("id f")));
    }

    [Fact]
    public async Task Unreadable_bytes_and_lone_surrogates_are_refused_with_a_result_and_the_link_stays_up()
    {
        using var results = broker.Subscribe(CommandTopic + "/result", broker.AnonymousPort);
        using var service = StartService();
        Send("""{ "id": "u1", "command": "hold", "operator": "\ud800" }""");
        SendBytes([0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D]);
        Send("""{ "id": "u3", "command": "hold", "operator": "li" }""");
        await results.WaitFor(m => m.Count >= 3, TimeSpan.FromSeconds(20));
        var all = Results(results);
        Assert.Equal(3, all.Count);
        Assert.False(all[0].GetProperty("accepted").GetBoolean());
        Assert.False(all[1].GetProperty("accepted").GetBoolean());
        Assert.True(all.Single(r => IdOf(r) == "u3").GetProperty("accepted").GetBoolean());
        await Stop(service);
        // One connection for the whole run: nothing above tore the link down.
        Assert.Equal(1, service.Error.Split("MQTT connected").Length - 1);
        Assert.DoesNotContain("MQTT link lost", service.Error);
    }

    [Fact]
    public async Task A_payload_over_the_links_maximum_packet_size_never_reaches_it_and_the_link_stays_up()
    {
        using var results = broker.Subscribe(CommandTopic + "/result", broker.AnonymousPort);
        using var service = StartService();
        // 4 MiB: the link announced a maximum packet size (MQTT 5), so the broker drops this for it instead of making it read it.
        var huge = new byte[4 * 1024 * 1024];
        Array.Fill(huge, (byte)'x');
        SendBytes(huge);
        Send("""{ "id": "after-huge", "command": "hold", "operator": "li" }""");
        await results.WaitFor(m => m.Count >= 1, TimeSpan.FromSeconds(20));
        var result = Assert.Single(Results(results));
        Assert.Equal("after-huge", IdOf(result));
        Assert.True(result.GetProperty("accepted").GetBoolean());
        await Stop(service);
        Assert.Equal(1, service.Error.Split("MQTT connected").Length - 1);
        Assert.DoesNotContain("MQTT link lost", service.Error);
        // The only command audited is the one that arrived: the huge one was never read.
        Assert.Single(Audit());
    }

    public void Dispose()
    {
        broker.Dispose();
        files.Dispose();
    }
}
