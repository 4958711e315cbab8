using StillControl.Process;

namespace StillControl.Recipes;

/// <summary>
/// Checks a recipe against the process's rules before any batch runs on it: consistency (a maximum above its target, grades from
/// strong to weak) and the <see cref="SafetyEnvelope"/>, the absolute limits no recipe can leave. Every violation is named with
/// its key, its value, the limit and why.
/// </summary>
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
        AtLeast("interlocks.coolingFlowMinimumLitresPerMinute", interlocks.CoolingFlowMinimumLitresPerMinute, SafetyEnvelope.CoolingFlowMinimumLitresPerMinute, errors);
        Positive("interlocks.steamPressureTripKilopascals", interlocks.SteamPressureTripKilopascals, errors);
        AtMost("interlocks.steamPressureTripKilopascals", interlocks.SteamPressureTripKilopascals, SafetyEnvelope.SteamPressureTripMaximumKilopascals, errors);
        Positive("interlocks.distillateTripCelsius", interlocks.DistillateTripCelsius, errors);
        AtMost("interlocks.distillateTripCelsius", interlocks.DistillateTripCelsius, SafetyEnvelope.DistillateTripMaximumCelsius, errors);
        AtMost("interlocks.coolingOutTripCelsius", interlocks.CoolingOutTripCelsius, SafetyEnvelope.CoolingOutTripMaximumCelsius, errors);
        if (!(interlocks.CoolingOutWarnCelsius < interlocks.CoolingOutTripCelsius))
        {
            Fail("interlocks.coolingOutWarnCelsius", interlocks.CoolingOutWarnCelsius, $"below interlocks.coolingOutTripCelsius ({Show(interlocks.CoolingOutTripCelsius)})");
        }

        foreach (var phase in SlowPhases.Concat(StrongPhases))
        {
            ValidateSteam(phase, recipe.SteamFor(phase), recipe, errors);
            ValidateCooling(phase, recipe.CoolingFor(phase), recipe, errors);
        }

        // Heads about 30 °C, hearts not above 30 °C, tails higher: on the distillate the seed's figures hold, and the hearts are
        // never run hotter than the tails.
        var headsCooling = recipe.Heads.Cooling;
        var heartsCooling = recipe.Hearts.Cooling;
        var tailsCooling = recipe.Tails.Cooling;
        if (headsCooling?.Channel == CoolingChannels.Distillate)
        {
            AtMost("heads.cooling.maximumCelsius", headsCooling.MaximumCelsius, SafetyEnvelope.HeadsDistillateMaximumCelsius, errors);
        }
        if (heartsCooling?.Channel == CoolingChannels.Distillate)
        {
            AtMost("hearts.cooling.maximumCelsius", heartsCooling.MaximumCelsius, SafetyEnvelope.HeartsDistillateMaximumCelsius, errors);
        }
        if (heartsCooling is not null && tailsCooling is not null && heartsCooling.Channel == tailsCooling.Channel)
        {
            if (!(heartsCooling.MaximumCelsius <= tailsCooling.MaximumCelsius))
            {
                Fail("hearts.cooling.maximumCelsius", heartsCooling.MaximumCelsius, $"at most tails.cooling.maximumCelsius ({Show(tailsCooling.MaximumCelsius)}) (safety envelope: hearts not above 30 °C, tails higher; hearts are never run hotter than tails)");
            }
            if (!(heartsCooling.TargetCelsius <= tailsCooling.TargetCelsius))
            {
                Fail("hearts.cooling.targetCelsius", heartsCooling.TargetCelsius, $"at most tails.cooling.targetCelsius ({Show(tailsCooling.TargetCelsius)}) (safety envelope: hearts not above 30 °C, tails higher; hearts are never run hotter than tails)");
            }
        }

        // 缓汽蒸馏，大汽追尾: strong steam must really be stronger than anything slow steam may reach.
        // (A missing steam setting is named above; it does not count here.)
        var slowCeiling = SlowPhases.Max(p => recipe.SteamFor(p)?.ValveMaximumPercent ?? 0);
        foreach (var phase in StrongPhases)
        {
            var steam = recipe.SteamFor(phase);
            if (steam is not null && steam.ValvePercent <= slowCeiling)
            {
                Fail($"{phase.Name()}.steam.valvePercent", steam.ValvePercent,
                    $"above every slow phase's valveMaximumPercent (highest is {Show(slowCeiling)}): strong steam chases the tails");
            }
        }

        var loading = recipe.Loading;
        InRange("loading.coverLayerAtBedSurfaceCelsius", loading.CoverLayerAtBedSurfaceCelsius, 20, 100, errors);
        InRange("loading.maximumDurationMinutes", loading.MaximumDurationMinutes, 1, 24 * 60, errors);

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
        InRange("sealed.maximumWaitMinutes", recipe.Sealed.MaximumWaitMinutes, 1, 24 * 60, errors);

        var heads = recipe.Heads;
        Receiver("heads.receiver", heads.Receiver, errors);
        if (heads.End.MassKilograms is null && heads.End.VolumeLitres is null && heads.End.DurationMinutes is null)
        {
            Fail("heads.end", "all null", "at least one of massKilograms, volumeLitres, durationMinutes");
        }
        if (heads.End.MassKilograms is { } mass) AtLeast("heads.end.massKilograms", mass, SafetyEnvelope.HeadsMassMinimumKilograms, errors);
        if (heads.End.VolumeLitres is { } volume) AtLeast("heads.end.volumeLitres", volume, SafetyEnvelope.HeadsVolumeMinimumLitres, errors);
        if (heads.End.DurationMinutes is { } minutes) AtLeast("heads.end.durationMinutes", minutes, SafetyEnvelope.HeadsDurationMinimumMinutes, errors);
        InRange("heads.maximumDurationMinutes", heads.MaximumDurationMinutes, 1, 24 * 60, errors);
        if (heads.End.DurationMinutes is { } headsMinutes && !(headsMinutes < heads.MaximumDurationMinutes))
        {
            Fail("heads.end.durationMinutes", headsMinutes, $"below heads.maximumDurationMinutes ({Show(heads.MaximumDurationMinutes)})");
        }

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
                Fail($"{path}.receiver", grade.Receiver, $"a receiver other than the heads receiver '{heads.Receiver}' (safety envelope: the heads never reach the hearts)");
            }
            if (grade.Receiver == recipe.Tails.Receiver)
            {
                Fail($"{path}.receiver", grade.Receiver, $"a receiver other than the tails receiver '{recipe.Tails.Receiver}' (safety envelope: the tails never reach the hearts)");
            }
            if (grade.Receiver == recipe.Steaming.Receiver || SafetyEnvelope.ForbiddenHeartsReceivers.Contains(grade.Receiver))
            {
                Fail($"{path}.receiver", grade.Receiver, $"a receiver other than the steaming receiver '{recipe.Steaming.Receiver}' and {string.Join(", ", SafetyEnvelope.ForbiddenHeartsReceivers.Select(r => $"'{r}'"))} (safety envelope: the hearts never go to the drain)");
            }
            if (!(grade.EndBelowStrengthPercentVolume > 0 && grade.EndBelowStrengthPercentVolume < previous))
            {
                Fail($"{path}.endBelowStrengthPercentVolume", grade.EndBelowStrengthPercentVolume,
                    i == 0 ? "between 0 and 100 % vol" : $"above 0 and below the previous grade's {Show(previous)} % vol (grades run from strong to weak)");
            }
            previous = grade.EndBelowStrengthPercentVolume;
        }
        InRange("hearts.strengthConfirmSeconds", hearts.StrengthConfirmSeconds, 0, 600, errors);
        InRange("hearts.maximumDurationMinutes", hearts.MaximumDurationMinutes, 1, 24 * 60, errors);

        var tails = recipe.Tails;
        Receiver("tails.receiver", tails.Receiver, errors);
        if (!(tails.EndBelowStrengthPercentVolume > 0 && tails.EndBelowStrengthPercentVolume < previous))
        {
            Fail("tails.endBelowStrengthPercentVolume", tails.EndBelowStrengthPercentVolume, $"above 0 and below the last hearts grade's end ({Show(previous)} % vol)");
        }
        InRange("tails.maximumDurationMinutes", tails.MaximumDurationMinutes, 1, 24 * 60, errors);

        Receiver("steaming.receiver", recipe.Steaming.Receiver, errors);
        AtLeast("steaming.minimumDurationMinutes", recipe.Steaming.MinimumDurationMinutes, SafetyEnvelope.SteamingMinimumMinutes, errors);
        AtMost("steaming.minimumDurationMinutes", recipe.Steaming.MinimumDurationMinutes, new EnvelopeLimit(24 * 60, "min", "a day"), errors);

        var cooling = recipe.CoolingControl;
        Positive("coolingControl.proportionalPercentPerKelvin", cooling.ProportionalPercentPerKelvin, errors);
        Positive("coolingControl.integralSeconds", cooling.IntegralSeconds, errors);
        InRange("coolingControl.valveMinimumPercent", cooling.ValveMinimumPercent, 0, 99, errors);
        Positive("coolingControl.steamCutbackPercentPerSecond", cooling.SteamCutbackPercentPerSecond, errors);
        InRange("coolingControl.overMaximumConfirmSeconds", cooling.OverMaximumConfirmSeconds, 0, 600, errors);
        Positive("coolingControl.condenserApproachCelsius", cooling.CondenserApproachCelsius, errors);
        AtMost("coolingControl.condenserApproachCelsius", cooling.CondenserApproachCelsius, SafetyEnvelope.CondenserApproachMaximumCelsius, errors);

        var offset = SafetyEnvelope.CalibrationOffsetMaximumPercentVolume;
        if (!(Math.Abs(recipe.Strength.CalibrationOffsetPercentVolume) <= offset.Value))
        {
            Fail("strength.calibrationOffsetPercentVolume", recipe.Strength.CalibrationOffsetPercentVolume, $"from -{offset.Text} to {offset.Text} (safety envelope: {offset.Why})");
        }
        InRange("strength.filterSeconds", recipe.Strength.FilterSeconds, 0, 300, errors);

        var watchdogs = recipe.Watchdogs;
        if (watchdogs is null)
        {
            Fail("watchdogs", null, "an object with overdueHoldAfterMinutes and steamStarvedMinutes");
        }
        else
        {
            Positive("watchdogs.overdueHoldAfterMinutes", watchdogs.OverdueHoldAfterMinutes, errors);
            AtMost("watchdogs.overdueHoldAfterMinutes", watchdogs.OverdueHoldAfterMinutes, SafetyEnvelope.OverdueHoldAfterMaximumMinutes, errors);
            Positive("watchdogs.steamStarvedMinutes", watchdogs.SteamStarvedMinutes, errors);
            AtMost("watchdogs.steamStarvedMinutes", watchdogs.SteamStarvedMinutes, SafetyEnvelope.SteamStarvedMaximumMinutes, errors);
        }
        var defaults = new SensorLimitsByChannel();

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
            var standard = defaults[channel];
            if (!(limits.MinimumValue >= standard.MinimumValue - Math.Abs(standard.MaximumValue - standard.MinimumValue)) || !(limits.MaximumValue <= standard.MaximumValue * 2))
            {
                Fail($"{path}.maximumValue", limits.MaximumValue, $"a range within {Show(standard.MinimumValue - Math.Abs(standard.MaximumValue - standard.MinimumValue))} to {Show(standard.MaximumValue * 2)} {channel.Unit()} (safety envelope: a plausibility range wider than twice the default's accepts a broken sensor)");
            }
            // The quality checks can be tuned but never switched off: where the default checks, the recipe checks too.
            var rateLimit = SafetyEnvelope.RateMaximumFactor;
            if (limits.MaximumRatePerSecond is { } rate)
            {
                Positive($"{path}.maximumRatePerSecond", rate, errors);
                if (standard.MaximumRatePerSecond is { } usual && !(rate <= usual * rateLimit.Value))
                {
                    Fail($"{path}.maximumRatePerSecond", rate, $"at most {Show(usual * rateLimit.Value)} {channel.Unit()}/s, {rateLimit.Text} of {Show(usual)} (safety envelope: {rateLimit.Why})");
                }
            }
            else if (standard.MaximumRatePerSecond is { } usual)
            {
                Fail($"{path}.maximumRatePerSecond", null, $"a number above 0 and at most {Show(usual * rateLimit.Value)} {channel.Unit()}/s (safety envelope: {rateLimit.Why})");
            }
            Positive($"{path}.staleSeconds", limits.StaleSeconds, errors);
            AtMost($"{path}.staleSeconds", limits.StaleSeconds, SafetyEnvelope.StaleSecondsMaximum, errors);
            if (limits.StuckSeconds is { } stuck)
            {
                if (!(stuck > limits.StaleSeconds))
                {
                    Fail($"{path}.stuckSeconds", stuck, $"longer than staleSeconds ({Show(limits.StaleSeconds)})");
                }
                AtMost($"{path}.stuckSeconds", stuck, SafetyEnvelope.StuckSecondsMaximum, errors);
            }
            else if (standard.StuckSeconds is not null)
            {
                Fail($"{path}.stuckSeconds", null, $"a number of seconds above staleSeconds and at most {SafetyEnvelope.StuckSecondsMaximum.Text} (safety envelope: the stuck check can be tuned, never switched off; {SafetyEnvelope.StuckSecondsMaximum.Why})");
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
        // (The upper bound is the envelope's, below: slow and strong steam each have their own ramp limit.)
        if (!(steam.RampPercentPerSecond > 0))
        {
            errors.Add(new RecipeError($"{path}.rampPercentPerSecond", Show(steam.RampPercentPerSecond), "above 0"));
        }
        if (expected == SteamRules.Slow)
        {
            AtMost($"{path}.valveMaximumPercent", steam.ValveMaximumPercent, SafetyEnvelope.SlowValveMaximumPercent, errors);
            AtMost($"{path}.pressureMaximumKilopascals", steam.PressureMaximumKilopascals,
                phase == Phase.Loading ? SafetyEnvelope.LoadingPressureMaximumKilopascals : SafetyEnvelope.DistillingPressureMaximumKilopascals, errors);
            AtMost($"{path}.rampPercentPerSecond", steam.RampPercentPerSecond, SafetyEnvelope.SlowRampMaximumPercentPerSecond, errors);
        }
        else
        {
            AtMost($"{path}.pressureMaximumKilopascals", steam.PressureMaximumKilopascals, SafetyEnvelope.StrongPressureMaximumKilopascals, errors);
            AtMost($"{path}.rampPercentPerSecond", steam.RampPercentPerSecond, SafetyEnvelope.StrongRampMaximumPercentPerSecond, errors);
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
        AtLeast($"{path}.targetCelsius", cooling.TargetCelsius, SafetyEnvelope.CoolingTargetMinimumCelsius, errors);
        // (The lower bound is the envelope's minimum target, just above.)
        if (!(cooling.TargetCelsius < cooling.MaximumCelsius))
        {
            errors.Add(new RecipeError($"{path}.targetCelsius", Show(cooling.TargetCelsius), $"below maximumCelsius ({Show(cooling.MaximumCelsius)})"));
        }
        if (!(cooling.MaximumCelsius < limit))
        {
            errors.Add(new RecipeError($"{path}.maximumCelsius", Show(cooling.MaximumCelsius), $"below {limitName} ({Show(limit)})"));
        }
    }

    /// <summary>The value may not exceed the envelope's limit; the message names the limit and why it is there.</summary>
    private static void AtMost(string path, double value, EnvelopeLimit limit, List<RecipeError> errors)
    {
        if (!(value <= limit.Value))
        {
            errors.Add(new RecipeError(path, Show(value), $"at most {limit.Text} (safety envelope: {limit.Why})"));
        }
    }

    /// <summary>The value may not fall below the envelope's limit; the message names the limit and why it is there.</summary>
    private static void AtLeast(string path, double value, EnvelopeLimit limit, List<RecipeError> errors)
    {
        if (!(value >= limit.Value) || double.IsInfinity(value))
        {
            errors.Add(new RecipeError(path, Show(value), $"at least {limit.Text} (safety envelope: {limit.Why})"));
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
        // Stryker disable once NullCoalescing : unreachable, every value shown is null, a number or text; ToString() of a boxed value is never null
        _ => value.ToString() ?? "null",
    };
}
