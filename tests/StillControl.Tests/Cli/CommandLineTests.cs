using System.Text.Json;

namespace StillControl.Cli;

public class CommandLineTests
{
    private static Task<(int Exit, string Output, string Error)> Run(params string[] args) => InProcess.Run(args);

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

    /// <summary>The recipes of the safety review that defeated the seed's rules: each is refused, every violation named with the limit and why.</summary>
    [Theory]
    [InlineData("""{ "hearts": { "steam": { "valvePercent": 98, "valveMaximumPercent": 98, "pressureMaximumKilopascals": 69, "rampPercentPerSecond": 100 } } }""",
        "hearts.steam.valveMaximumPercent = 98: at most 50 %", "hearts.steam.pressureMaximumKilopascals = 69: at most 30 kPa", "hearts.steam.rampPercentPerSecond = 100: at most 2 %/s")]
    [InlineData("""{ "hearts": { "cooling": { "targetCelsius": 85, "maximumCelsius": 95 } }, "interlocks": { "distillateTripCelsius": 99 } }""",
        "hearts.cooling.maximumCelsius = 95: at most 30 °C", "interlocks.distillateTripCelsius = 99: at most 50 °C", "hearts.cooling.maximumCelsius = 95: at most tails.cooling.maximumCelsius")]
    [InlineData("""{ "hearts": { "cooling": { "targetCelsius": 26, "maximumCelsius": 29 } }, "tails": { "cooling": { "targetCelsius": 22, "maximumCelsius": 28 } } }""",
        "hearts.cooling.maximumCelsius = 29: at most tails.cooling.maximumCelsius (28)", "hearts.cooling.targetCelsius = 26: at most tails.cooling.targetCelsius (22)")]
    [InlineData("""{ "interlocks": { "steamPressureTripKilopascals": 1e308, "coolingOutTripCelsius": 1e308, "coolingFlowMinimumLitresPerMinute": 0.0001 } }""",
        "interlocks.steamPressureTripKilopascals = 1E+308: at most 100 kPa", "interlocks.coolingOutTripCelsius = 1E+308: at most 95 °C", "interlocks.coolingFlowMinimumLitresPerMinute = 0.0001: at least 2 L/min")]
    [InlineData("""{ "sensors": { "distillate": { "minimumValue": -20, "maximumValue": 110, "staleSeconds": 1e9, "stuckSeconds": null, "maximumRatePerSecond": null } } }""",
        "sensors.distillate.staleSeconds = 1E+09: at most 30 s", "sensors.distillate.stuckSeconds = null: a number of seconds", "sensors.distillate.maximumRatePerSecond = null")]
    [InlineData("""{ "heads": { "end": { "massKilograms": 1e-9 } }, "steaming": { "minimumDurationMinutes": 1e-6 } }""",
        "heads.end.massKilograms = 1E-09: at least 0.25 kg", "steaming.minimumDurationMinutes = 1E-06: at least 20 min")]
    [InlineData("""{ "hearts": { "grades": [ { "name": "hearts-1", "receiver": "drain", "endBelowStrengthPercentVolume": 60 } ] } }""",
        "hearts.grades[0].receiver = \"drain\": a receiver other than the steaming receiver 'drain'")]
    [InlineData("""{ "strength": { "calibrationOffsetPercentVolume": 20 } }""", "strength.calibrationOffsetPercentVolume = 20: from -5 % vol to 5 % vol")]
    public async Task Recipe_check_refuses_a_recipe_outside_the_safety_envelope_naming_every_violation(string recipe, params string[] expected)
    {
        using var files = new TestFiles();
        var path = files.Write("unsafe.json", recipe);
        var result = await Run("recipe", "check", path);
        AssertBadInput(result, [path, .. expected]);
        Assert.Contains("safety envelope:", result.Error);
    }

