namespace StillControl.Recipes;

/// <summary>
/// Every rule of the recipe check at its edge: a value just past the limit is refused under the key it concerns (with the words
/// that say why), and the limit itself is accepted. Each row fails when its rule is deleted or its comparison loosened or
/// tightened by one step (the mutations Stryker found surviving).
/// </summary>
public class RecipeBoundaryTests
{
    private static IReadOnlyList<RecipeError> Errors(string json) => RecipeJson.Parse(json).Errors;

    public static TheoryData<string, string, string> Refused => new()
    {
        { """{ "name": "" }""", "name", "" },
        { """{ "interlocks": { "coolingFlowMinimumLitresPerMinute": 1.9 } }""", "interlocks.coolingFlowMinimumLitresPerMinute", "at least" },
        { """{ "interlocks": { "steamPressureTripKilopascals": 0 } }""", "interlocks.steamPressureTripKilopascals", "above 0" },
        { """{ "interlocks": { "steamPressureTripKilopascals": 101 } }""", "interlocks.steamPressureTripKilopascals", "at most" },
        { """{ "interlocks": { "distillateTripCelsius": 0 } }""", "interlocks.distillateTripCelsius", "above 0" },
        { """{ "interlocks": { "distillateTripCelsius": 51 } }""", "interlocks.distillateTripCelsius", "at most" },
        { """{ "interlocks": { "coolingOutTripCelsius": 96 } }""", "interlocks.coolingOutTripCelsius", "at most" },
        { """{ "interlocks": { "coolingOutWarnCelsius": 75, "coolingOutTripCelsius": 75 } }""", "interlocks.coolingOutWarnCelsius", "below interlocks.coolingOutTripCelsius" },
        { """{ "heads": { "cooling": { "channel": "distillate", "targetCelsius": 29, "maximumCelsius": 35.5 } } }""", "heads.cooling.maximumCelsius", "at most" },
        { """{ "hearts": { "cooling": { "channel": "distillate", "targetCelsius": 27, "maximumCelsius": 30.5 } } }""", "hearts.cooling.maximumCelsius", "at most" },
        // Hearts never hotter than tails on the same channel: maximum and target.
        { """{ "tails": { "cooling": { "channel": "distillate", "targetCelsius": 27, "maximumCelsius": 29 } } }""", "hearts.cooling.maximumCelsius", "tails.cooling.maximumCelsius" },
        { """{ "tails": { "cooling": { "channel": "distillate", "targetCelsius": 26, "maximumCelsius": 40 } } }""", "hearts.cooling.targetCelsius", "tails.cooling.targetCelsius" },
        // Strong steam must be stronger than the strongest slow steam (the largest slow maximum, not the smallest).
        { """{ "tails": { "steam": { "valvePercent": 35, "valveMinimumPercent": 30 } } }""", "tails.steam.valvePercent", "" },
        { """{ "loading": { "steam": { "valveMaximumPercent": 45 } }, "tails": { "steam": { "valvePercent": 40, "valveMinimumPercent": 30 } } }""", "tails.steam.valvePercent", "" },
        { """{ "loading": { "coverLayerAtBedSurfaceCelsius": 19 } }""", "loading.coverLayerAtBedSurfaceCelsius", "from 20" },
        { """{ "loading": { "maximumDurationMinutes": 0 } }""", "loading.maximumDurationMinutes", "from 1" },
        { """{ "sealed": { "firstDistillate": { "flowLitresPerMinute": null, "riseAboveCoolingInCelsius": null } } }""", "sealed.firstDistillate", "or both" },
        { """{ "sealed": { "firstDistillate": { "flowLitresPerMinute": 0 } } }""", "sealed.firstDistillate.flowLitresPerMinute", "above 0" },
        { """{ "sealed": { "firstDistillate": { "riseAboveCoolingInCelsius": 0 } } }""", "sealed.firstDistillate.riseAboveCoolingInCelsius", "above 0" },
        { """{ "sealed": { "maximumWaitMinutes": 0 } }""", "sealed.maximumWaitMinutes", "from 1" },
        { """{ "heads": { "receiver": "" } }""", "heads.receiver", "1-40 characters" },
        { """{ "heads": { "receiver": "a234567890123456789012345678901234567890x" } }""", "heads.receiver", "1-40 characters" },
        { """{ "heads": { "maximumDurationMinutes": 0 } }""", "heads.maximumDurationMinutes", "from 1" },
        { """{ "heads": { "end": { "massKilograms": null, "durationMinutes": 20 } } }""", "heads.end.durationMinutes", "below heads.maximumDurationMinutes" },
        { """{ "hearts": { "grades": [] } }""", "hearts.grades", "at least one grade" },
        { """{ "hearts": { "grades": [ { "name": "a", "receiver": "r1", "endBelowStrengthPercentVolume": 60 }, { "name": "a", "receiver": "r2", "endBelowStrengthPercentVolume": 50 } ] } }""", "hearts.grades[1].name", "no other grade" },
        { """{ "hearts": { "grades": [ { "name": " ", "receiver": "r1", "endBelowStrengthPercentVolume": 60 } ] } }""", "hearts.grades[0].name", "non-empty" },
        { """{ "hearts": { "grades": [ { "name": "a", "receiver": "", "endBelowStrengthPercentVolume": 60 } ] } }""", "hearts.grades[0].receiver", "1-40 characters" },
        { """{ "hearts": { "grades": [ { "name": "a", "receiver": "tails", "endBelowStrengthPercentVolume": 60 } ] } }""", "hearts.grades[0].receiver", "tails receiver" },
        // Into the steaming receiver (not otherwise forbidden), and into a forbidden one that steaming does not use.
        { """{ "steaming": { "receiver": "waste" }, "hearts": { "grades": [ { "name": "a", "receiver": "waste", "endBelowStrengthPercentVolume": 60 } ] } }""", "hearts.grades[0].receiver", "steaming receiver" },
        { """{ "steaming": { "receiver": "waste" }, "hearts": { "grades": [ { "name": "a", "receiver": "drain", "endBelowStrengthPercentVolume": 60 } ] } }""", "hearts.grades[0].receiver", "" },
        { """{ "hearts": { "grades": [ { "name": "a", "receiver": "r1", "endBelowStrengthPercentVolume": 0 } ] } }""", "hearts.grades[0].endBelowStrengthPercentVolume", "between 0 and 100" },
        { """{ "hearts": { "grades": [ { "name": "a", "receiver": "r1", "endBelowStrengthPercentVolume": 100 } ] } }""", "hearts.grades[0].endBelowStrengthPercentVolume", "between 0 and 100" },
        { """{ "hearts": { "grades": [ { "name": "a", "receiver": "r1", "endBelowStrengthPercentVolume": 60 }, { "name": "b", "receiver": "r2", "endBelowStrengthPercentVolume": 60 } ] } }""", "hearts.grades[1].endBelowStrengthPercentVolume", "below the previous grade's 60" },
        { """{ "hearts": { "strengthConfirmSeconds": 601 } }""", "hearts.strengthConfirmSeconds", "to 600" },
        { """{ "hearts": { "maximumDurationMinutes": 0 } }""", "hearts.maximumDurationMinutes", "from 1" },
        { """{ "tails": { "receiver": "" } }""", "tails.receiver", "1-40 characters" },
        { """{ "tails": { "endBelowStrengthPercentVolume": -1 } }""", "tails.endBelowStrengthPercentVolume", "" },
        // Tails that end below 0 % vol never end by strength.
        { """{ "tails": { "endBelowStrengthPercentVolume": 0 } }""", "tails.endBelowStrengthPercentVolume", "above 0" },
        { """{ "tails": { "endBelowStrengthPercentVolume": 50 } }""", "tails.endBelowStrengthPercentVolume", "" },
        { """{ "tails": { "maximumDurationMinutes": 0 } }""", "tails.maximumDurationMinutes", "from 1" },
        { """{ "steaming": { "receiver": "" } }""", "steaming.receiver", "1-40 characters" },
        { """{ "steaming": { "minimumDurationMinutes": 19 } }""", "steaming.minimumDurationMinutes", "at least" },
        { """{ "steaming": { "minimumDurationMinutes": 1441 } }""", "steaming.minimumDurationMinutes", "at most" },
        { """{ "coolingControl": { "proportionalPercentPerKelvin": 0 } }""", "coolingControl.proportionalPercentPerKelvin", "above 0" },
        { """{ "coolingControl": { "integralSeconds": 0 } }""", "coolingControl.integralSeconds", "above 0" },
        { """{ "coolingControl": { "valveMinimumPercent": 100 } }""", "coolingControl.valveMinimumPercent", "to 99" },
        { """{ "coolingControl": { "overMaximumConfirmSeconds": -1 } }""", "coolingControl.overMaximumConfirmSeconds", "" },
        { """{ "coolingControl": { "overMaximumConfirmSeconds": 601 } }""", "coolingControl.overMaximumConfirmSeconds", "to 600" },
        { """{ "coolingControl": { "steamCutbackPercentPerSecond": 0 } }""", "coolingControl.steamCutbackPercentPerSecond", "above 0" },
        { """{ "coolingControl": { "condenserApproachCelsius": 0 } }""", "coolingControl.condenserApproachCelsius", "above 0" },
        { """{ "coolingControl": { "condenserApproachCelsius": 15.5 } }""", "coolingControl.condenserApproachCelsius", "at most" },
        { """{ "strength": { "calibrationOffsetPercentVolume": 5.1 } }""", "strength.calibrationOffsetPercentVolume", "" },
        { """{ "strength": { "calibrationOffsetPercentVolume": -5.1 } }""", "strength.calibrationOffsetPercentVolume", "" },
        { """{ "strength": { "filterSeconds": 301 } }""", "strength.filterSeconds", "to 300" },
        { """{ "watchdogs": { "overdueHoldAfterMinutes": 0 } }""", "watchdogs.overdueHoldAfterMinutes", "above 0" },
        { """{ "watchdogs": { "overdueHoldAfterMinutes": 121 } }""", "watchdogs.overdueHoldAfterMinutes", "at most" },
        { """{ "watchdogs": { "steamStarvedMinutes": 0 } }""", "watchdogs.steamStarvedMinutes", "above 0" },
        { """{ "watchdogs": { "steamStarvedMinutes": 61 } }""", "watchdogs.steamStarvedMinutes", "at most" },
        { """{ "sensors": { "steam": { "minimumValue": 100, "maximumValue": 100 } } }""", "sensors.steam.minimumValue", "below maximumValue" },
        // The steam probe's default range is -20 to 180 °C: a range reaching further than its own width below, or twice its top, is refused.
        { """{ "sensors": { "steam": { "minimumValue": -221 } } }""", "sensors.steam.maximumValue", "a range within -220 to 360 °C" },
        { """{ "sensors": { "steam": { "maximumValue": 361 } } }""", "sensors.steam.maximumValue", "a range within" },
        { """{ "sensors": { "steam": { "maximumRatePerSecond": 151 } } }""", "sensors.steam.maximumRatePerSecond", "at most 150" },
        { """{ "sensors": { "steam": { "maximumRatePerSecond": null } } }""", "sensors.steam.maximumRatePerSecond", "above 0" },
        { """{ "sensors": { "steam": { "staleSeconds": 0 } } }""", "sensors.steam.staleSeconds", "above 0" },
        { """{ "sensors": { "steam": { "staleSeconds": 31 } } }""", "sensors.steam.staleSeconds", "at most" },
        { """{ "sensors": { "steam": { "staleSeconds": 3, "stuckSeconds": 3 } } }""", "sensors.steam.stuckSeconds", "longer than staleSeconds" },
        { """{ "sensors": { "steam": { "stuckSeconds": 601 } } }""", "sensors.steam.stuckSeconds", "at most" },
        { """{ "sensors": { "steam": { "stuckSeconds": null } } }""", "sensors.steam.stuckSeconds", "above staleSeconds" },
        { """{ "hearts": { "steam": { "rule": "strong" } } }""", "hearts.steam.rule", "缓汽蒸馏" },
        { """{ "tails": { "steam": { "rule": "slow" } } }""", "tails.steam.rule", "大汽追尾" },
        { """{ "hearts": { "steam": { "valveMinimumPercent": -1 } } }""", "hearts.steam.valvePercent", "" },
        { """{ "hearts": { "steam": { "valveMinimumPercent": 26 } } }""", "hearts.steam.valvePercent", "" },
        { """{ "hearts": { "steam": { "valvePercent": 36 } } }""", "hearts.steam.valvePercent", "" },
        { """{ "tails": { "steam": { "valveMaximumPercent": 101 } } }""", "tails.steam.valvePercent", "" },
        { """{ "hearts": { "steam": { "pressureMaximumKilopascals": 0 } } }""", "hearts.steam.pressureMaximumKilopascals", "" },
        { """{ "interlocks": { "steamPressureTripKilopascals": 50 } }""", "tails.steam.pressureMaximumKilopascals", "" },
        { """{ "hearts": { "steam": { "rampPercentPerSecond": 0 } } }""", "hearts.steam.rampPercentPerSecond", "above 0" },
        { """{ "hearts": { "steam": { "valveMaximumPercent": 51 } } }""", "hearts.steam.valveMaximumPercent", "at most" },
        { """{ "loading": { "steam": { "pressureMaximumKilopascals": 51 } } }""", "loading.steam.pressureMaximumKilopascals", "at most" },
        { """{ "hearts": { "steam": { "pressureMaximumKilopascals": 31 } } }""", "hearts.steam.pressureMaximumKilopascals", "at most" },
        { """{ "hearts": { "steam": { "rampPercentPerSecond": 2.1 } } }""", "hearts.steam.rampPercentPerSecond", "at most" },
        { """{ "tails": { "steam": { "pressureMaximumKilopascals": 51 } } }""", "tails.steam.pressureMaximumKilopascals", "at most" },
        { """{ "tails": { "steam": { "rampPercentPerSecond": 10.1 } } }""", "tails.steam.rampPercentPerSecond", "at most" },
        { """{ "hearts": { "steam": { "distillateFlowTargetKilogramsPerMinute": 0 } } }""", "hearts.steam.distillateFlowTargetKilogramsPerMinute", "" },
        { """{ "hearts": { "steam": { "distillateFlowTargetKilogramsPerMinute": 20.1 } } }""", "hearts.steam.distillateFlowTargetKilogramsPerMinute", "" },
        { """{ "tails": { "cooling": { "channel": "condenser", "targetCelsius": 35, "maximumCelsius": 40 } } }""", "tails.cooling.channel", "" },
        { """{ "tails": { "cooling": { "channel": "distillate", "targetCelsius": 35, "maximumCelsius": 50 } } }""", "tails.cooling.maximumCelsius", "below interlocks.distillateTripCelsius" },
        { """{ "tails": { "cooling": { "channel": "cooling-out", "targetCelsius": 35, "maximumCelsius": 70 } } }""", "tails.cooling.maximumCelsius", "below interlocks.coolingOutWarnCelsius" },
        { """{ "tails": { "cooling": { "channel": "distillate", "targetCelsius": 9.9, "maximumCelsius": 40 } } }""", "tails.cooling.targetCelsius", "at least" },
        { """{ "tails": { "cooling": { "channel": "distillate", "targetCelsius": 40, "maximumCelsius": 40 } } }""", "tails.cooling.targetCelsius", "below maximumCelsius" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_value_past_its_limit_is_refused_under_its_key(string json, string path, string words)
    {
        var errors = Errors(json);
        Assert.True(errors.Any(e => e.Path == path && e.Accepted.Contains(words, StringComparison.Ordinal)),
            $"expected {path} ({words}); got: {string.Join(" | ", errors)}");
    }

    public static TheoryData<string> Accepted => new()
    {
        """{ "interlocks": { "coolingFlowMinimumLitresPerMinute": 2, "steamPressureTripKilopascals": 100, "coolingOutTripCelsius": 95 } }""",
        """{ "heads": { "cooling": { "channel": "distillate", "targetCelsius": 29, "maximumCelsius": 35 } } }""",
        """{ "tails": { "cooling": { "channel": "distillate", "targetCelsius": 27, "maximumCelsius": 30 } } }""",
        // On another channel, hearts and tails are not compared.
        """{ "tails": { "cooling": { "channel": "cooling-out", "targetCelsius": 25, "maximumCelsius": 29 } } }""",
        """{ "tails": { "cooling": { "channel": "cooling-out", "targetCelsius": 35, "maximumCelsius": 69.9 } } }""",
        """{ "tails": { "cooling": { "channel": "cooling-out", "targetCelsius": 10, "maximumCelsius": 40 } } }""",
        """{ "tails": { "steam": { "valvePercent": 36, "valveMinimumPercent": 30 } } }""",
        """{ "loading": { "coverLayerAtBedSurfaceCelsius": 20, "steam": { "pressureMaximumKilopascals": 50 } } }""",
        """{ "sealed": { "firstDistillate": { "flowLitresPerMinute": null, "riseAboveCoolingInCelsius": 5 } } }""",
        """{ "heads": { "receiver": "a234567890123456789012345678901234567890", "end": { "massKilograms": null, "durationMinutes": 19 } } }""",
        """{ "hearts": { "grades": [ { "name": "a", "receiver": "r1", "endBelowStrengthPercentVolume": 99.9 } ], "strengthConfirmSeconds": 600 } }""",
        """{ "tails": { "endBelowStrengthPercentVolume": 49.9 } }""",
        """{ "steaming": { "minimumDurationMinutes": 20 } }""",
        """{ "coolingControl": { "valveMinimumPercent": 99, "overMaximumConfirmSeconds": 600, "condenserApproachCelsius": 15 } }""",
        """{ "strength": { "calibrationOffsetPercentVolume": 5, "filterSeconds": 300 } }""",
        """{ "strength": { "calibrationOffsetPercentVolume": -5 } }""",
        """{ "watchdogs": { "overdueHoldAfterMinutes": 120, "steamStarvedMinutes": 60 } }""",
        """{ "sensors": { "steam": { "minimumValue": -220, "maximumValue": 360, "maximumRatePerSecond": 150, "staleSeconds": 30, "stuckSeconds": 600 } } }""",
        """{ "hearts": { "steam": { "valveMinimumPercent": 25, "valvePercent": 25, "valveMaximumPercent": 25, "pressureMaximumKilopascals": 30, "rampPercentPerSecond": 2, "distillateFlowTargetKilogramsPerMinute": 20 } } }""",
        """{ "hearts": { "steam": { "valveMinimumPercent": 0 } } }""",
        """{ "tails": { "steam": { "valveMaximumPercent": 100, "pressureMaximumKilopascals": 50, "rampPercentPerSecond": 10 } } }""",
    };

    /// <summary>The JSON layer refuses a null object before the validator sees it; a recipe built in code can still carry one.</summary>
    [Fact]
    public void Missing_parts_of_a_recipe_built_in_code_are_named()
    {
        var broken = DefaultRecipe.Create();
        broken.Watchdogs = null!;
        broken.Hearts.Steam = null!;
        broken.Hearts.Cooling = null!;
        broken.Hearts.Grades = [null!];
        broken.Sensors.Steam = null!;
        var errors = RecipeValidator.Validate(broken);
        Assert.Contains(errors, e => e.Path == "watchdogs" && e.Accepted.Contains("overdueHoldAfterMinutes"));
        Assert.Contains(errors, e => e.Path == "hearts.steam" && e.Accepted == "a steam setting");
        Assert.Contains(errors, e => e.Path == "hearts.cooling" && e.Accepted == "a cooling threshold");
        Assert.Contains(errors, e => e.Path == "hearts.grades[0]" && e.Accepted == "a grade object");
        Assert.Contains(errors, e => e.Path == "sensors.steam" && e.Accepted.Contains("minimumValue"));
    }

    /// <summary>
    /// A threshold on a channel the still does not measure is named for its channel alone: it is not then judged against the trip
    /// of a channel it does not measure (a maximum of 80 would otherwise also be "above the cooling-water outlet warning").
    /// </summary>
    [Fact]
    public void A_cooling_threshold_on_an_unknown_channel_is_named_for_its_channel_only()
    {
        var errors = Errors("""{ "tails": { "cooling": { "channel": "condenser", "targetCelsius": 35, "maximumCelsius": 80 } } }""");
        var error = Assert.Single(errors, e => e.Path.StartsWith("tails.cooling", StringComparison.Ordinal));
        Assert.Equal("tails.cooling.channel", error.Path);
    }

    [Theory]
    [MemberData(nameof(Accepted))]
    public void A_value_at_its_limit_is_accepted(string json) => Assert.Empty(Errors(json));
}
