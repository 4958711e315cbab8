using InfluxDB.Client;
using InfluxDB.Client.Api.Domain;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StillControl.Journal;
using StillControl.Process;

namespace StillControl.History;

/// <summary>
/// Sends the journal's samples and events to InfluxDB (or VictoriaMetrics) with InfluxDB.Client's write API, in batches,
/// oldest first, after its own persisted cursor. An outage only grows the backlog on disk; when the server returns the
/// backlog drains in large batches. It never touches the control loop.
/// </summary>
public sealed partial class HistoryForwarder : BackgroundService
{
    public const string CursorName = "influx";

    private readonly HistoryOptions options;
    private readonly string journalPath;
    private readonly string site;
    private readonly string still;
    private readonly ILogger<HistoryForwarder> logger;
    private readonly TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool draining;
    private readonly BacklogAlarm backlog;
    private readonly Action<ControllerEvent> audit;
    private DateTimeOffset lastRejectionAlarm = DateTimeOffset.MinValue;

    /// <param name="audit">Where alarms about the backlog go (the control cycle's journal queue).</param>
    public HistoryForwarder(HistoryOptions options, Action<ControllerEvent> audit, string journalPath, string site, string still, ILogger<HistoryForwarder> logger)
    {
        this.options = options;
        this.audit = audit;
        backlog = new BacklogAlarm("history-backlog-over-limit", options.Url ?? "history", "Influx:BacklogAlarmRows", options.BacklogAlarmRows, audit);
        this.journalPath = journalPath;
        this.site = site;
        this.still = still;
        this.logger = logger;
    }

