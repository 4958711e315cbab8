using System.Text.Json;

namespace StillControl.Cli;

/// <summary>A journal with two batches started in the same second (the second id carries a suffix), one on a long recipe name.</summary>
public sealed class TwoBatches : IDisposable
{
    public TestFiles Files { get; } = new();

    public string Journal => Files.PathOf("journal.db");

    public string Older { get; }

    public string Newer { get; }

    public const string LongRecipe = "strong-aroma-with-a-rather-long-recipe-name-for-the-columns";

    public TwoBatches()
    {
        try
        {
            var recipe = Files.Write("recipe.json", $$"""{ "name": "{{LongRecipe}}" }""");
            // The same start: the second batch's id gets a suffix, so the ids differ in length.
            foreach (var extra in new[] { Array.Empty<string>(), ["--recipe", recipe] })
            {
                var (exit, _, error) = InProcess.Run(["simulate", "--start", "2026-11-01T06:00:00Z", "--mqtt", "off", "--journal", Journal, .. extra]).GetAwaiter().GetResult();
                Assert.True(exit == 0, error);
            }
            var listed = JsonDocument.Parse(InProcess.Run("batches", "--journal", Journal, "--json").GetAwaiter().GetResult().Output).RootElement;
            Newer = listed[0].GetProperty("id").GetString()!;
            Older = listed[1].GetProperty("id").GetString()!;
        }
        catch
        {
            Files.Dispose();
            throw;
        }
    }

    public void Dispose() => Files.Dispose();
}

/// <summary>export, report, latest and the review tables as a user meets them.</summary>
public class ReviewVerbTests(TwoBatches batches) : IClassFixture<TwoBatches>
{
    private static Task<(int Exit, string Output, string Error)> Run(params string[] args) => InProcess.Run(args);

