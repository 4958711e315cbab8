using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using StillControl.Cli;
using StillControl.Reports;

namespace StillControl.Bench;

/// <summary>
/// Figures for batch review: a report and an export of a 4-hour batch sampled every second, and listing a journal of 5,000
/// batches. The journal is made by simulating a default batch and copying its rows (SQL) to the sizes wanted.
/// Run: dotnet run -c Release --project bench/StillControl.Bench -- reports
/// </summary>
public static class ReportBench
{
    public static async Task RunAsync()
    {
        Console.WriteLine($"runtime {Environment.Version}, {Environment.ProcessorCount} cores");
        var folder = Directory.CreateTempSubdirectory("stillcontrol-bench-reports-").FullName;
        try
        {
            var journal = Path.Combine(folder, "journal.db");
            var exit = await CommandLine.RunAsync(["simulate", "--json", "--journal", journal, "--mqtt", "off"], TextWriter.Null, TextWriter.Null);
            if (exit != 0) throw new InvalidOperationException($"simulate exited {exit}");
            string id;
            using (var connection = Open(journal))
            {
                id = Scalar<string>(connection, "SELECT id FROM batches");
                // Stretch the batch to 4 hours of 1 s samples: copy its samples forward in time until 14,400 rows.
                var count = Scalar<long>(connection, "SELECT count(*) FROM samples");
                var span = Scalar<long>(connection, "SELECT max(t) - min(t) + 1000 FROM samples");
                for (var copy = 1; Scalar<long>(connection, "SELECT count(*) FROM samples") < 14_400; copy++)
                {
                    Execute(connection, $"INSERT INTO samples (batch_id, t, phase, held, steam_percent, cooling_percent, receiver, strength_percent, readings) " +
                        $"SELECT batch_id, t + {copy * span}, phase, held, steam_percent, cooling_percent, receiver, strength_percent, readings FROM samples WHERE seq <= {count} LIMIT {14_400 - count * copy}");
                }
                Execute(connection, $"UPDATE batches SET state_json = json_set(state_json, '$.endedAt', strftime('%Y-%m-%dT%H:%M:%fZ', (SELECT max(t) FROM samples) / 1000.0, 'unixepoch')), ended_at = (SELECT max(t) FROM samples)");
                Console.WriteLine($"batch {id}: {Scalar<long>(connection, "SELECT count(*) FROM samples")} samples over {Scalar<long>(connection, "SELECT (max(t) - min(t)) / 1000 FROM samples") / 3600.0:0.0} h");
            }

            var times = new List<double>();
            long size = 0;
            for (var round = 0; round < 4; round++)
            {
                var watch = Stopwatch.StartNew();
                using var query = new JournalQuery(journal);
                var review = BatchReview.Load(query, id)!;
                var html = HtmlReport.Report(review);
                var file = Path.Combine(folder, "report.html");
                File.WriteAllText(file, html);
                times.Add(watch.Elapsed.TotalMilliseconds);
                size = new FileInfo(file).Length;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"report of a 4-hour batch: first {times[0]:0} ms (JIT and fonts), then {string.Join(", ", times.Skip(1).Select(t => t.ToString("0", CultureInfo.InvariantCulture)))} ms; {size / 1024.0:0} KiB of HTML"));

            var exportWatch = Stopwatch.StartNew();
            using (var query = new JournalQuery(journal))
            using (var writer = new StreamWriter(Path.Combine(folder, "samples.csv")))
            {
                BatchExport.WriteCsv(BatchReview.Load(query, id)!, "samples", writer);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"CSV export of its samples: {exportWatch.Elapsed.TotalMilliseconds:0} ms, {new FileInfo(Path.Combine(folder, "samples.csv")).Length / 1024.0:0} KiB"));

            using (var connection = Open(journal))
            {
                // 5,000 batches, each with the events of the simulated one.
                Execute(connection, "CREATE TEMP TABLE n(i INTEGER)");
                Execute(connection, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 4999) INSERT INTO n SELECT i FROM c");
                Execute(connection, "INSERT INTO batches (id, started_at, ended_at, outcome, recipe_name, recipe_json, phase, state_json, state_at) " +
                    "SELECT 'still-' || (1 + n.i % 8) || '-' || strftime('%Y%m%d-%H%M%S', (b.started_at / 1000) - n.i * 10800, 'unixepoch'), b.started_at - n.i * 10800000, " +
                    "b.ended_at - n.i * 10800000, CASE WHEN n.i % 17 = 0 THEN 'aborted' ELSE b.outcome END, b.recipe_name, b.recipe_json, b.phase, b.state_json, b.state_at FROM batches b, n");
                Execute(connection, "INSERT INTO events (batch_id, t, kind, code, phase, message, channel) " +
                    "SELECT nb.id, e.t, e.kind, e.code, e.phase, e.message, e.channel FROM events e, batches nb WHERE e.batch_id = (SELECT id FROM batches ORDER BY started_at DESC LIMIT 1) AND nb.id <> e.batch_id");
                Console.WriteLine($"journal: {Scalar<long>(connection, "SELECT count(*) FROM batches")} batches, {Scalar<long>(connection, "SELECT count(*) FROM events")} events, {new FileInfo(journal).Length / 1048576.0:0} MiB");
            }
            foreach (var (name, filter) in new[] { ("all", new BatchFilter()), ("--still still-3", new BatchFilter(Still: "still-3")), ("--outcome aborted", new BatchFilter(Outcome: "aborted")), ("--alarm cooling-over-maximum", new BatchFilter(Alarm: "cooling-over-maximum")) })
            {
                var listTimes = new List<double>();
                var rows = 0;
                for (var round = 0; round < 5; round++)
                {
                    var watch = Stopwatch.StartNew();
                    using var query = new JournalQuery(journal);
                    rows = query.List(filter).Count;
                    listTimes.Add(watch.Elapsed.TotalMilliseconds);
                }
                listTimes.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batches {name}: {rows} rows, median {listTimes[2]:0.0} ms (of 5, fastest {listTimes[0]:0.0} ms)"));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static T Scalar<T>(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)command.ExecuteScalar()!;
    }
}
