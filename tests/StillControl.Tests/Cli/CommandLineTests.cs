using System.Text.Json;

namespace StillControl.Cli;

public class CommandLineTests
{
    private static async Task<(int Exit, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CommandLine.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private static void AssertBadInput((int Exit, string Output, string Error) result, params string[] expected)
    {
        Assert.Equal(2, result.Exit);
        foreach (var text in expected) Assert.Contains(text, result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task Recipe_show_prints_the_effective_recipe_as_text_and_as_JSON()
    {
        var text = await Run("recipe", "show");
        Assert.Equal(0, text.Exit);
        Assert.Contains("hearts", text.Output);
        Assert.Contains("strong", text.Output);
        var json = await Run("recipe", "show", "--json");
        Assert.Equal(0, json.Exit);
        Assert.Equal("strong-aroma-default", JsonDocument.Parse(json.Output).RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Recipe_check_accepts_a_good_recipe_and_names_what_is_wrong_in_a_bad_one()
    {
        using var files = new TestFiles();
        var good = files.Write("good.json", """{ "name": "mine", "tails": { "maximumDurationMinutes": 30 } }""");
        var check = await Run("recipe", "check", good);
        Assert.Equal(0, check.Exit);
        Assert.Contains("valid (mine)", check.Output);

        var bad = files.Write("bad.json", """{ "hearts": { "steam": { "rule": "strong" } }, "tails": { "endBelowStrengthPercentVolume": -1 } }""");
        AssertBadInput(await Run("recipe", "check", bad), bad, "hearts.steam.rule = \"strong\"", "tails.endBelowStrengthPercentVolume = -1");
        AssertBadInput(await Run("recipe", "check", files.PathOf("missing.json")), "missing.json", "cannot be read");
    }

    [Fact]
    public async Task Bad_simulate_arguments_are_refused_with_what_is_accepted()
    {
        using var files = new TestFiles();
        AssertBadInput(await Run("simulate", "--speed", "fast"), "--speed = 'fast'", "'max' or a number");
        AssertBadInput(await Run("simulate", "--seed", "x"), "--seed = 'x'");
        AssertBadInput(await Run("simulate", "--colour"), "unknown option '--colour'", "--scenario");
        var scenario = files.Write("s.json", """{ "faults": [ { "kind": "sensor-stuck", "channel": "nowhere", "atSeconds": 1 } ] }""");
        AssertBadInput(await Run("simulate", "--scenario", scenario, "--journal", files.PathOf("j.db")), "scenario", "faults[0].channel = \"nowhere\"");
        AssertBadInput(await Run("simulate", "--resume", "--journal", files.PathOf("none.db")), "none.db", "no such file");
        AssertBadInput(await Run("simulate", "--period-ms", "900", "--journal", files.PathOf("p.db")), "Control:PeriodMilliseconds = 900");
        AssertBadInput(await Run("launch"), "unknown command 'launch'");
    }

    [Fact]
    public async Task Batches_and_batch_show_what_a_simulation_kept()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        var simulate = await Run("simulate", "--journal", journal, "--mqtt", "off");
        Assert.Equal(0, simulate.Exit);
        Assert.Contains("Simulation ended: batch complete", simulate.Output);

        var list = await Run("batches", "--journal", journal, "--json");
        Assert.Equal(0, list.Exit);
        var batch = Assert.Single(JsonDocument.Parse(list.Output).RootElement.EnumerateArray().ToList());
        Assert.Equal("completed", batch.GetProperty("outcome").GetString());
        var id = batch.GetProperty("id").GetString()!;

        var shown = await Run("batch", id, "--journal", journal);
        Assert.Equal(0, shown.Exit);
        Assert.Contains("hearts-1", shown.Output);
        Assert.Contains("operator actions", shown.Output);
        var json = JsonDocument.Parse((await Run("batch", id, "--journal", journal, "--json")).Output).RootElement;
        Assert.Equal(6, json.GetProperty("phases").GetArrayLength());
        Assert.Contains(json.GetProperty("operatorActions").EnumerateArray(), a => a.GetProperty("command").GetString() == "seal");

        AssertBadInput(await Run("batch", "nope", "--journal", journal), "no batch 'nope'");
        AssertBadInput(await Run("simulate", "--resume", "--journal", journal), "no unfinished batch");
    }
}
