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
    private bool cursorUnstored;

    /// <param name="audit">Where alarms about the backlog go (the control cycle's journal queue).</param>
    public HistoryForwarder(HistoryOptions options, Action<ControllerEvent> audit, string journalPath, string site, string still, ILogger<HistoryForwarder> logger)
    {
        this.options = options;
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
        var cursor = reader.LoadCursor(CursorName);
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
                    if (draining) drained.TrySetResult();
                    await Task.Delay(500, stoppingToken);
                    continue;
                }
                var writing = write.WriteRecordsAsync(batch.Lines, WritePrecision.Ns, options.Bucket, options.Org, stoppingToken);
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
                // A cursor that cannot be stored (a full disk) is one error in the log; the forwarder goes on from its cursor in memory.
                var problem = reader.TrySaveCursor(CursorName, cursor);
                if (problem is not null && !cursorUnstored) LogCursorNotStored(JournalReader.CursorPath(journalPath), problem);
                cursorUnstored = problem is not null;
                Written += batch.Lines.Count;
                next = prefetched;
                backlog.Check(reader, cursor);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private sealed record Batch(List<string> Lines, ForwarderCursor Cursor);

    /// <summary>The rows after <paramref name="after"/> as line protocol, with the cursor they advance it to.</summary>
    private Batch Read(JournalReader reader, ForwarderCursor after)
    {
        var events = reader.EventsAfter(after.Events, options.BatchRows);
        var samples = reader.SamplesAfter(after.Samples, options.BatchRows);
        var lines = new List<string>(events.Count + samples.Count);
        foreach (var e in events) lines.Add(LineProtocol.Event(e, site, still));
        foreach (var sample in samples) lines.Add(LineProtocol.Sample(sample, site, still));
        return new Batch(lines, new ForwarderCursor(samples.Count > 0 ? samples[^1].Sequence : after.Samples, events.Count > 0 ? events[^1].Sequence : after.Events));
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

    [LoggerMessage(Level = LogLevel.Information, Message = "History writes to {Url} recovered; draining the backlog oldest first")]
    private partial void LogRecovered(string url);
}
