using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using StillControl.Journal;
using StillControl.Simulation;

namespace StillControl.History;

/// <summary>
/// A server that refuses some rows for what they say (InfluxDB's 400 "partial write") is an error, not a success: each refused
/// row is found, kept with the reason and alarmed, and every other row still arrives. No Debian package serves an InfluxDB that
/// refuses rows (VictoriaMetrics takes everything), so the test's server speaks the write API itself and refuses event points.
/// </summary>
public sealed class RejectedRowsTests : IDisposable
{
    private readonly HttpListener listener = new();
    // A point is its series and time: the same line written again is the same point, as in InfluxDB.
    private readonly HashSet<string> stored = [];
    private readonly CancellationTokenSource stop = new();
    private readonly Task serving;
    private int refusals;

    public RejectedRowsTests()
    {
        var port = FreePort.Next();
        Url = $"http://127.0.0.1:{port}";
        listener.Prefixes.Add(Url + "/");
        listener.Start();
        serving = Task.Run(ServeAsync);
    }

    private string Url { get; }

    private async Task ServeAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            using var body = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var lines = (await body.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            // Like InfluxDB with a field type conflict: the good points are written, the bad ones named, and the answer is 400.
            var refused = lines.Where(l => l.StartsWith(LineProtocol.EventMeasurement, StringComparison.Ordinal)).ToList();
            lock (stored) stored.UnionWith(lines.Except(refused));
            if (refused.Count > 0)
            {
                Interlocked.Increment(ref refusals);
                context.Response.StatusCode = 400;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(
                    $$"""{"code":"invalid","message":"partial write: field type conflict: input field \"message\" on measurement \"{{LineProtocol.EventMeasurement}}\" is type string, already exists as type float dropped={{refused.Count}}"}"""));
            }
            else
            {
                context.Response.StatusCode = 204;
            }
            context.Response.Close();
        }
    }

    [Fact]
    public async Task Refused_rows_are_kept_with_the_reason_alarmed_and_never_counted_as_written()
    {
        using var run = await Simulate.RunAsync(extra: ["--influx", Url]);
        Assert.Equal("completed", run.Outcome);
        long samples, events;
        using (var connection = new SqliteConnection($"Data Source={run.Journal};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT (SELECT COUNT(*) FROM samples), (SELECT COUNT(*) FROM events)";
            using var reader = command.ExecuteReader();
            reader.Read();
            (samples, events) = (reader.GetInt64(0), reader.GetInt64(1));
        }
        Assert.True(refusals > 0);
        using var journal = new JournalReader(run.Journal);
        var rejected = journal.Rejected(HistoryForwarder.CursorName);
        // Every sample arrived once; no refused line counts as stored; every event is kept in the cursor file with the reason.
        lock (stored)
        {
            Assert.Equal(samples, stored.Count(l => l.StartsWith(LineProtocol.SampleMeasurement, StringComparison.Ordinal)));
            Assert.DoesNotContain(stored, l => l.StartsWith(LineProtocol.EventMeasurement, StringComparison.Ordinal));
        }
        // The rejection alarm is itself an event, refused in turn: at least every event of the batch is kept.
        Assert.True(rejected.Count >= events, $"{rejected.Count} kept of {events} events");
        Assert.All(rejected, r => Assert.StartsWith(LineProtocol.EventMeasurement, r.Line));
        Assert.All(rejected, r => Assert.Contains("400: ", r.Reason));
        Assert.Contains(rejected, r => r.Reason.Contains("field type conflict"));
        using var batchJournal = new BatchJournal(run.Journal, TimeProvider.System, TimeSpan.FromSeconds(1));
        Assert.Contains(batchJournal.Events(null), e => e.Code == "history-rows-rejected" && e.Kind == "alarm-raised");
        // And the cursor moved past them: nothing waits.
        Assert.Equal((0L, 0L), journal.Backlog(journal.LoadCursor(HistoryForwarder.CursorName)));
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        listener.Close();
        try { serving.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        stop.Dispose();
    }
}