    private static void AssertBadInput((int Exit, string Output, string Error) result, params string[] expected)
    {
        Assert.True(result.Exit == 2, $"exit {result.Exit}: {result.Error}");
        foreach (var text in expected) Assert.Contains(text, result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task Export_writes_exactly_the_file_named_one_table_in_the_format_its_extension_names()
    {
        using var files = new TestFiles();
        var csv = files.PathOf("s.csv");
        var exported = await Run("export", batches.Newer, "--journal", batches.Journal, "--format", "csv", "--out", csv);
        Assert.True(exported.Exit == 0, exported.Error);
        Assert.Contains($"wrote {csv}", exported.Output);
        Assert.Equal(["s.csv"], Directory.GetFiles(files.Folder).Select(f => Path.GetFileName(f)!).ToArray());
        var lines = File.ReadAllLines(csv);
        Assert.StartsWith("time_utc,seconds_from_start,phase", lines[0]);
        Assert.True(lines.Length > 3600, $"{lines.Length} sample rows");

        // No --format: the extension tells, and --table chooses.
        Assert.Equal(0, (await Run("export", batches.Newer, "--journal", batches.Journal, "--table", "events", "--out", files.PathOf("e.csv"))).Exit);
        Assert.StartsWith("sequence,time_utc", File.ReadLines(files.PathOf("e.csv")).First());
        Assert.Equal(0, (await Run("export", batches.Newer, "--journal", batches.Journal, "--table", "fractions", "--out", files.PathOf("f.JSON"))).Exit);
        var fractions = JsonDocument.Parse(File.ReadAllText(files.PathOf("f.JSON"))).RootElement;
        Assert.Equal(batches.Newer, fractions.GetProperty("batchId").GetString());
        Assert.True(fractions.GetProperty("fractions").GetArrayLength() >= 3);
        Assert.False(fractions.TryGetProperty("samples", out _));
        Assert.Equal(["e.csv", "f.JSON", "s.csv"], Directory.GetFiles(files.Folder).Select(f => Path.GetFileName(f)!).Order().ToArray());

        // To standard output: one table, in the format asked for.
        var json = await Run("export", batches.Newer, "--journal", batches.Journal, "--format", "json", "--table", "events");
        Assert.True(JsonDocument.Parse(json.Output).RootElement.GetProperty("events").GetArrayLength() > 5);
        Assert.StartsWith("receiver,phase,grade", (await Run("export", batches.Newer, "--journal", batches.Journal, "--out", "-", "--format", "csv", "--table", "fractions")).Output);

        AssertBadInput(await Run("export", batches.Newer, "--journal", batches.Journal, "--out", files.PathOf("s.txt")), "--out", "s.txt", "'.txt' does not tell the format", "--format csv|json");
        AssertBadInput(await Run("export", batches.Newer, "--journal", batches.Journal), "give --format csv|json");
        AssertBadInput(await Run("export", batches.Newer, "--journal", batches.Journal, "--table", "all", "--out", files.PathOf("a.csv")), "--table = 'all': samples, events, fractions");
        Assert.False(File.Exists(files.PathOf("s.txt")) || File.Exists(files.PathOf("a.csv")), "nothing written on bad input");
    }

    [Fact]
    public async Task Report_without_out_writes_the_batch_id_dot_html_in_the_current_folder_and_says_so()
    {
        using var folder = new TestFiles();
        var (exit, output, error) = await StillControlProcess.RunAsync(folder.Folder, "report", "latest", "--journal", batches.Journal);
        Assert.True(exit == 0, error);
        var file = Path.Combine(folder.Folder, $"{batches.Newer}.html");
        Assert.True(File.Exists(file), output);
        Assert.Contains($"report: wrote {batches.Newer}.html", output);
        Assert.True(output.Length < 200, $"a line, not the report: {output.Length} characters");
        var html = File.ReadAllText(file);
        Assert.Contains("<html", html);
        Assert.Contains(batches.Newer, html);

        var stdout = await Run("report", batches.Older, "--journal", batches.Journal, "--out", "-");
        Assert.Equal(0, stdout.Exit);
        Assert.Contains("<html", stdout.Output);
    }

    [Fact]
    public async Task Latest_names_the_newest_batch_wherever_an_id_is_asked_for()
    {
        var batch = JsonDocument.Parse((await Run("batch", "latest", "--journal", batches.Journal, "--json")).Output).RootElement;
        Assert.Equal(batches.Newer, batch.GetProperty("batchId").GetString());
        var exported = JsonDocument.Parse((await Run("export", "latest", "--journal", batches.Journal, "--format", "json", "--table", "fractions")).Output).RootElement;
        Assert.Equal(batches.Newer, exported.GetProperty("batchId").GetString());
        var compared = JsonDocument.Parse((await Run("compare", batches.Older, "latest", "--journal", batches.Journal, "--json")).Output).RootElement;
        Assert.Equal([batches.Older, batches.Newer], compared.GetProperty("batches").EnumerateArray().Select(b => b.GetString()!).ToArray());
        using var files = new TestFiles();
        Assert.Equal(0, (await Run("report", "latest", "--journal", batches.Journal, "--out", files.PathOf("r.html"))).Exit);
        Assert.Contains(batches.Newer, File.ReadAllText(files.PathOf("r.html")));

        AssertBadInput(await Run("compare", "latest", batches.Newer, "--journal", batches.Journal), $"compare: batch {batches.Newer} is given twice (latest is {batches.Newer})");
        var empty = files.PathOf("empty.db");
        using (new Journal.BatchJournal(empty, TimeProvider.System, TimeSpan.Zero))
        {
        }
        AssertBadInput(await Run("batch", "latest", "--journal", empty), "batch: latest: journal", "holds no batches yet");
        AssertBadInput(await Run("report", "latest", "--journal", empty), "holds no batches yet");
    }

    [Fact]
    public async Task Batches_columns_are_as_wide_as_their_widest_cell_and_stay_aligned()
    {
        var (exit, output, error) = await Run("batches", "--journal", batches.Journal);
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal(3, lines.Count);
        var header = lines[0];
        // The id column is exactly as wide as the longest id (the suffixed one), two spaces before the next column.
        Assert.Equal(Math.Max(batches.Newer.Length, batches.Older.Length) + 2, header.IndexOf("still", StringComparison.Ordinal));
        foreach (var column in new[] { "still", "started (UTC)", "ended (UTC)", "outcome", "phase", "recipe" })
        {
            var at = header.IndexOf(column, StringComparison.Ordinal);
            foreach (var row in lines.Skip(1))
            {
                Assert.True(row.Length > at && row[at - 1] == ' ' && row[at] != ' ', $"'{column}' at {at} in:\n{header}\n{row}");
            }
        }
        Assert.EndsWith(TwoBatches.LongRecipe, lines[1]);
        Assert.Contains(batches.Newer + " ", lines[1]);
    }

    [Fact]
    public async Task Compare_columns_fit_the_ids_and_the_cells()
    {
        var (exit, output, error) = await Run("compare", batches.Older, batches.Newer, "--journal", batches.Journal);
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        // Right-aligned columns: every line ends at the same column, and each batch's column ends where its id ends.
        Assert.Single(lines.Select(l => l.Length).Distinct());
        Assert.EndsWith(batches.Newer, lines[0]);
        var olderEnd = lines[0].IndexOf(batches.Older, StringComparison.Ordinal) + batches.Older.Length;
        var recipe = lines.Single(l => l.StartsWith("recipe", StringComparison.Ordinal));
        Assert.Contains(TwoBatches.LongRecipe, recipe);
        Assert.All(lines.Skip(1), l => Assert.NotEqual(' ', l[olderEnd - 1]));
        Assert.All(lines.Skip(1), l => Assert.Equal(' ', l[olderEnd]));
    }
}
