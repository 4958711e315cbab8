using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StillControl.Cli;
using StillControl.Hosting;
using StillControl.Journal;

namespace StillControl.Reports;

/// <summary>Batch metadata (contract 4): the column old journals get, writes from another thread while the loop runs, bad values.</summary>
public sealed class MetadataTests
{
    private static readonly BatchMetadata Sample = new("GL-7", 152.5, "pit 12", "two layers of husk");

    /// <summary>The batches table as journals before metadata wrote it.</summary>
    private const string OldSchema = """
        CREATE TABLE batches (id TEXT PRIMARY KEY, started_at INTEGER NOT NULL, ended_at INTEGER, outcome TEXT,
            recipe_name TEXT NOT NULL, recipe_json TEXT NOT NULL, phase TEXT NOT NULL, state_json TEXT, state_at INTEGER);
        CREATE TABLE samples (seq INTEGER PRIMARY KEY, batch_id TEXT, t INTEGER NOT NULL, phase TEXT NOT NULL, held INTEGER NOT NULL,
            steam_percent REAL, cooling_percent REAL, receiver TEXT, strength_percent REAL, readings TEXT NOT NULL);
        CREATE TABLE events (seq INTEGER PRIMARY KEY, batch_id TEXT, t INTEGER NOT NULL, kind TEXT NOT NULL, code TEXT NOT NULL,
            phase TEXT NOT NULL, message TEXT NOT NULL, channel TEXT);
        INSERT INTO batches (id, started_at, recipe_name, recipe_json, phase, state_json) VALUES ('still-1-20250101-080000', 1735718400000, 'r', '{}', 'hearts', '{}');
        INSERT INTO batches (id, started_at, ended_at, outcome, recipe_name, recipe_json, phase, state_json) VALUES ('still-1-20241231-080000', 1735632000000, 1735639200000, 'completed', 'r', '{}', 'complete', '{}');
        """;

    private static List<string> Columns(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM pragma_table_info('batches')";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read()) names.Add(reader.GetString(0));
        return names;
    }

    [Fact]
    public void An_old_journal_reads_without_metadata_gets_the_column_when_a_service_opens_it_and_keeps_its_batches()
    {
        using var files = new TestFiles();
        var path = files.PathOf("old.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = OldSchema;
            command.ExecuteNonQuery();
        }
        Assert.DoesNotContain("metadata_json", Columns(path));
        // Review verbs open journals read-only: an old one reads, with no metadata.
        using (var query = new JournalQuery(path))
        {
            Assert.Null(query.Metadata("still-1-20250101-080000"));
        }

        using (var journal = new BatchJournal(path, TimeProvider.System, TimeSpan.Zero))
        {
            Assert.Contains("metadata_json", Columns(path));
            Assert.Equal(2, journal.ListBatches().Count);
            Assert.True(journal.SetMetadata("still-1-20250101-080000", Sample));
            Assert.False(journal.SetMetadata("still-1-20991231-000000", Sample), "no such batch");
            Assert.False(journal.SetMetadata("still-1-20241231-080000", Sample), "an ended batch is never written again");
            var bad = Assert.Throws<ArgumentException>(() => journal.SetMetadata("still-1-20250101-080000", Sample with { GrainKilograms = -3 }));
            Assert.Contains("grainKilograms = -3: a mass in kg above 0", bad.Message);
        }
        // Opened again: the migration does not run twice, and the value is there.
        using (new BatchJournal(path, TimeProvider.System, TimeSpan.Zero))
        {
        }
        using var reread = new JournalQuery(path);
        Assert.Equal(Sample, reread.Metadata("still-1-20250101-080000"));
        Assert.Null(reread.Metadata("still-1-20241231-080000"));
        Assert.Single(Columns(path), c => c == "metadata_json");
    }

