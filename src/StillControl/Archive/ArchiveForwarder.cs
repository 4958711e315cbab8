using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Telemetry;

namespace StillControl.Archive;

/// <summary>
/// Sends the still's batch records to the plant's archive, journal-first: the journal's samples and events after the
/// forwarder's own persisted cursor (<c>archive</c> in <c>&lt;journal&gt;.cursors</c>), oldest first, with every batch header
/// that is new or has changed since the plant last confirmed it, as gzip-compressed chunks on
/// <c>{root}/{site}/{still}/archive/chunk</c>. One chunk is in flight at a time; the cursor moves only when the plant answers on
/// <c>…/archive/ack</c> that it has committed that chunk. A chunk that is not confirmed in time is sent again: the plant keys
/// every row by (still, batch, sequence), so a repeat changes nothing. A still offline for a week keeps its backlog in the
/// journal and catches up in large chunks when the plant is back.
/// </summary>
public sealed partial class ArchiveForwarder : BackgroundService
{
    public const string CursorName = "archive";
    private const int HeadersPerChunk = 100;

    private readonly ArchiveOptions options;
    private readonly MqttOptions mqtt;
    private readonly string journalPath;
    private readonly string site;
    private readonly string still;
    private readonly ILogger<ArchiveForwarder> logger;
    private readonly BacklogAlarm backlog;
    private readonly IMqttClient client;
    private readonly string clientId;
    private readonly string chunkTopic;
    private readonly string ackTopic;
    private readonly TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool draining;
    private TaskCompletionSource<ArchiveAck>? waiting;
    private string? waitingFor;

