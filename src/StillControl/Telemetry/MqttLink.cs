using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using StillControl.Hosting;
using StillControl.Journal;
using StillControl.Process;

namespace StillControl.Telemetry;

/// <summary>
/// The one owner of the MQTT connection (MQTTnet 5 has no managed client): connects with a will (availability offline,
/// retained), reconnects with backoff, forwards the journal's samples and events after its persisted cursor oldest first,
/// publishes the live state when it changes and every few seconds, and takes remote commands. It runs on its own task and
/// only reads the journal, so a slow or absent broker never delays the control loop.
/// </summary>
public sealed partial class MqttLink : BackgroundService
{
    public const string CursorName = "mqtt";
    private const int BatchRows = 200;

    private readonly MqttOptions options;
    private readonly ControlCycle cycle;
    private readonly string journalPath;
    private readonly StillTopics topics;
    private readonly string clientId;
    private readonly string site;
    private readonly string still;
    private readonly ILogger<MqttLink> logger;
    private readonly IMqttClient client;
    /// <summary>Commands waiting for the loop. A command arriving while it is full is not dropped: it gets a "busy" result.</summary>
    private readonly System.Threading.Channels.Channel<Arrival> incoming = System.Threading.Channels.Channel.CreateBounded<Arrival>(
        new System.Threading.Channels.BoundedChannelOptions(IncomingCapacity) { FullMode = System.Threading.Channels.BoundedChannelFullMode.Wait });
    private const int IncomingCapacity = 64;
    /// <summary>Commands refused as busy on arrival (the queue was full), answered from the link's own loop.</summary>
    private readonly System.Collections.Concurrent.ConcurrentQueue<Arrival> busy = new();
    /// <summary>A command message as it arrived, read once: the command, its id (if one could be read) or why it is refused.</summary>
    private sealed record Arrival(bool Retained, OperatorCommand? Command, string? Id, string? Refusal);
    /// <summary>Every command id from arrival to published result, so each gets exactly one result across a kill (null until the link runs).</summary>
    private volatile CommandLedger? ledger;
    /// <summary>Ids the service before this one left unanswered, with the results given to them at start: published once connected.</summary>
    private List<UnansweredCommand> recovered = [];
    /// <summary>Commands handed to the control loop whose results are not yet published, in arrival order (kept across a lost link and for the stop).</summary>
    private readonly List<(string? Id, string Command, Task<CommandResult> Result, bool Repeat)> round = [];
    /// <summary>Set at a clean stop once the command topic is unsubscribed: our own state coming back says every command sent before it has arrived.</summary>
    private volatile TaskCompletionSource? stateEcho;

    /// <summary>The result of a command still waiting when the service stops cleanly: it never reached the control loop.</summary>
    public const string NotRunReason = ControlCycle.NotRunReason;

    /// <summary>The result of a command that went to the control loop before a kill, whose result was never stored.</summary>
    public const string InterruptedReason = "interrupted: the service stopped before this command's result was stored; it may or may not have run; check the batch events";

    // Test hooks (the integration tests' only way to stop the program at an exact point; never set in service): hold the link
    // before it hands command ID to the loop, or after the loop answered it and before the result is stored, until killed; or
    // let commands wait in the queue until the stop.
    private static readonly string? HoldBeforeSubmit = Environment.GetEnvironmentVariable("STILLCONTROLTEST_HOLD_BEFORE_SUBMIT");
    private static readonly string? HoldBeforeResult = Environment.GetEnvironmentVariable("STILLCONTROLTEST_HOLD_BEFORE_RESULT");
    private static readonly bool HoldCommandsUntilStop = Environment.GetEnvironmentVariable("STILLCONTROLTEST_HOLD_COMMANDS_UNTIL_STOP") == "1";
    /// <summary>How long a command id is remembered with its result: longer than any reconnect or restart.</summary>
    private static readonly TimeSpan CommandIdsKept = TimeSpan.FromDays(7);
    private readonly ArrayBufferWriter<byte> buffer = new(4096);
    private readonly TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool draining;
    private LiveState? lastState;
    private bool discoveryRefused;
    private readonly BacklogAlarm backlog;
    private DateTimeOffset lastStateAt;
    private readonly DuplicateStillWatch presence;

