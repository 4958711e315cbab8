using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using StillControl.Cli;

namespace StillControl.Telemetry;

public class EmbeddedBrokerTests
{
    [Fact]
    public async Task With_no_broker_configured_the_service_hosts_one_on_loopback_that_mosquitto_sub_can_watch()
    {
        using var files = new TestFiles();
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var config = files.Write("config.json", $$"""{ "Mqtt": { "Enabled": true, "EmbeddedPort": {{port}} }, "Still": { "Site": "north", "Name": "zeng-3" } }""");
        using var service = StillControlProcess.Start(files.Folder, "run", "--config", config, "--journal", files.PathOf("journal.db"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !service.Error.Contains("MQTT connected")) await Task.Delay(100);
        Assert.Contains($"Embedded MQTT broker listening on 127.0.0.1:{port}", service.Error);

        using var watcher = new Mosquitto.Subscriber("stillcontrol/north/zeng-3/#", port, []);
        var messages = await watcher.WaitFor(m => m.Any(x => x.Topic.EndsWith("/telemetry")) && m.Any(x => x.Topic.EndsWith("/state")), TimeSpan.FromSeconds(20));
        Assert.Contains(messages, m => m.Topic == "stillcontrol/north/zeng-3/availability" && m.Retained && m.Payload == "online");
        var telemetry = JsonDocument.Parse(messages.Last(m => m.Topic.EndsWith("/telemetry")).Payload).RootElement;
        Assert.True(telemetry.GetProperty("channels").TryGetProperty("cooling-flow", out var flow));
        Assert.Equal("L/min", flow.GetProperty("unit").GetString());

        service.Terminate();
        Assert.Equal(0, await service.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(watcher.Messages, m => m.Topic.EndsWith("/availability") && m.Payload == "offline");
    }
}