    [Fact]
    public async Task Metadata_written_from_another_thread_while_the_loop_runs_flat_out_lands_and_the_batch_runs_on()
    {
        using var files = new TestFiles();
        var path = files.PathOf("j.db");
        // Maximum speed: the loop commits back to back, the hardest case for a second writer.
        // Commits 10 ms apart (not 100): a flat-out batch lasts well under a second now, and a metadata write lands between two
        // of the loop's commits, so at 100 ms only three or four could land while it ran.
        using var host = StillHost.Build([], new Dictionary<string, string?> { ["Journal:Path"] = path, ["Journal:CommitIntervalMilliseconds"] = "10" },
            Recipes.DefaultRecipe.Create(), new SimulationSetup(new Simulation.Scenario(), 3, null, false, DateTimeOffset.UtcNow.AddHours(-3), null, TimeSpan.FromHours(1), false),
            Microsoft.Extensions.Logging.LogLevel.Error);
        var cycle = host.Services.GetRequiredService<ControlCycle>();
        var run = Task.Run(() => host.RunAsync());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        string? id = null;
        while (id is null && DateTime.UtcNow < deadline && !run.IsCompleted)
        {
            id = cycle.Live?.BatchId;
            if (id is null) await Task.Delay(5);
        }
        Assert.NotNull(id);
        var written = 0;
        BatchMetadata? last = null;
        var slowest = TimeSpan.Zero;
        while (!run.IsCompleted && DateTime.UtcNow < deadline)
        {
            var m = Sample with { Notes = $"write {written + 1}" };
            var watch = Stopwatch.StartNew();
            if (!cycle.Journal.SetMetadata(id!, m)) break; // the batch has ended
            slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
            last = m;
            written++;
            if (written >= 25) break;
            await Task.Delay(2);
        }
        await run.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(written >= 5, $"{written} writes landed while the batch ran");
        Assert.True(slowest < TimeSpan.FromSeconds(5), $"slowest write {slowest.TotalMilliseconds:0} ms");

        using var query = new JournalQuery(path);
        var listed = Assert.Single(query.List(new BatchFilter()));
        Assert.Equal("completed", listed.Outcome);
        Assert.Equal(last, query.Metadata(id!));
        var review = BatchReview.Load(query, id!)!;
        Assert.Equal(last, review.Metadata);
    }

    [Fact]
    public async Task A_scenario_carries_metadata_into_the_journal_and_a_bad_one_is_named()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("j.db");
        var (exit, _, error) = await InProcess.Run("simulate", "--journal", journal, "--mqtt", "off", "--scenario",
            files.Write("bad.json", """{ "metadata": { "grainKilograms": 0, "notes": "x" } }"""));
        Assert.Equal(2, exit);
        Assert.Contains("metadata.grainKilograms = 0: a mass in kg above 0", error);
        (exit, _, error) = await InProcess.Run("simulate", "--journal", journal, "--mqtt", "off", "--scenario",
            files.Write("typo.json", """{ "metadata": { "grainKg": 150 } }"""));
        Assert.Equal(2, exit);
        Assert.Contains("grainKg", error);

        var (ok, output, okError) = await InProcess.Run("simulate", "--json", "--journal", journal, "--mqtt", "off", "--scenario",
            files.Write("good.json", """{ "metadata": { "grainLot": "GL-9", "grainKilograms": 140.5, "pit": "东 3", "notes": "wet husk" } }"""));
        Assert.True(ok == 0, okError);
        var id = JsonDocument.Parse(output).RootElement.GetProperty("batchId").GetString()!;
        using var query = new JournalQuery(journal);
        Assert.Equal(new BatchMetadata("GL-9", 140.5, "东 3", "wet husk"), query.Metadata(id));
        // The JSON export carries it too.
        var file = files.PathOf("e.json");
        Assert.Equal(0, (await InProcess.Run("export", id, "--journal", journal, "--format", "json", "--out", file)).Exit);
        using var export = JsonDocument.Parse(File.ReadAllText(file));
        Assert.Equal(140.5, export.RootElement.GetProperty("metadata").GetProperty("grainKilograms").GetDouble());
        Assert.Equal("东 3", export.RootElement.GetProperty("metadata").GetProperty("pit").GetString());
    }
}