    /// <summary>
    /// The largest packet the broker may hand this client (MQTT 5 Maximum Packet Size): commands are at most Mqtt:MaximumCommandBytes (64 KiB at most) and the
    /// state a few more; a broker drops anything larger for this client instead of making it read megabytes.
    /// </summary>
    public const uint MaximumIncomingPacketBytes = 128 * 1024;

    /// <summary>True while another service publishes live on this still's state topic (alarm <c>duplicate-still</c>).</summary>
    public bool DuplicateDetected => presence.Raised;

    public MqttLink(MqttOptions options, ControlCycle cycle, string journalPath, string site, string still, ILogger<MqttLink> logger)
    {
        this.options = options;
        this.cycle = cycle;
        this.journalPath = journalPath;
        this.logger = logger;
        topics = new StillTopics(options.TopicRoot, site, still);
        this.site = site;
        this.still = still;
        // Unique per process: a second service under the same still name must not take this one's session over (and the
        // broker's takeover storm that follows); the still is named in the topics, not in the client id.
        clientId = $"stillcontrol-{site}-{still}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        backlog = new BacklogAlarm("mqtt-backlog-over-limit", "the MQTT broker", "Mqtt:BacklogAlarmRows", options.BacklogAlarmRows, cycle.Audit);
        client = new MqttClientFactory().CreateMqttClient();
        presence = new DuplicateStillWatch(clientId, $"{site}/{still}", TimeSpan.FromSeconds(Math.Max(30, 3 * options.StatePeriodSeconds)), cycle.Audit);
        client.ApplicationMessageReceivedAsync += e =>
        {
            if (e.ApplicationMessage.Topic == topics.State)
            {
                if (stateEcho is { } echo && !e.ApplicationMessage.Retain && IsOwnState(e.ApplicationMessage.Payload)) echo.TrySetResult();
                // Our own state topic: another service publishing here live is a second service for this still.
                presence.Seen(e.ApplicationMessage.Payload, e.ApplicationMessage.Retain, DateTimeOffset.UtcNow);
                return Task.CompletedTask;
            }
            var arrival = Arrive(e.ApplicationMessage);
            if (!incoming.Writer.TryWrite(arrival)) busy.Enqueue(arrival);
            return Task.CompletedTask;
        };
    }

    public StillTopics Topics => topics;