    public long Written { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        using var reader = new JournalReader(journalPath);
        var clientOptions = new InfluxDBClientOptions(options.Url!) { Org = options.Org, Bucket = options.Bucket, Timeout = TimeSpan.FromSeconds(30) };
        if (options.ResolveToken() is { Length: > 0 } token)
        {
            clientOptions.Token = token; // VictoriaMetrics needs none; InfluxDB 2.x and 3.x do
        }
        using var client = new InfluxDBClient(clientOptions);
        var write = client.GetWriteApiAsync();
        var stored = new StoredCursor(reader, CursorName, journalPath, audit, LogCursorNotStored);
        var cursor = stored.Load();
        var backoff = TimeSpan.FromSeconds(1);
        var failing = false;
        try
        {
            Batch? next = null;
            while (!stoppingToken.IsCancellationRequested)
            {
                var batch = next ?? Read(reader, cursor);
                next = null;
                if (batch.Lines.Count == 0)
                {
                    // Empty means drained only when read after the stop began: the loop's last rows are committed as it stops, and a
                    // batch read (or prefetched) before that misses them.
                    if (batch.ReadWhileDraining) drained.TrySetResult();
                    else if (draining) continue;
                    await Task.Delay(500, stoppingToken);
                    continue;
                }
                var writing = WriteAsync(write, reader, batch.Lines, stoppingToken);
                // While the server takes this batch, read and format the next one: a drain is paced by both.
                var prefetched = Read(reader, batch.Cursor);
                try
                {
                    await writing;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    if (!failing) LogWriteFailed(options.Url!, ex.Message);
                    failing = true;
                    backlog.Check(reader, cursor);
                    await Task.Delay(backoff, stoppingToken);
                    backoff = TimeSpan.FromSeconds(Math.Min(backoff.TotalSeconds * 2, 30));
                    continue;
                }
                if (failing) LogRecovered(options.Url!);
                failing = false;
                backoff = TimeSpan.FromSeconds(1);
                cursor = batch.Cursor;
                stored.Save(cursor);
                Written += batch.Lines.Count;
                next = prefetched;
                backlog.Check(reader, cursor);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private sealed record Batch(List<string> Lines, ForwarderCursor Cursor, bool ReadWhileDraining);

    /// <summary>
    /// Writes the lines; when the server refuses some of them for what they say (400 or 422, e.g. InfluxDB's "partial write:
    /// field type conflict"), halves the batch until each refused line is alone, keeps it in the cursor file with the server's
    /// reason, raises <c>history-rows-rejected</c> and goes on with the rest. A partial write is never counted as written.
    /// Re-sending lines the server already took is harmless: a point with the same series and time is the same point.
    /// An outage, a wrong token or a missing bucket throw as before (retried, the backlog kept).
    /// </summary>
    private async Task WriteAsync(WriteApiAsync write, JournalReader reader, List<string> lines, CancellationToken stoppingToken)
    {
        try
        {
            await write.WriteRecordsAsync(lines, WritePrecision.Ns, options.Bucket, options.Org, stoppingToken);
        }
        catch (InfluxDB.Client.Core.Exceptions.HttpException ex) when (ex.Status is 400 or 422)
        {
            if (lines.Count == 1)
            {
                var reason = PrintableText.Of(ex.Message.Length > 500 ? ex.Message[..500] : ex.Message);
                reader.RecordRejected(CursorName, lines[0], $"{ex.Status}: {reason}", DateTimeOffset.UtcNow);
                Rejected++;
                LogRejected(options.Url!, reason);
                // One alarm a minute at most, however many rows a misconfigured server refuses; each row is kept all the same.
                if (DateTimeOffset.UtcNow - lastRejectionAlarm < TimeSpan.FromMinutes(1)) return;
                lastRejectionAlarm = DateTimeOffset.UtcNow;
                audit(new ControllerEvent(EventKind.AlarmRaised, DateTimeOffset.UtcNow, Phase.Idle, "history-rows-rejected",
                    $"{options.Url} refused a journal row ({reason}); it is kept in {JournalReader.CursorPath(journalPath)} (table rejected_rows) and the journal"));
                return;
            }
            var half = lines.Count / 2;
            await WriteAsync(write, reader, lines[..half], stoppingToken);
            await WriteAsync(write, reader, lines[half..], stoppingToken);
        }
    }

    /// <summary>Rows the server refused for what they say, kept with the reason (see <see cref="WriteAsync"/>).</summary>
    public long Rejected { get; private set; }

    /// <summary>The rows after <paramref name="after"/> as line protocol, with the cursor they advance it to.</summary>
    private Batch Read(JournalReader reader, ForwarderCursor after)
    {
        var drainingAtRead = draining;
        var events = reader.EventsAfter(after.Events, options.BatchRows);
        var samples = reader.SamplesAfter(after.Samples, options.BatchRows);
        var lines = new List<string>(events.Count + samples.Count);
        foreach (var e in events) lines.Add(LineProtocol.Event(e, site, still));
        foreach (var sample in samples) lines.Add(LineProtocol.Sample(sample, site, still));
        return new Batch(lines, new ForwarderCursor(samples.Count > 0 ? samples[^1].Sequence : after.Samples, events.Count > 0 ? events[^1].Sequence : after.Events), drainingAtRead);
    }

    /// <summary>On a clean stop the backlog is drained first, for up to <see cref="HistoryOptions.DrainOnStopSeconds"/>.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        draining = true;
        if (ExecuteTask is not null)
        {
            await Task.WhenAny(drained.Task, Task.Delay(TimeSpan.FromSeconds(options.DrainOnStopSeconds), CancellationToken.None));
        }
        await base.StopAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "History cursor could not be stored in {Path} ({Reason}): forwarding goes on; after a restart the rows since the last stored cursor are written once more")]
    private partial void LogCursorNotStored(string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "History write to {Url} failed: {Reason}; the journal keeps the backlog and retries")]
    private partial void LogWriteFailed(string url, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "History: {Message}")]
    private partial void LogCursorNotStored(string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "History server {Url} refused a row: {Reason}; kept in the cursor file's rejected_rows, the rest goes on")]
    private partial void LogRejected(string url, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "History writes to {Url} recovered; draining the backlog oldest first")]
    private partial void LogRecovered(string url);
}