    public ArchiveForwarder(ArchiveOptions options, MqttOptions mqtt, Action<ControllerEvent> audit, string journalPath, string site, string still,
        ILogger<ArchiveForwarder> logger)
    {
        this.options = options;
        this.mqtt = mqtt;
        this.journalPath = journalPath;
        this.site = site;
        this.still = still;
        this.logger = logger;
        backlog = new BacklogAlarm("archive-backlog-over-limit", "the plant's archive", "Archive:BacklogAlarmRows", options.BacklogAlarmRows, audit);
        chunkTopic = ArchiveTopics.Chunk(mqtt.TopicRoot, site, still);
        ackTopic = ArchiveTopics.Ack(mqtt.TopicRoot, site, still);
        clientId = $"stillcontrol-archive-{site}-{still}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            if (e.ApplicationMessage.Topic != ackTopic) return Task.CompletedTask;
            try
            {
                var ack = JsonSerializer.Deserialize(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload), ArchiveJsonContext.Default.ArchiveAck);
                // An answer to an earlier copy of a chunk (sent again after a timeout) is not this chunk's: it is ignored.
                if (ack is not null && ack.Chunk == waitingFor) waiting?.TrySetResult(ack);
            }
            catch (JsonException)
            {
                // Not an acknowledgement this forwarder can read: the chunk times out and goes again.
            }
            return Task.CompletedTask;
        };
    }

    /// <summary>Rows the plant has confirmed since this forwarder started.</summary>
    public long Confirmed { get; private set; }

    /// <summary>Chunks confirmed since this forwarder started.</summary>
    public long Chunks { get; private set; }

    public string? LastError { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        JournalReader reader;
        HeaderLedger headers;
        while (true)
        {
            try
            {
                reader = new JournalReader(journalPath);
                try
                {
                    headers = new HeaderLedger(journalPath);
                }
                catch
                {
                    reader.Dispose();
                    throw;
                }
                break;
            }
            catch (SqliteException ex)
            {
                // The journal cannot be read now (being created, locked): say so and try again; the still runs on regardless.
                LastError = $"journal {journalPath}: {ex.Message}";
                LogFailed(journalPath, LastError);
                await Task.Delay(TimeSpan.FromSeconds(options.RetryMaximumSeconds), stoppingToken);
            }
        }
        using var journalReader = reader;
        using var ledger = headers;
        var cursor = reader.LoadCursor(CursorName);
        var backoff = TimeSpan.FromSeconds(1);
        var failing = false;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (!client.IsConnected)
                    {
                        await client.ConnectAsync(ArchiveMqtt.ClientOptions(mqtt, clientId), stoppingToken);
                        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(ackTopic, MqttQualityOfServiceLevel.AtLeastOnce).Build(), stoppingToken);
                    }
                    // Empty means drained only when read after the stop began (the loop's last rows are committed as it stops).
                    var drainingAtRead = draining;
                    var (chunk, next, changed) = Build(reader, headers, cursor);
                    if (chunk.Rows == 0)
                    {
                        // Rows of no batch (the still idle between batches) are passed over without a round trip.
                        if (next != cursor)
                        {
                            cursor = next;
                            headers.Save(cursor, []);
                        }
                        backlog.Check(reader, cursor);
                        if (drainingAtRead) drained.TrySetResult();
                        else if (draining) continue;
                        await Task.Delay(options.PollMilliseconds, stoppingToken);
                        continue;
                    }
                    var ack = await SendAsync(chunk, stoppingToken);
                    if (ack is null) throw new TimeoutException($"the plant did not confirm chunk {chunk.Id} within {options.AckTimeoutSeconds} s");
                    if (!ack.Ok) throw new InvalidOperationException($"the plant refused chunk {chunk.Id}: {ack.Error}");
                    cursor = next;
                    headers.Save(cursor, changed);
                    Confirmed += chunk.Rows;
                    Chunks++;
                    if (failing) LogRecovered(chunkTopic);
                    failing = false;
                    LastError = null;
                    backoff = TimeSpan.FromSeconds(1);
                    backlog.Check(reader, cursor);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // Nothing moved: the same rows go again once the broker and the plant answer.
                    LastError = ex.Message;
                    if (!failing) LogFailed(ArchiveMqtt.Describe(mqtt), ex.Message);
                    failing = true;
                    backlog.Check(reader, cursor);
                    if (ex is not TimeoutException && !client.IsConnected)
                    {
                        try { await client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None); } catch (Exception) { }
                    }
                    await Task.Delay(backoff, stoppingToken);
                    backoff = TimeSpan.FromSeconds(Math.Min(backoff.TotalSeconds * 2, options.RetryMaximumSeconds));
                }
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
            client.Dispose();
        }
    }

    private async Task<ArchiveAck?> SendAsync(ArchiveChunk chunk, CancellationToken stoppingToken)
    {
        var answer = new TaskCompletionSource<ArchiveAck>(TaskCreationOptions.RunContinuationsAsynchronously);
        waitingFor = chunk.Id;
        waiting = answer;
        try
        {
            var message = new MqttApplicationMessageBuilder().WithTopic(chunkTopic).WithPayload(chunk.Encode())
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithContentType("application/json+gzip").Build();
            var result = await client.PublishAsync(message, stoppingToken);
            if (!result.IsSuccess) throw new InvalidOperationException($"the broker refused the chunk: {result.ReasonCode} {result.ReasonString}".Trim());
            var timeout = Task.Delay(TimeSpan.FromSeconds(options.AckTimeoutSeconds), stoppingToken);
            var done = await Task.WhenAny(answer.Task, timeout);
            if (done != answer.Task)
            {
                await timeout; // throws when stopping
                return null;
            }
            return await answer.Task;
        }
        finally
        {
            waiting = null;
            waitingFor = null;
        }
    }

    /// <summary>The next chunk after <paramref name="after"/>, the cursor it moves to once confirmed, and the headers it carries.</summary>
    private (ArchiveChunk Chunk, ForwarderCursor Next, List<(string Id, string Fingerprint)> Headers) Build(JournalReader reader, HeaderLedger ledger, ForwarderCursor after)
    {
        var samples = reader.SamplesAfter(after.Samples, options.ChunkRows);
        var events = reader.EventsAfter(after.Events, options.ChunkRows);
        var changed = ledger.Changed(HeadersPerChunk);
        var chunk = new ArchiveChunk(ArchiveChunk.CurrentVersion, Guid.NewGuid().ToString("N"), site, still,
            changed.Select(c => c.Batch).ToList(),
            samples.Where(s => s.BatchId is not null).Select(s => new ArchiveSample(s.BatchId!, s.Sequence, s.At.ToUnixTimeMilliseconds(), s.Phase, s.Held,
                s.SteamPercent, s.CoolingPercent, s.Receiver, s.StrengthPercent, s.ReadingsJson)).ToList(),
            events.Where(e => e.BatchId is not null).Select(e => new ArchiveEvent(e.BatchId!, e.Sequence, e.At.ToUnixTimeMilliseconds(), e.Kind, e.Code, e.Phase,
                e.Message, e.Channel)).ToList());
        var next = new ForwarderCursor(samples.Count > 0 ? samples[^1].Sequence : after.Samples, events.Count > 0 ? events[^1].Sequence : after.Events);
        return (chunk, next, changed.Select(c => (c.Batch.Id, c.Fingerprint)).ToList());
    }

    /// <summary>On a clean stop the backlog is sent first, for up to <see cref="ArchiveOptions.DrainOnStopSeconds"/>.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        draining = true;
        if (ExecuteTask is not null)
        {
            await Task.WhenAny(drained.Task, Task.Delay(TimeSpan.FromSeconds(options.DrainOnStopSeconds), CancellationToken.None));
        }
        await base.StopAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Archive upload through {Broker} failed: {Reason}; the journal keeps the batch records and the chunk goes again")]
    private partial void LogFailed(string broker, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Archive uploads on {Topic} confirmed again; catching up oldest first")]
    private partial void LogRecovered(string topic);

    /// <summary>
    /// Which batch headers the plant has confirmed, as a fingerprint of what changes in a header (state time, phase, end,
    /// outcome, metadata), kept in the cursor file beside the forwarder's cursor and moved in the same transaction.
    /// </summary>
    private sealed class HeaderLedger : IDisposable
    {
        private readonly SqliteConnection journal;
        private readonly SqliteConnection cursors;
        private readonly Dictionary<string, string> confirmed = new(StringComparer.Ordinal);

        public HeaderLedger(string journalPath)
        {
            journal = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = journalPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            journal.Open();
            cursors = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = JournalReader.CursorPath(journalPath), Pooling = false }.ToString());
            cursors.Open();
            using (var setup = cursors.CreateCommand())
            {
                setup.CommandText = "PRAGMA busy_timeout=5000; CREATE TABLE IF NOT EXISTS archive_headers (batch_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL);";
                setup.ExecuteNonQuery();
            }
            using var command = cursors.CreateCommand();
            command.CommandText = "SELECT batch_id, fingerprint FROM archive_headers";
            using var reader = command.ExecuteReader();
            while (reader.Read()) confirmed[reader.GetString(0)] = reader.GetString(1);
        }

        /// <summary>Headers the plant does not have as they are now, oldest batch first.</summary>
        public List<(ArchiveBatch Batch, string Fingerprint)> Changed(int limit)
        {
            var metadata = HasMetadata() ? "metadata_json" : "NULL";
            using var command = journal.CreateCommand();
            command.CommandText = $"SELECT id, state_at, phase, ended_at, outcome, {metadata} FROM batches ORDER BY started_at, id";
            var wanted = new List<(string Id, string Fingerprint)>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    var fingerprint = string.Join('|', reader.IsDBNull(1) ? "" : reader.GetInt64(1).ToString(CultureInfo.InvariantCulture), reader.GetString(2),
                        reader.IsDBNull(3) ? "" : reader.GetInt64(3).ToString(CultureInfo.InvariantCulture), reader.IsDBNull(4) ? "" : reader.GetString(4),
                        reader.IsDBNull(5) ? "" : reader.GetString(5));
                    var id = reader.GetString(0);
                    if (!confirmed.TryGetValue(id, out var known) || known != fingerprint) wanted.Add((id, fingerprint));
                    if (wanted.Count >= limit) break;
                }
            }
            var result = new List<(ArchiveBatch, string)>();
            foreach (var (id, _) in wanted)
            {
                using var row = journal.CreateCommand();
                row.CommandText = $"SELECT id, started_at, ended_at, outcome, recipe_name, recipe_json, phase, state_json, state_at, {metadata} FROM batches WHERE id = $id";
                row.Parameters.AddWithValue("$id", id);
                using var reader = row.ExecuteReader();
                if (!reader.Read()) continue;
                var batch = new ArchiveBatch(reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetInt64(8),
                    reader.IsDBNull(9) ? null : reader.GetString(9));
                // The fingerprint of the row as read now (it may have moved on since the listing): what the plant will hold.
                var fingerprint = string.Join('|', batch.StateAt?.ToString(CultureInfo.InvariantCulture) ?? "", batch.Phase,
                    batch.EndedAt?.ToString(CultureInfo.InvariantCulture) ?? "", batch.Outcome ?? "", batch.MetadataJson ?? "");
                result.Add((batch, fingerprint));
            }
            return result;
        }

        private bool HasMetadata()
        {
            using var command = journal.CreateCommand();
            command.CommandText = "SELECT count(*) FROM pragma_table_info('batches') WHERE name = 'metadata_json'";
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
        }

        /// <summary>Moves the cursor and records the confirmed headers in one transaction.</summary>
        public void Save(ForwarderCursor cursor, List<(string Id, string Fingerprint)> headers)
        {
            using var transaction = cursors.BeginTransaction();
            using (var command = cursors.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = """
                    INSERT INTO cursors (forwarder, samples_seq, events_seq) VALUES ($f, $s, $e)
                    ON CONFLICT(forwarder) DO UPDATE SET samples_seq = excluded.samples_seq, events_seq = excluded.events_seq
                    """;
                command.Parameters.AddWithValue("$f", CursorName);
                command.Parameters.AddWithValue("$s", cursor.Samples);
                command.Parameters.AddWithValue("$e", cursor.Events);
                command.ExecuteNonQuery();
            }
            foreach (var (id, fingerprint) in headers)
            {
                using var command = cursors.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT INTO archive_headers (batch_id, fingerprint) VALUES ($b, $f) ON CONFLICT(batch_id) DO UPDATE SET fingerprint = excluded.fingerprint";
                command.Parameters.AddWithValue("$b", id);
                command.Parameters.AddWithValue("$f", fingerprint);
                command.ExecuteNonQuery();
            }
            transaction.Commit();
            foreach (var (id, fingerprint) in headers) confirmed[id] = fingerprint;
        }

        public void Dispose()
        {
            journal.Dispose();
            cursors.Dispose();
        }
    }
}