    /// <summary>
    /// Reads a command message and, if it has an id, writes the id down as received before returning: MQTTnet acknowledges the
    /// message to the broker after this, so an acknowledged id is always owed a result, even by the next service after a kill.
    /// </summary>
    private Arrival Arrive(MqttApplicationMessage message)
    {
        var (command, id, refusal) = RemoteCommand.Parse(message.Payload.ToArray(), options);
        if (id is not null && ledger is { } book)
        {
            try
            {
                book.Received(id, command?.Kind.Name() ?? "(unreadable)", DateTimeOffset.UtcNow);
            }
            catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or ObjectDisposedException or InvalidOperationException)
            {
                // Not written down: it is still answered by this process; only a kill before its answer would leave it without one.
                LogCommandIdNotKept(id, ex.Message);
            }
        }
        return new Arrival(message.Retain, command, id, refusal);
    }

    /// <summary>A state message this link published (its "instance" is our client id).</summary>
    private bool IsOwnState(ReadOnlySequence<byte> payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("instance", out var instance)
                && instance.ValueKind == JsonValueKind.String && instance.GetString() == clientId;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public bool Connected => client.IsConnected;

    /// <summary>The broker's or the network's last complaint, for status displays and tests.</summary>
    public string? LastError { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        using var reader = new JournalReader(journalPath);
        using var book = OpenLedger();
        if (book is not null) Recover(book);
        ledger = book;
        var stored = new StoredCursor(reader, CursorName, journalPath, cycle.Audit, LogCursorNotStored);
        var cursor = stored.Load();
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
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LastError = ex.Message;
                        backlog.Check(reader, cursor);
                        LogConnectFailed(options.Host ?? "127.0.0.1", ex.Message, backoff.TotalSeconds);
                        await Task.Delay(backoff, stoppingToken);
                        backoff = TimeSpan.FromSeconds(Math.Min(backoff.TotalSeconds * 2, options.ReconnectMaximumSeconds));
                        continue;
                    }
                }
                try
                {
                    // Nothing to send means drained only when read after the stop began (the loop's last rows are committed as it stops).
                    var drainingAtRead = draining;
                    var busy = await ForwardAsync(reader, stored, cursor, stoppingToken);
                    cursor = busy.Cursor;
                    backlog.Check(reader, cursor);
                    await CommandsAsync(stopping: false, stoppingToken);
                    await StateAsync(stoppingToken);
                    presence.Check(DateTimeOffset.UtcNow);
                    if (!busy.Sent)
                    {
                        if (drainingAtRead) drained.TrySetResult();
                        else if (draining) continue;
                        await Task.Delay(100, stoppingToken);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Whatever was not acknowledged stays behind the cursor and goes again after reconnecting.
                    LastError = ex.Message;
                    LogLinkLost(ex.Message);
                    try { await client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None); } catch (Exception) { }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await AnswerBeforeClosingAsync();
            if (client.IsConnected)
            {
                // A clean stop says offline itself; the will message covers a crash or a lost network.
                try
                {
                    await PublishAsync(topics.Availability, "offline"u8.ToArray(), retain: true, CancellationToken.None);
                    await client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None);
                }
                catch (Exception ex)
                {
                    LogLinkLost(ex.Message);
                }
            }
            ledger = null;
        }
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithClientId(clientId)
            // MQTT 5 for "retain as published" on the command subscription: with 3.1.1 the broker clears the retain flag of a
            // retained message it hands to a subscription already in place, and the link could not tell it from a live command.
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithTcpServer(options.Host ?? "127.0.0.1", options.Host is null ? options.EmbeddedPort : options.Port)
            .WithCleanSession(true) // a command queued while the still was unreachable must not run later
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15))
            .WithMaximumPacketSize(MaximumIncomingPacketBytes)
            .WithWillTopic(topics.Availability)
            .WithWillPayload("offline")
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        builder.WithBrokerCredentials(options);
        var result = await client.ConnectAsync(builder.Build(), cancellationToken);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new InvalidOperationException($"broker refused the connection: {result.ResultCode} {result.ReasonString}".Trim());
        }
        LastError = null;
        await PublishAsync(topics.Availability, "online"u8.ToArray(), retain: true, cancellationToken);
        // Retain as published on the command topic: a retained command keeps its retain flag whenever it arrives, so it is refused
        // and never runs. Our own state (as the broker gives it): to notice a second service publishing under the same still name.
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(new MqttTopicFilterBuilder().WithTopic(topics.Command).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainAsPublished(true).Build())
            .WithTopicFilter(topics.State, MqttQualityOfServiceLevel.AtMostOnce)
            .Build(), cancellationToken);
        if (options.HomeAssistantDiscovery && !discoveryRefused)
        {
            try
            {
                foreach (var (topic, payload) in HomeAssistantDiscovery.Messages(topics, site, still, cycle.ConfiguredChannels, options.RemoteCommands))
                {
                    await PublishAsync(topic, payload, retain: true, cancellationToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A broker whose ACL forbids homeassistant/ drops the connection: say so once and carry on without discovery.
                discoveryRefused = true;
                LogDiscoveryRefused(HomeAssistantDiscovery.Prefix, ex.Message);
                throw;
            }
        }
        lastState = null;
        LogConnected(options.Host ?? $"embedded broker on 127.0.0.1:{options.EmbeddedPort}", topics.Base);
    }

    /// <summary>
    /// Publishes the journal's rows after the cursor with up to <see cref="MqttOptions.MaxInFlight"/> QoS 1 messages awaiting their PUBACK,
    /// instead of one round trip per row: over a Wi-Fi link with 50 ms round trips one at a time would be 20 rows a second,
    /// and a day's backlog would take over an hour. MQTTnet queues sends in call order, so rows still leave in sequence;
    /// the cursor moves only over rows whose acknowledgement has come back, oldest first.
    /// </summary>
    private async Task<(bool Sent, ForwarderCursor Cursor)> ForwardAsync(JournalReader reader, StoredCursor stored, ForwarderCursor cursor, CancellationToken cancellationToken)
    {
        var pending = new Queue<(Task Ack, long Sequence, bool IsEvent)>(options.MaxInFlight);
        var start = cursor;
        try
        {
            foreach (var e in reader.EventsAfter(cursor.Events, BatchRows))
            {
                if (pending.Count >= options.MaxInFlight) cursor = await Acknowledged(pending, cursor);
                pending.Enqueue((PublishAsync(topics.Events, EventJson(e), retain: false, cancellationToken), e.Sequence, true));
            }
            foreach (var sample in reader.SamplesAfter(cursor.Samples, BatchRows))
            {
                if (pending.Count >= options.MaxInFlight) cursor = await Acknowledged(pending, cursor);
                pending.Enqueue((PublishAsync(topics.Telemetry, SampleJson(sample), retain: false, cancellationToken), sample.Sequence, false));
            }
            while (pending.Count > 0) cursor = await Acknowledged(pending, cursor);
        }
        catch
        {
            // Let the rest finish or fail before the link is torn down, so no acknowledgement task is left unobserved.
            foreach (var (ack, _, _) in pending)
            {
                try { await ack; } catch (Exception) { }
            }
            throw;
        }
        var sent = cursor != start;
        if (sent)
        {
            stored.Save(cursor);
        }
        return (sent, cursor);
    }

    private static async Task<ForwarderCursor> Acknowledged(Queue<(Task Ack, long Sequence, bool IsEvent)> pending, ForwarderCursor cursor)
    {
        var (ack, sequence, isEvent) = pending.Dequeue();
        await ack;
        return isEvent ? cursor with { Events = sequence } : cursor with { Samples = sequence };
    }

    private async Task StateAsync(CancellationToken cancellationToken)
    {
        var state = cycle.Live;
        var now = DateTimeOffset.UtcNow;
        if (lastState is not null && state.SameAs(lastState) && now - lastStateAt < TimeSpan.FromSeconds(options.StatePeriodSeconds))
        {
            return;
        }
        // The state names the process that publishes it ("instance"), so a second service under this still's name is seen.
        var node = JsonSerializer.SerializeToNode(state, TelemetryJsonContext.Default.LiveState)!.AsObject();
        node["instance"] = clientId;
        await PublishAsync(topics.State, System.Text.Encoding.UTF8.GetBytes(node.ToJsonString()), retain: true, cancellationToken);
        lastState = state;
        lastStateAt = now;
    }

    /// <summary>
    /// Every command message gets exactly one result and one audit event: run (once per id, ever), replayed (an id seen before
    /// gets its first result back and runs no second time), or refused with a reason (retained, unreadable, not allowed,
    /// busy, or, at a stop, not run). Nothing a sender puts in a message ends the link. Every id is in the
    /// <see cref="CommandLedger"/> from arrival to published result, so a kill leaves nothing unanswered: see <see cref="Recover"/>.
    /// </summary>
    private async Task CommandsAsync(bool stopping, CancellationToken cancellationToken)
    {
        if (recovered.Count > 0) await PublishRecoveredAsync(cancellationToken);
        // Results of an earlier round whose publishing a lost link cut short go first, in their order.
        await AnswerRoundAsync(cancellationToken);
        while (busy.TryDequeue(out var overflow))
        {
            await RefuseAsync(overflow.Id, overflow.Command, $"busy: {IncomingCapacity} commands are already waiting for the control loop; send it again later", cancellationToken);
        }
        if (HoldCommandsUntilStop && !stopping) return;
        // Everything waiting goes to the loop at once (it takes every queued command in its next step), then the answers go out
        // in arrival order. An id already in flight in this round is answered with the first delivery's result.
        var inFlight = new Dictionary<string, Task<CommandResult>>(StringComparer.Ordinal);
        while (incoming.Reader.TryRead(out var arrival))
        {
            var (retained, command, id, refusal) = arrival;
            if (retained)
            {
                // A retained command would run again at every reconnect: it never runs at all.
                await RefuseAsync(id, command, "retained message refused: a command is sent live (retain off), or the broker would hand it over again at every reconnect", cancellationToken);
                continue;
            }
            if (id is not null && inFlight.TryGetValue(id, out var first))
            {
                round.Add((id, command?.Kind.Name() ?? "(unreadable)", first, true));
                continue;
            }
            if (id is not null && ledger?.Recall(id) is { } earlier)
            {
                AuditRepeat(id);
                await PublishAsync(topics.CommandResult, Encoding.UTF8.GetBytes(earlier), retain: false, cancellationToken);
                Answered(id);
                continue;
            }
            if (command is null)
            {
                await RefuseAsync(id, null, refusal!, cancellationToken);
                continue;
            }
            if (stopping)
            {
                // Still waiting when the service stops: it never reaches the loop, and says so before the link closes.
                await RefuseAsync(id, command, NotRunReason, cancellationToken);
                continue;
            }
            if (id is not null)
            {
                if (id == HoldBeforeSubmit) await HoldForTestAsync($"command {id} received, not yet handed to the control loop", cancellationToken);
                try
                {
                    ledger?.Submitted(id);
                }
                catch (Microsoft.Data.Sqlite.SqliteException ex)
                {
                    LogCommandIdNotKept(id, ex.Message);
                }
            }
            var submitted = cycle.Submit(command);
            if (id is not null) inFlight[id] = submitted;
            round.Add((id, command.Kind.Name(), submitted, false));
        }
        await AnswerRoundAsync(cancellationToken);
    }

    /// <summary>Publishes the results of the commands handed to the loop, oldest first; each leaves the round once published.</summary>
    private async Task AnswerRoundAsync(CancellationToken cancellationToken)
    {
        while (round.Count > 0)
        {
            var (id, name, pending, repeat) = round[0];
            // The loop takes commands every step; a slow step delays the answer, it does not end the link.
            var result = await pending.WaitAsync(cancellationToken);
            if (!repeat && id is not null && id == HoldBeforeResult) await HoldForTestAsync($"command {id} answered by the control loop, its result not yet stored", cancellationToken);
            if (repeat && id is not null && ledger?.Recall(id) is { } earlier)
            {
                AuditRepeat(id);
                await PublishAsync(topics.CommandResult, Encoding.UTF8.GetBytes(earlier), retain: false, cancellationToken);
                Answered(id);
            }
            else
            {
                await AnswerAsync(id, name, result, cancellationToken);
            }
            round.RemoveAt(0);
        }
    }

    /// <summary>A test hook: says where it holds on standard error, then waits until the process is killed.</summary>
    private static async Task HoldForTestAsync(string where, CancellationToken cancellationToken)
    {
        await Console.Error.WriteLineAsync($"stillcontrol: test hook: holding: {where}");
        await Console.Error.FlushAsync(cancellationToken);
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }

    /// <summary>The command ledger, or null (logged) when its file cannot be opened or written: commands are then still answered, but not across a kill.</summary>
    private CommandLedger? OpenLedger()
    {
        try
        {
            return new CommandLedger(journalPath);
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
        {
            LogLedgerUnavailable(JournalReader.CursorPath(journalPath), ex.Message);
            return null;
        }
    }

    /// <summary>
    /// At start, before subscribing: every id the service before this one received and left unanswered (a kill, a power loss, a
    /// stop without a broker) gets its result now, stored at once, so a repeat of the id gets it back and never runs: "not run" if
    /// it never reached the control loop, "interrupted" if it may have run (the batch's events say whether it did). Each gets an
    /// audit event; the results are published once connected.
    /// </summary>
    private void Recover(CommandLedger book)
    {
        try
        {
            recovered = book.Unanswered();
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            LogLedgerUnavailable(JournalReader.CursorPath(journalPath), ex.Message);
            return;
        }
        for (var i = 0; i < recovered.Count; i++)
        {
            var unanswered = recovered[i];
            if (unanswered.StoredResult is not null) continue;
            var reason = unanswered.Submitted ? InterruptedReason : NotRunReason + " before this command reached the control loop";
            var json = ResultJson(unanswered.Id, unanswered.Command, CommandResult.Refuse(reason));
            try
            {
                book.Remember(unanswered.Id, json, DateTimeOffset.UtcNow, CommandIdsKept);
            }
            catch (Microsoft.Data.Sqlite.SqliteException ex)
            {
                // Not stored (a full disk): left owed, so the next start answers it; not published now, so it is answered once.
                LogCommandIdNotKept(unanswered.Id, ex.Message);
                recovered.RemoveAt(i--);
                continue;
            }
            cycle.Audit(new ControllerEvent(EventKind.CommandRefused, DateTimeOffset.UtcNow, Phase.Idle, "remote",
                PrintableText.Of(unanswered.Submitted
                    ? $"remote command id {unanswered.Id} interrupted (mqtt): {reason}"
                    : $"remote command id {unanswered.Id} refused (mqtt): {reason}")));
            recovered[i] = unanswered with { StoredResult = json };
        }
        if (recovered.Count > 0) LogRecovered(recovered.Count);
    }

    private async Task PublishRecoveredAsync(CancellationToken cancellationToken)
    {
        while (recovered.Count > 0)
        {
            var unanswered = recovered[0];
            for (var delivery = 0; delivery < unanswered.Deliveries; delivery++)
            {
                await PublishAsync(topics.CommandResult, Encoding.UTF8.GetBytes(unanswered.StoredResult!), retain: false, cancellationToken);
                Answered(unanswered.Id);
            }
            recovered.RemoveAt(0);
        }
    }

    /// <summary>
    /// A clean stop: no command is left without a result. The command topic is unsubscribed, our own state sent and awaited back (so
    /// every command the broker sent before has reached the queue), the loop's answers to commands it was given are published, and
    /// every command still waiting is answered "not run: the service stopped", stored and published, before the link closes.
    /// Without a broker they stay in the ledger and the next start answers them.
    /// </summary>
    private async Task AnswerBeforeClosingAsync()
    {
        if (!client.IsConnected) return;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(10, options.DrainOnStopSeconds)));
        try
        {
            await client.UnsubscribeAsync(new MqttClientUnsubscribeOptionsBuilder().WithTopicFilter(topics.Command).Build(), deadline.Token);
            var echo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            stateEcho = echo;
            lastState = null;
            await StateAsync(deadline.Token);
            try
            {
                await echo.Task.WaitAsync(TimeSpan.FromSeconds(5), deadline.Token);
            }
            catch (TimeoutException)
            {
                // No echo (a broker that does not hand a client its own state): what has arrived is answered; a later arrival is owed.
                LogNoStateEcho();
            }
            await CommandsAsync(stopping: true, deadline.Token);
        }
        catch (Exception ex)
        {
            // Whatever is left unanswered stays in the ledger: the next start answers it.
            LogUnansweredAtStop(ex.Message);
        }
        finally
        {
            stateEcho = null;
        }
    }

    private void Answered(string id)
    {
        try
        {
            ledger?.Answered(id);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            LogCommandIdNotKept(id, ex.Message);
        }
    }

    private void AuditRepeat(string id) =>
        cycle.Audit(new ControllerEvent(EventKind.CommandRefused, DateTimeOffset.UtcNow, Phase.Idle, "remote",
            PrintableText.Of($"remote command id {id} arrived again (mqtt): not run a second time, its first result sent again")));

    private async Task RefuseAsync(string? id, OperatorCommand? command, string reason, CancellationToken cancellationToken)
    {
        cycle.Audit(new ControllerEvent(EventKind.CommandRefused, DateTimeOffset.UtcNow, Phase.Idle, "remote",
            PrintableText.Of($"remote command{(id is null ? "" : $" id {id}")} refused (mqtt): {reason}")));
        await AnswerAsync(id, command?.Kind.Name() ?? "(unreadable)", CommandResult.Refuse(reason), cancellationToken);
    }

    private static string ResultJson(string? id, string command, CommandResult result)
    {
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (id is null) writer.WriteNull("id"); else writer.WriteString("id", PrintableText.Of(id));
            writer.WriteString("command", command);
            writer.WriteBoolean("accepted", result.Accepted);
            writer.WriteString("reason", PrintableText.Of(result.Reason));
            writer.WriteString("at", DateTimeOffset.UtcNow);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(json.ToArray());
    }

    /// <summary>Stores the result under its id (the first one stays), publishes what is stored, and crosses the delivery off.</summary>
    private async Task AnswerAsync(string? id, string command, CommandResult result, CancellationToken cancellationToken)
    {
        var payload = ResultJson(id, command, result);
        if (id is not null)
        {
            try
            {
                ledger?.Remember(id, payload, DateTimeOffset.UtcNow, CommandIdsKept);
                // A result already stored (published before a lost link cut this round short) goes out again as it was.
                payload = ledger?.Recall(id) ?? payload;
            }
            catch (Microsoft.Data.Sqlite.SqliteException ex)
            {
                // Not remembered: a repeat of this id would be judged again (still by the controller's own rules).
                LogCommandIdNotKept(id, ex.Message);
            }
        }
        await PublishAsync(topics.CommandResult, Encoding.UTF8.GetBytes(payload), retain: false, cancellationToken);
        if (id is not null) Answered(id);
    }

    private Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken cancellationToken) =>
        client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithContentType("application/json")
            .Build(), cancellationToken);

    /// <summary>What every journal row carries on the wire: its sequence (for de-duplication), batch and original time.</summary>
    private static void WriteHeader(Utf8JsonWriter writer, long sequence, string? batchId, DateTimeOffset at)
    {
        writer.WriteStartObject();
        writer.WriteNumber("seq", sequence);
        if (batchId is null) writer.WriteNull("batchId"); else writer.WriteString("batchId", batchId);
        writer.WriteString("at", at);
    }

    private byte[] EventJson(JournalEvent e)
    {
        buffer.Clear();
        using var writer = new Utf8JsonWriter(buffer);
        WriteHeader(writer, e.Sequence, e.BatchId, e.At);
        writer.WriteString("kind", e.Kind);
        writer.WriteString("code", e.Code);
        writer.WriteString("phase", e.Phase);
        writer.WriteString("message", e.Message);
        if (e.Channel is null) writer.WriteNull("channel"); else writer.WriteString("channel", e.Channel);
        writer.WriteEndObject();
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private byte[] SampleJson(JournalSample s)
    {
        buffer.Clear();
        using var writer = new Utf8JsonWriter(buffer);
        WriteHeader(writer, s.Sequence, s.BatchId, s.At);
        writer.WriteString("phase", s.Phase);
        writer.WriteBoolean("held", s.Held);
        writer.WriteNumber("steamValvePercent", s.SteamPercent);
        writer.WriteNumber("coolingValvePercent", s.CoolingPercent);
        if (s.Receiver is null) writer.WriteNull("receiver"); else writer.WriteString("receiver", s.Receiver);
        if (s.StrengthPercent is { } strength) writer.WriteNumber("strengthPercentVolume", strength); else writer.WriteNull("strengthPercentVolume");
        writer.WriteStartObject("channels");
        using (var readings = JsonDocument.Parse(s.ReadingsJson))
        {
            foreach (var channel in readings.RootElement.EnumerateObject())
            {
                writer.WriteStartObject(channel.Name);
                foreach (var property in channel.Value.EnumerateObject()) property.WriteTo(writer);
                writer.WriteString("unit", Channels.TryParse(channel.Name, out var c) ? c.Unit() : "");
                writer.WriteString("at", s.At);
                writer.WriteEndObject();
            }
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>On a clean stop the journal's backlog is drained first, for up to <see cref="MqttOptions.DrainOnStopSeconds"/>.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        draining = true;
        if (ExecuteTask is { } running && client.IsConnected)
        {
            await Task.WhenAny(drained.Task, Task.Delay(TimeSpan.FromSeconds(options.DrainOnStopSeconds), CancellationToken.None));
        }
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        client.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "MQTT link: {Message}")]
    private partial void LogCursorNotStored(string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Remote command id {Id} could not be remembered ({Reason}): a repeat of it would be judged again")]
    private partial void LogCommandIdNotKept(string id, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} remote command ids were left unanswered by the service before this one: answered now (not run, or interrupted if they reached the control loop)")]
    private partial void LogRecovered(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT link stopping: commands left unanswered ({Reason}); the next start answers them")]
    private partial void LogUnansweredAtStop(string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Remote command ids cannot be kept in {File} ({Reason}): commands are answered, but a kill leaves the one running without a result and a repeated id is judged again")]
    private partial void LogLedgerUnavailable(string file, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT link stopping: its own state did not come back within 5 s; commands arriving later are answered at the next start")]
    private partial void LogNoStateEcho();

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT connected to {Broker}; publishing under {Topic}")]
    private partial void LogConnected(string broker, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT connection to {Broker} failed: {Reason}; retrying in {Seconds} s (the journal keeps everything meanwhile)")]
    private partial void LogConnectFailed(string broker, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT broker refused Home Assistant discovery under {Prefix}/ ({Reason}); check its ACL. Discovery is off until restart")]
    private partial void LogDiscoveryRefused(string prefix, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT link lost: {Reason}; undelivered rows stay in the journal")]
    private partial void LogLinkLost(string reason);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(LiveState))]
internal sealed partial class TelemetryJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
