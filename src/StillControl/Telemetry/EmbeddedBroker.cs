using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet.Server;

namespace StillControl.Telemetry;

/// <summary>A broker inside the service, on loopback only, for a still with no plant broker configured.</summary>
public sealed partial class EmbeddedBroker(MqttOptions options, ILogger<EmbeddedBroker> logger) : IHostedService, IDisposable
{
    private MqttServer? server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var serverOptions = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.IPv6Loopback)
            .WithDefaultEndpointPort(options.EmbeddedPort)
            .Build();
        server = new MqttServerFactory().CreateMqttServer(serverOptions);
        server.ValidatingConnectionAsync += e =>
        {
            // MQTT 5 clients may leave the id to the server; 3.1.1 clients (mosquitto_sub) must bring their own: -i NAME.
            if (string.IsNullOrEmpty(e.ClientId))
            {
                e.AssignedClientIdentifier = "watcher-" + Guid.NewGuid().ToString("N")[..12];
            }
            return Task.CompletedTask;
        };
        try
        {
            await server.StartAsync();
            LogStarted(options.EmbeddedPort);
        }
        catch (Exception ex)
        {
            // Another broker (or another stillcontrol) listens there. Talking to it would publish this still on a broker nobody
            // configured and take commands from it: a clear start error instead, before the control loop starts.
            LogNotStarted(options.EmbeddedPort, ex.Message);
            server.Dispose();
            server = null;
            throw new MqttStartException(
                $"Mqtt:EmbeddedPort = {options.EmbeddedPort}: the embedded broker cannot listen on 127.0.0.1:{options.EmbeddedPort} ({ex.Message}); " +
                "another broker or stillcontrol holds the port. Accepted: a free port (Mqtt:EmbeddedPort, or simulate --mqtt embedded:PORT), " +
                "that broker named as Mqtt:Host (simulate --mqtt HOST[:PORT]), or MQTT off (Mqtt:Enabled false, simulate --mqtt off)", ex);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (server is not null) await server.StopAsync(new MqttServerStopOptions());
    }

    public void Dispose() => server?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded MQTT broker listening on 127.0.0.1:{Port} (no Mqtt:Host configured)")]
    private partial void LogStarted(int port);

    [LoggerMessage(Level = LogLevel.Error, Message = "Embedded MQTT broker could not listen on 127.0.0.1:{Port}: {Reason}")]
    private partial void LogNotStarted(int port, string reason);
}

/// <summary>The MQTT side cannot start as configured (the embedded broker's port is taken): a start error naming the key.</summary>
public sealed class MqttStartException(string message, Exception inner) : Exception(message, inner);
