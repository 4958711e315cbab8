using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using StillControl.Telemetry;

namespace StillControl.Archive;

/// <summary>
/// The plant's side of the archive: takes every still's chunks from the broker (<c>{root}/+/+/archive/chunk</c>), stores each
/// in one transaction, and only then answers the still on its <c>…/archive/ack</c> topic. Chunks are stored one at a time in
/// arrival order. A chunk that cannot be read is answered with the reason (the still logs it and tries again later); one that
/// cannot be stored (the database is away) is not answered, so the still sends it again. Killed at any point, the plant loses
/// nothing: what was not committed was not confirmed.
/// </summary>
public sealed partial class ArchiveIngest : BackgroundService
{
    private readonly MqttOptions mqtt;
    private readonly string archive;
    private readonly ILogger<ArchiveIngest> logger;
    private readonly IMqttClient client;
    private readonly string clientId = $"stillcontrol-plant-archive-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
    private readonly Channel<MqttApplicationMessage> incoming = Channel.CreateBounded<MqttApplicationMessage>(
        new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    /// <param name="archive">A file path (SQLite) or a PostgreSQL connection string, as <c>--archive</c> takes it.</param>
    public ArchiveIngest(MqttOptions mqtt, string archive, ILogger<ArchiveIngest> logger)
    {
        this.mqtt = mqtt;
        this.archive = archive;
        this.logger = logger;
        client = new MqttClientFactory().CreateMqttClient();
        // The broker waits for this handler before it sends the next message (QoS 1 back-pressure): a slow database slows the
        // stills' uploads instead of filling memory.
        client.ApplicationMessageReceivedAsync += async e => await incoming.Writer.WriteAsync(e.ApplicationMessage);
    }

    /// <summary>Chunks committed since start.</summary>
    public long Chunks { get; private set; }

    /// <summary>Rows that were new to the archive since start (repeats are not counted).</summary>
    public long RowsAdded { get; private set; }

    public long Refused { get; private set; }

    public string? LastError { get; private set; }

    /// <summary>Set once the store is open and the subscription is in place.</summary>
    public Task Ready => ready.Task;

    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        ArchiveStore? store = null;
        var backoff = TimeSpan.FromSeconds(1);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    store ??= ArchiveStore.Open(archive);
                    if (!client.IsConnected)
                    {
                        await client.ConnectAsync(ArchiveMqtt.ClientOptions(mqtt, clientId), stoppingToken);
                        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                            .WithTopicFilter(ArchiveTopics.AllChunks(mqtt.TopicRoot), MqttQualityOfServiceLevel.AtLeastOnce).Build(), stoppingToken);
                        LogListening(ArchiveMqtt.Describe(mqtt), store.Description);
                        backoff = TimeSpan.FromSeconds(1);
                    }
                    ready.TrySetResult();
                    using var tick = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    tick.CancelAfter(TimeSpan.FromSeconds(1));
                    MqttApplicationMessage message;
                    try
                    {
                        message = await incoming.Reader.ReadAsync(tick.Token);
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                        continue; // look at the connection again
                    }
                    await HandleAsync(store, message, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LastError = ex.Message;
                    LogFailed(ex.Message, backoff.TotalSeconds);
                    if (ex is not ArchiveUnavailableException && store is not null)
                    {
                        // The database may have gone away under the connection: open it afresh.
                        store.Dispose();
                        store = null;
                    }
                    await Task.Delay(backoff, stoppingToken);
                    backoff = TimeSpan.FromSeconds(Math.Min(backoff.TotalSeconds * 2, 30));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            store?.Dispose();
            if (client.IsConnected)
            {
                try { await client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None); } catch (Exception) { }
            }
            client.Dispose();
        }
    }

    private async Task HandleAsync(ArchiveStore store, MqttApplicationMessage message, CancellationToken stoppingToken)
    {
        if (ArchiveTopics.Parse(mqtt.TopicRoot, message.Topic) is not { } from) return;
        ArchiveChunk chunk;
        try
        {
            chunk = ArchiveChunk.Decode(System.Buffers.BuffersExtensions.ToArray(message.Payload));
            if (chunk.Site != from.Site || chunk.Still != from.Still)
            {
                throw new InvalidDataException($"names still {chunk.Site}/{chunk.Still} but came on {from.Site}/{from.Still}'s topic");
            }
        }
        catch (InvalidDataException ex)
        {
            Refused++;
            LogRefused(message.Topic, ex.Message);
            var id = TryId(message);
            if (id is not null) await AnswerAsync(from, new ArchiveAck(id, false, ex.Message, 0), stoppingToken);
            return;
        }
        // Stored first, answered after: the still moves its cursor only for what is committed here.
        var added = store.Ingest(chunk);
        Chunks++;
        RowsAdded += added;
        await AnswerAsync(from, new ArchiveAck(chunk.Id, true, null, chunk.Rows), stoppingToken);
    }

    /// <summary>The chunk id of a chunk that failed its checks, when the JSON got that far; otherwise there is no one to answer.</summary>
    private static string? TryId(MqttApplicationMessage message)
    {
        try
        {
            var payload = System.Buffers.BuffersExtensions.ToArray(message.Payload);
            using var input = new MemoryStream(payload);
            using var gzip = new System.IO.Compression.GZipStream(input, System.IO.Compression.CompressionMode.Decompress);
            using var document = JsonDocument.Parse(gzip);
            return document.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or IOException)
        {
            return null;
        }
    }

    private Task AnswerAsync((string Site, string Still) to, ArchiveAck ack, CancellationToken cancellationToken) =>
        client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(ArchiveTopics.Ack(mqtt.TopicRoot, to.Site, to.Still))
            .WithPayload(JsonSerializer.SerializeToUtf8Bytes(ack, ArchiveJsonContext.Default.ArchiveAck))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Archive: taking stills' batch records from {Broker} into {Archive}")]
    private partial void LogListening(string broker, string archive);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Archive: {Reason}; trying again in {Seconds} s (stills keep their chunks until confirmed)")]
    private partial void LogFailed(string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Archive: refused a chunk on {Topic}: {Reason}")]
    private partial void LogRefused(string topic, string reason);
}