    [Fact]
    public async Task A_recipe_file_larger_than_a_recipe_is_refused_before_it_is_read()
    {
        using var files = new TestFiles();
        var path = files.Write("huge.json", "{ \"name\": \"" + new string('x', Recipes.SafetyEnvelope.RecipeFileMaximumBytes) + "\" }");
        AssertBadInput(await Run("recipe", "check", path), path, $"larger than the {Recipes.SafetyEnvelope.RecipeFileMaximumBytes} bytes a recipe file may have");
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

    [Theory]
    [InlineData("""{ "Mqtt": { "Hots": "broker.plant" } }""", "Mqtt:Hots: unknown key 'Hots' under Mqtt; accepted: Enabled, Host, Port")]
    [InlineData("""{ "Control": { "PeriodMilliseconds": "fast" } }""", "Control:PeriodMilliseconds = \"fast\": a whole number")]
    [InlineData("""{ "Mqtt": { "Port": "abc" } }""", "Mqtt:Port = \"abc\": a whole number")]
    [InlineData("""{ "Hardware": { "Inputs": { "vapour": { "Pin": "seventeen" } } } }""", "Hardware:Inputs:vapour:Pin = \"seventeen\": a whole number")]
    [InlineData("""{ "Stil": { "Name": "x" } }""", "Stil:Name: unknown section 'Stil'; accepted: Still, Hardware")]
    public async Task A_misspelled_key_or_a_value_of_the_wrong_type_is_exit_2_naming_it(string config, string expected)
    {
        using var files = new TestFiles();
        var path = files.Write("config.json", config);
        AssertBadInput(await Run("run", "--config", path, "--journal", files.PathOf("j.db")), expected);
        Assert.False(File.Exists(files.PathOf("j.db")), "nothing was opened before the configuration was checked");
    }

    [Fact]
    public async Task Options_of_the_wrong_type_are_exit_2_too()
    {
        using var files = new TestFiles();
        AssertBadInput(await Run("simulate", "--mqtt", "127.0.0.1:abc", "--journal", files.PathOf("j.db")), "Mqtt:Port = \"abc\": a whole number");
        AssertBadInput(await Run("simulate", "--period-ms", "abc", "--journal", files.PathOf("j.db")), "Control:PeriodMilliseconds = \"abc\": a whole number");
        AssertBadInput(await Run("batches", "--journal", files.PathOf("none.db"), "--to", "9999-12-31"), "none.db");
    }

    [Fact]
    public void A_configured_list_replaces_the_default_and_only_STILLCONTROL_variables_count()
    {
        using var files = new TestFiles();
        var host = Hosting.StillHost.Build([], new Dictionary<string, string?> { ["Mqtt:RemoteCommands:0"] = "hold", ["Journal:Path"] = files.PathOf("j.db") },
            Recipes.DefaultRecipe.Create(), new Hosting.SimulationSetup(new Simulation.Scenario(), 1, null, false, DateTimeOffset.UtcNow, null, TimeSpan.FromMinutes(1), false),
            Microsoft.Extensions.Logging.LogLevel.Error);
        using (host)
        {
            var options = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Microsoft.Extensions.Options.IOptions<Telemetry.MqttOptions>>(host.Services).Value;
            Assert.Equal(["hold"], options.RemoteCommands);
        }
        // An unprefixed variable is no configuration: the host never sees it.
        Environment.SetEnvironmentVariable("Mqtt__Host", "10.9.9.9");
        try
        {
            using var second = Hosting.StillHost.Build([], new Dictionary<string, string?> { ["Journal:Path"] = files.PathOf("k.db") },
                Recipes.DefaultRecipe.Create(), new Hosting.SimulationSetup(new Simulation.Scenario(), 1, null, false, DateTimeOffset.UtcNow, null, TimeSpan.FromMinutes(1), false),
                Microsoft.Extensions.Logging.LogLevel.Error);
            var options = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Microsoft.Extensions.Options.IOptions<Telemetry.MqttOptions>>(second.Services).Value;
            Assert.Null(options.Host);
        }
        finally
        {
            Environment.SetEnvironmentVariable("Mqtt__Host", null);
        }
    }

    [Fact]
    public async Task Review_outputs_to_a_folder_or_an_unwritable_path_are_bad_input()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        Assert.Equal(0, (await Run("simulate", "--journal", journal, "--mqtt", "off")).Exit);
        var id = JsonDocument.Parse((await Run("batches", "--journal", journal, "--json")).Output).RootElement[0].GetProperty("id").GetString()!;
        AssertBadInput(await Run("report", id, "--journal", journal, "--out", files.Folder), "is a folder");
        AssertBadInput(await Run("export", id, "--journal", journal, "--format", "json", "--out", files.Folder), "is a folder");
        AssertBadInput(await Run("report", id, "--journal", journal, "--out", "/proc/no/such/dir/r.html"), "cannot be written");
        var all = await Run("batches", "--journal", journal, "--to", "9999-12-31", "--json");
        Assert.Equal(0, all.Exit);
        Assert.Single(JsonDocument.Parse(all.Output).RootElement.EnumerateArray());
    }
}
