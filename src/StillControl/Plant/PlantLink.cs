using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using StillControl.Telemetry;

namespace StillControl.Plant;

/// <summary>
/// The plant's one MQTT connection: subscribes to every still under the topic root and hands each message to the
/// <see cref="StillRegistry"/>. Reconnects with backoff (1 s doubling to <c>Mqtt:ReconnectMaximumSeconds</c>, with jitter so
/// that a plant restarted next to a broker restart does not hammer it in step). Its client id is unique per process, so a
/// second plant service, or a test's, never takes this one's session over.
/// </summary>
public sealed partial class PlantLink : BackgroundService
{
    private readonly MqttOptions options;
    private readonly StillRegistry registry;
    private readonly ILogger<PlantLink> logger;
    private readonly IMqttClient client;
    private readonly string clientId = $"stillcontrol-plant-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
    private long lastRejected;

    public PlantLink(MqttOptions options, StillRegistry registry, ILogger<PlantLink> logger)
    {
        this.options = options;
        this.registry = registry;
        this.logger = logger;
        client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            var message = e.ApplicationMessage;
            registry.Receive(message.Topic, message.Payload.IsSingleSegment ? message.Payload.FirstSpan : System.Buffers.BuffersExtensions.ToArray(message.Payload), message.Retain);
            return Task.CompletedTask;
        };
    }

    public bool Connected => client.IsConnected;

    public string ClientId => clientId;

    public string? LastError { get; private set; }

    private string Broker => $"{options.Host ?? "127.0.0.1"}:{options.Port}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var backoff = TimeSpan.FromSeconds(1);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (!client.IsConnected)
                {
                    try
                    {
                        await ConnectAsync(stoppingToken);
                        backoff = TimeSpan.FromSeconds(1);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                    {
                        LastError = ex.Message;
                        var wait = backoff * (0.8 + Random.Shared.NextDouble() * 0.4);
                        LogConnectFailed(Broker, ex.Message, wait.TotalSeconds);
                        await Task.Delay(wait, stoppingToken);
                        backoff = TimeSpan.FromSeconds(Math.Min(backoff.TotalSeconds * 2, options.ReconnectMaximumSeconds));
                        continue;
                    }
                }
                if (registry.Rejected != lastRejected)
                {
                    lastRejected = registry.Rejected;
                    LogRejected(lastRejected, registry.LastRejection ?? "");
                }
                await Task.Delay(TimeSpan.FromMilliseconds(500), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (client.IsConnected)
            {
                try { await client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None); } catch (Exception) { }
            }
        }
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithClientId(clientId)
            .WithTcpServer(options.Host ?? "127.0.0.1", options.Port)
            .WithCleanSession(true)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15));
        builder.WithBrokerCredentials(options);
        var result = await client.ConnectAsync(builder.Build(), cancellationToken);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new InvalidOperationException($"broker refused the connection: {result.ResultCode} {result.ReasonString}".Trim());
        }
        var subscribed = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(registry.Filter, MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);
        foreach (var item in subscribed.Items)
        {
            if (item.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2)
            {
                throw new InvalidOperationException($"broker refused the subscription to {registry.Filter}: {item.ResultCode} (check the plant user's ACL: it reads {options.TopicRoot}/#)");
            }
        }
        LastError = null;
        LogConnected(Broker, registry.Filter, clientId);
    }

    public override void Dispose()
    {
        client.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Plant connected to MQTT broker {Broker}, watching {Filter} as {ClientId}")]
    private partial void LogConnected(string broker, string filter, string clientId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plant's MQTT connection to {Broker} failed: {Reason}; retrying in {Seconds:0.0} s")]
    private partial void LogConnectFailed(string broker, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} MQTT messages ignored so far; the last: {Reason}")]
    private partial void LogRejected(long count, string reason);
}

/// <summary>Checks every still for silence once a second.</summary>
public sealed class SilenceWatch(StillRegistry registry, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                registry.Tick();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
