namespace StillControl.Recipes;

public class RecipeJsonTests
{
    private static IReadOnlyList<RecipeError> Errors(string json) => RecipeJson.Parse(json).Errors;

    [Fact]
    public void The_default_recipe_is_valid_and_survives_a_round_trip()
    {
        var recipe = DefaultRecipe.Create();
        Assert.Empty(RecipeValidator.Validate(recipe));
        var json = RecipeJson.Serialize(recipe);
        var (parsed, errors) = RecipeJson.Parse(json);
        Assert.Empty(errors);
        Assert.Equal(json, RecipeJson.Serialize(parsed!));
    }

    [Fact]
    public void The_default_recipe_carries_the_process_figures()
    {
        var r = DefaultRecipe.Create();
        Assert.Equal(0.5, r.Heads.End.MassKilograms);
        Assert.Equal(45, r.Steaming.MinimumDurationMinutes);
        Assert.True(r.Hearts.Cooling.MaximumCelsius <= 30, "hearts not above 30 °C");
        Assert.InRange(r.Heads.Cooling.TargetCelsius, 28, 32);
        Assert.True(r.Tails.Cooling.TargetCelsius > r.Hearts.Cooling.TargetCelsius, "tails run hotter");
        Assert.Equal(SteamRules.Slow, r.Hearts.Steam.Rule);
        Assert.Equal(SteamRules.Strong, r.Tails.Steam.Rule);
        Assert.True(r.Hearts.Steam.PressureMaximumKilopascals <= 30, "≤ 0.03 MPa while distillate runs");
    }

    [Fact]
    public void A_recipe_names_only_what_it_changes()
    {
        var (recipe, errors) = RecipeJson.Parse("""{ "name": "cool-hearts", "hearts": { "cooling": { "targetCelsius": 24, "maximumCelsius": 28 } }, "interlocks": { "distillateTripCelsius": 48 } }""");
        Assert.Empty(errors);
        Assert.Equal(24, recipe!.Hearts.Cooling.TargetCelsius);
        Assert.Equal("distillate", recipe.Hearts.Cooling.Channel);
        Assert.Equal(2, recipe.Hearts.Grades.Count);
        Assert.Equal(0.5, recipe.Heads.End.MassKilograms);
    }

    [Fact]
    public void Grades_given_in_a_recipe_replace_the_default_grades()
    {
        var (recipe, errors) = RecipeJson.Parse("""{ "hearts": { "grades": [ { "name": "one", "receiver": "r1", "endBelowStrengthPercentVolume": 55 } ] } }""");
        Assert.Empty(errors);
        Assert.Single(recipe!.Hearts.Grades);
    }

    [Fact]
    public void An_unknown_key_is_named_with_the_keys_accepted_there()
    {
        var error = Assert.Single(Errors("""{ "hearts": { "grade": [] } }"""));
        Assert.Equal("hearts.grade", error.Path);
        Assert.Contains("grades", error.Accepted);
        Assert.Contains("strengthConfirmSeconds", error.Accepted);
    }

    [Fact]
    public void A_value_of_the_wrong_kind_is_named()
    {
        var error = Assert.Single(Errors("""{ "tails": { "maximumDurationMinutes": "forty" } }"""));
        Assert.Equal("tails.maximumDurationMinutes", error.Path);
        Assert.Equal("\"forty\"", error.Value);
        Assert.Equal("a number", error.Accepted);
    }

    [Fact]
    public void Text_that_is_not_JSON_is_refused_with_its_line()
    {
        var error = Assert.Single(Errors("{\n  \"name\": \"x\",\n  oops\n}"));
        Assert.Equal("line 3", error.Path);
    }

    [Fact]
    public void Strong_steam_while_distilling_is_refused()
    {
        var error = Assert.Single(Errors("""{ "hearts": { "steam": { "rule": "strong" } } }"""));
        Assert.Equal("hearts.steam.rule", error.Path);
        Assert.Contains("\"slow\"", error.Accepted);
    }

    [Fact]
    public void Strong_steam_that_is_not_stronger_than_slow_steam_is_refused()
    {
        var errors = Errors("""{ "tails": { "steam": { "valvePercent": 30, "valveMinimumPercent": 10 } } }""");
        Assert.Contains(errors, e => e.Path == "tails.steam.valvePercent" && e.Accepted.Contains("above every slow phase"));
    }

    [Fact]
    public void Hearts_grades_must_run_from_strong_to_weak()
    {
        var errors = Errors("""{ "hearts": { "grades": [ { "name": "a", "receiver": "r1", "endBelowStrengthPercentVolume": 50 }, { "name": "b", "receiver": "r2", "endBelowStrengthPercentVolume": 60 } ] } }""");
        var error = Assert.Single(errors);
        Assert.Equal("hearts.grades[1].endBelowStrengthPercentVolume", error.Path);
        Assert.Equal("60", error.Value);
    }

    [Fact]
    public void A_cooling_maximum_at_or_above_its_trip_is_refused()
    {
        var error = Assert.Single(Errors("""{ "tails": { "cooling": { "maximumCelsius": 52 } } }"""));
        Assert.Equal("tails.cooling.maximumCelsius", error.Path);
        Assert.Contains("interlocks.distillateTripCelsius (50)", error.Accepted);
    }

    [Fact]
    public void A_cooling_channel_must_be_one_the_still_measures()
    {
        var error = Assert.Single(Errors("""{ "heads": { "cooling": { "channel": "vapour" } } }"""));
        Assert.Equal("heads.cooling.channel", error.Path);
        Assert.Contains("cooling-out", error.Accepted);
    }

    [Fact]
    public void Heads_must_not_share_a_receiver_with_hearts()
    {
        var errors = Errors("""{ "heads": { "receiver": "hearts-1" } }""");
        Assert.Contains(errors, e => e.Path == "hearts.grades[0].receiver" && e.Accepted.Contains("the heads never reach the hearts"));
    }

    [Fact]
    public void Heads_need_an_end()
    {
        var error = Assert.Single(Errors("""{ "heads": { "end": { "massKilograms": null } } }"""));
        Assert.Equal("heads.end", error.Path);
    }

    [Fact]
    public void A_flow_target_outside_heads_and_hearts_is_refused()
    {
        var error = Assert.Single(Errors("""{ "loading": { "steam": { "distillateFlowTargetKilogramsPerMinute": 2 } } }"""));
        Assert.Equal("loading.steam.distillateFlowTargetKilogramsPerMinute", error.Path);
    }

    [Fact]
    public void Sensor_limits_are_checked_per_channel()
    {
        var error = Assert.Single(Errors("""{ "sensors": { "vapour": { "minimumValue": 200 } } }"""));
        Assert.Equal("sensors.vapour.minimumValue", error.Path);
        Assert.Equal(15, RecipeJson.Parse("""{ "sensors": { "vapour": { "staleSeconds": 4 } } }""").Recipe!.Sensors.Vapour.MaximumRatePerSecond);
    }
}
