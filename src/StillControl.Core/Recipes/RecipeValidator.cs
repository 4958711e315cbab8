using StillControl.Process;

namespace StillControl.Recipes;

/// <summary>Checks a recipe against the process's rules before any batch runs on it.</summary>
public static class RecipeValidator
{
    private static readonly Phase[] SlowPhases = [Phase.Loading, Phase.Sealed, Phase.Heads, Phase.Hearts];
    private static readonly Phase[] StrongPhases = [Phase.Tails, Phase.Steaming];

    public static IReadOnlyList<RecipeError> Validate(Recipe recipe)
    {
        var errors = new List<RecipeError>();
        void Fail(string path, object? value, string accepted) => errors.Add(new RecipeError(path, Show(value), accepted));

        if (string.IsNullOrWhiteSpace(recipe.Name))
        {
            Fail("name", recipe.Name, "a non-empty name");
        }

        var interlocks = recipe.Interlocks;
        Positive("interlocks.coolingFlowMinimumLitresPerMinute", interlocks.CoolingFlowMinimumLitresPerMinute, errors);
        Positive("interlocks.steamPressureTripKilopascals", interlocks.SteamPressureTripKilopascals, errors);
        Positive("interlocks.distillateTripCelsius", interlocks.DistillateTripCelsius, errors);
        if (!(interlocks.CoolingOutWarnCelsius < interlocks.CoolingOutTripCelsius))
        {
            Fail("interlocks.coolingOutWarnCelsius", interlocks.CoolingOutWarnCelsius, $"below interlocks.coolingOutTripCelsius ({Show(interlocks.CoolingOutTripCelsius)})");
        }

        foreach (var phase in SlowPhases.Concat(StrongPhases))
        {
            ValidateSteam(phase, recipe.SteamFor(phase), recipe, errors);
            ValidateCooling(phase, recipe.CoolingFor(phase), recipe, errors);
        }

        // 缓汽蒸馏，大汽追尾: strong steam must really be stronger than anything slow steam may reach.
        var slowCeiling = SlowPhases.Max(p => recipe.SteamFor(p).ValveMaximumPercent);
        foreach (var phase in StrongPhases)
        {
            var steam = recipe.SteamFor(phase);
            if (steam.ValvePercent <= slowCeiling)
            {
                Fail($"{phase.Name()}.steam.valvePercent", steam.ValvePercent,
                    $"above every slow phase's valveMaximumPercent (highest is {Show(slowCeiling)}): strong steam chases the tails");
            }
        }

        var loading = recipe.Loading;
        InRange("loading.coverLayerAtBedSurfaceCelsius", loading.CoverLayerAtBedSurfaceCelsius, 20, 100, errors);
        Positive("loading.maximumDurationMinutes", loading.MaximumDurationMinutes, errors);

        var first = recipe.Sealed.FirstDistillate;
        if (first.FlowLitresPerMinute is null && first.RiseAboveCoolingInCelsius is null)
        {
            Fail("sealed.firstDistillate", "both null", "flowLitresPerMinute or riseAboveCoolingInCelsius (or both)");
        }
        if (first.FlowLitresPerMinute is { } flow)
        {
            Positive("sealed.firstDistillate.flowLitresPerMinute", flow, errors);
        }
        if (first.RiseAboveCoolingInCelsius is { } rise)
        {
            Positive("sealed.firstDistillate.riseAboveCoolingInCelsius", rise, errors);
        }
        Positive("sealed.maximumWaitMinutes", recipe.Sealed.MaximumWaitMinutes, errors);

        var heads = recipe.Heads;
        Receiver("heads.receiver", heads.Receiver, errors);
        if (heads.End.MassKilograms is null && heads.End.VolumeLitres is null && heads.End.DurationMinutes is null)
        {
            Fail("heads.end", "all null", "at least one of massKilograms, volumeLitres, durationMinutes");
        }
        if (heads.End.MassKilograms is { } mass) Positive("heads.end.massKilograms", mass, errors);
        if (heads.End.VolumeLitres is { } volume) Positive("heads.end.volumeLitres", volume, errors);
        if (heads.End.DurationMinutes is { } minutes) Positive("heads.end.durationMinutes", minutes, errors);

        var hearts = recipe.Hearts;
        if (hearts.Grades.Count == 0)
        {
            Fail("hearts.grades", "[]", "at least one grade");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        double previous = 100;
        for (var i = 0; i < hearts.Grades.Count; i++)
        {
            var grade = hearts.Grades[i];
            var path = $"hearts.grades[{i}]";
            if (grade is null)
            {
                Fail(path, null, "a grade object");
                continue;
            }
            if (string.IsNullOrWhiteSpace(grade.Name) || !names.Add(grade.Name))
            {
                Fail($"{path}.name", grade.Name, "a non-empty name used by no other grade");
            }
            Receiver($"{path}.receiver", grade.Receiver, errors);
            if (grade.Receiver == heads.Receiver)
            {
                Fail($"{path}.receiver", grade.Receiver, $"a receiver other than the heads receiver '{heads.Receiver}': heads must not reach the hearts");
            }
            if (grade.Receiver == recipe.Tails.Receiver)
            {
                Fail($"{path}.receiver", grade.Receiver, $"a receiver other than the tails receiver '{recipe.Tails.Receiver}'");
            }
            if (!(grade.EndBelowStrengthPercentVolume > 0 && grade.EndBelowStrengthPercentVolume < previous))
            {
                Fail($"{path}.endBelowStrengthPercentVolume", grade.EndBelowStrengthPercentVolume,
                    i == 0 ? "between 0 and 100 % vol" : $"above 0 and below the previous grade's {Show(previous)} % vol (grades run from strong to weak)");
            }
            previous = grade.EndBelowStrengthPercentVolume;
        }
        NonNegative("hearts.strengthConfirmSeconds", hearts.StrengthConfirmSeconds, errors);

        var tails = recipe.Tails;
        Receiver("tails.receiver", tails.Receiver, errors);
        if (!(tails.EndBelowStrengthPercentVolume > 0 && tails.EndBelowStrengthPercentVolume < previous))
        {
            Fail("tails.endBelowStrengthPercentVolume", tails.EndBelowStrengthPercentVolume, $"above 0 and below the last hearts grade's end ({Show(previous)} % vol)");
        }
        Positive("tails.maximumDurationMinutes", tails.MaximumDurationMinutes, errors);

        Receiver("steaming.receiver", recipe.Steaming.Receiver, errors);
        Positive("steaming.minimumDurationMinutes", recipe.Steaming.MinimumDurationMinutes, errors);

        var cooling = recipe.CoolingControl;
        Positive("coolingControl.proportionalPercentPerKelvin", cooling.ProportionalPercentPerKelvin, errors);
        Positive("coolingControl.integralSeconds", cooling.IntegralSeconds, errors);
        InRange("coolingControl.valveMinimumPercent", cooling.ValveMinimumPercent, 0, 99, errors);
        NonNegative("coolingControl.overMaximumConfirmSeconds", cooling.OverMaximumConfirmSeconds, errors);
        Positive("coolingControl.steamCutbackPercentPerSecond", cooling.SteamCutbackPercentPerSecond, errors);

        InRange("strength.calibrationOffsetPercentVolume", recipe.Strength.CalibrationOffsetPercentVolume, -20, 20, errors);
        NonNegative("strength.filterSeconds", recipe.Strength.FilterSeconds, errors);

        foreach (var channel in Channels.All)
        {
            var limits = recipe.Sensors[channel];
            var path = $"sensors.{channel.Name()}";
            if (limits is null)
            {
                Fail(path, null, "an object with minimumValue, maximumValue, staleSeconds");
                continue;
            }
            if (!(limits.MinimumValue < limits.MaximumValue))
            {
                Fail($"{path}.minimumValue", limits.MinimumValue, $"below maximumValue ({Show(limits.MaximumValue)})");
            }
            if (limits.MaximumRatePerSecond is { } rate) Positive($"{path}.maximumRatePerSecond", rate, errors);
            Positive($"{path}.staleSeconds", limits.StaleSeconds, errors);
            if (limits.StuckSeconds is { } stuck && !(stuck > limits.StaleSeconds))
            {
                Fail($"{path}.stuckSeconds", stuck, $"null or longer than staleSeconds ({Show(limits.StaleSeconds)})");
            }
        }

        return errors;
    }

    private static void ValidateSteam(Phase phase, SteamSetting? steam, Recipe recipe, List<RecipeError> errors)
    {
        var path = $"{phase.Name()}.steam";
        if (steam is null)
        {
            errors.Add(new RecipeError(path, "null", "a steam setting"));
            return;
        }
        var expected = phase is Phase.Tails or Phase.Steaming ? SteamRules.Strong : SteamRules.Slow;
        if (steam.Rule != expected)
        {
            var why = expected == SteamRules.Slow ? "slow steam while loading and distilling (缓汽蒸馏)" : "strong steam to chase the tails (大汽追尾)";
            errors.Add(new RecipeError($"{path}.rule", Show(steam.Rule), $"\"{expected}\": {why}"));
        }
        if (!(steam.ValveMinimumPercent >= 0 && steam.ValveMinimumPercent <= steam.ValvePercent && steam.ValvePercent <= steam.ValveMaximumPercent && steam.ValveMaximumPercent <= 100))
        {
            errors.Add(new RecipeError($"{path}.valvePercent", Show(steam.ValvePercent),
                $"0 ≤ valveMinimumPercent ({Show(steam.ValveMinimumPercent)}) ≤ valvePercent ≤ valveMaximumPercent ({Show(steam.ValveMaximumPercent)}) ≤ 100"));
        }
        if (!(steam.PressureMaximumKilopascals > 0 && steam.PressureMaximumKilopascals < recipe.Interlocks.SteamPressureTripKilopascals))
        {
            errors.Add(new RecipeError($"{path}.pressureMaximumKilopascals", Show(steam.PressureMaximumKilopascals),
                $"above 0 and below interlocks.steamPressureTripKilopascals ({Show(recipe.Interlocks.SteamPressureTripKilopascals)})"));
        }
        if (!(steam.RampPercentPerSecond > 0 && steam.RampPercentPerSecond <= 100))
        {
            errors.Add(new RecipeError($"{path}.rampPercentPerSecond", Show(steam.RampPercentPerSecond), "above 0 and at most 100"));
        }
        if (steam.DistillateFlowTargetKilogramsPerMinute is { } target)
        {
            if (phase is not (Phase.Heads or Phase.Hearts))
            {
                errors.Add(new RecipeError($"{path}.distillateFlowTargetKilogramsPerMinute", Show(target), "null: a flow target trims slow steam in heads and hearts only"));
            }
            else if (!(target > 0 && target <= 20))
            {
                errors.Add(new RecipeError($"{path}.distillateFlowTargetKilogramsPerMinute", Show(target), "null or above 0 and at most 20 kg/min (2-2.5 is usual)"));
            }
        }
    }

    private static void ValidateCooling(Phase phase, CoolingThreshold? cooling, Recipe recipe, List<RecipeError> errors)
    {
        var path = $"{phase.Name()}.cooling";
        if (cooling is null)
        {
            errors.Add(new RecipeError(path, "null", "a cooling threshold"));
            return;
        }
        if (cooling.Channel is not (CoolingChannels.Distillate or CoolingChannels.CoolingOut))
        {
            errors.Add(new RecipeError($"{path}.channel", Show(cooling.Channel), $"\"{CoolingChannels.Distillate}\" (distillate outlet) or \"{CoolingChannels.CoolingOut}\" (cooling-water outlet)"));
            return;
        }
        var limit = cooling.Channel == CoolingChannels.Distillate ? recipe.Interlocks.DistillateTripCelsius : recipe.Interlocks.CoolingOutWarnCelsius;
        var limitName = cooling.Channel == CoolingChannels.Distillate ? "interlocks.distillateTripCelsius" : "interlocks.coolingOutWarnCelsius";
        if (!(cooling.TargetCelsius > 0 && cooling.TargetCelsius < cooling.MaximumCelsius))
        {
            errors.Add(new RecipeError($"{path}.targetCelsius", Show(cooling.TargetCelsius), $"above 0 and below maximumCelsius ({Show(cooling.MaximumCelsius)})"));
        }
        if (!(cooling.MaximumCelsius < limit))
        {
            errors.Add(new RecipeError($"{path}.maximumCelsius", Show(cooling.MaximumCelsius), $"below {limitName} ({Show(limit)})"));
        }
    }

    private static void Receiver(string path, string? name, List<RecipeError> errors)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 40)
        {
            errors.Add(new RecipeError(path, Show(name), "a receiver name of 1-40 characters"));
        }
    }

    private static void Positive(string path, double value, List<RecipeError> errors)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            errors.Add(new RecipeError(path, Show(value), "a number above 0"));
        }
    }

    private static void NonNegative(string path, double value, List<RecipeError> errors)
    {
        if (!(value >= 0) || double.IsInfinity(value))
        {
            errors.Add(new RecipeError(path, Show(value), "a number of 0 or more"));
        }
    }

    private static void InRange(string path, double value, double min, double max, List<RecipeError> errors)
    {
        if (!(value >= min && value <= max))
        {
            errors.Add(new RecipeError(path, Show(value), $"from {Show(min)} to {Show(max)}"));
        }
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        double d => RecipeJson.Format(d),
        string s => $"\"{s}\"",
        _ => value.ToString() ?? "null",
    };
}
