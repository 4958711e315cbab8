namespace StillControl.Recipes;

/// <summary>One absolute limit of the safety envelope: its value, its unit, and why it is there (the source behind the number).</summary>
public sealed record EnvelopeLimit(double Value, string Unit, string Why)
{
    public string Text => $"{RecipeJson.Format(Value)}{(Unit.Length == 0 ? "" : " " + Unit)}";
}

/// <summary>
/// The limits no recipe can leave, defined once. A recipe tunes the process inside them; `recipe check` names every setting
/// outside them with the limit and its reason. The figures come from docs/safety-envelope.md, which carries their sources
/// (the grades [A] journal/standard, [B] SOP/trade/established controller, [C] forum are those of the process notes).
/// Changing one is a code change, reviewed, never a recipe edit.
/// </summary>
public static class SafetyEnvelope
{
    /// <summary>Largest recipe file read, in bytes: a recipe is a few kilobytes; anything much larger is not one.</summary>
    public const int RecipeFileMaximumBytes = 64 * 1024;

    // Slow steam (缓汽蒸馏) while loading and while spirit runs.
    public static readonly EnvelopeLimit SlowValveMaximumPercent = new(50, "%",
        "slow steam stays slow: raising steam from 0.036 to 0.140 kg/s cut ethanol extraction by about 40 % (Tongji/Moutai model study, 2020 [A]); the strong phases keep the upper half of the valve");
    public static readonly EnvelopeLimit DistillingPressureMaximumKilopascals = new(30, "kPa",
        "gauge pressure into the still at most 0.03 MPa while distillate runs (strong-aroma SOP [B])");
    public static readonly EnvelopeLimit LoadingPressureMaximumKilopascals = new(50, "kPa",
        "0.03-0.05 MPa while loading and steaming (strong-aroma SOP [B]); strong steam is forbidden while loading ([A])");
    public static readonly EnvelopeLimit SlowRampMaximumPercentPerSecond = new(2, "%/s",
        "slow steam is low and steady: a ramp faster than 2 %/s reaches the slow cap in under half a minute");
    public static readonly EnvelopeLimit StrongPressureMaximumKilopascals = new(50, "kPa",
        "0.03-0.05 MPa during steaming (strong-aroma SOP [B]); more blows out the lid's water seal and scalds ([A])");
    public static readonly EnvelopeLimit StrongRampMaximumPercentPerSecond = new(10, "%/s",
        "a steam valve thrown open floods the still: strong steam still ramps");

    // Trips within physical bounds.
    public static readonly EnvelopeLimit SteamPressureTripMaximumKilopascals = new(100, "kPa",
        "the lid's water seal blows out well above the 30-50 kPa the SOPs run at ([A], [B]): the trip must act before that");
    public static readonly EnvelopeLimit DistillateTripMaximumCelsius = new(50, "°C",
        "distillate above about 50 °C means vapour is leaving the condenser and yield falls sharply ([C]); spirit of 38-70 % vol is above its flash point from 20-27 °C (GB 50694 commentary [A])");
    public static readonly EnvelopeLimit CoolingOutTripMaximumCelsius = new(95, "°C",
        "cooling water near boiling no longer condenses anything; established controllers trip at 75 °C (Samovar [B]) and large plants run the outlet at 60-70 °C ([A])");
    public static readonly EnvelopeLimit CoolingFlowMinimumLitresPerMinute = new(2, "L/min",
        "condensing 2-2.5 kg/min of distillate ([B]) takes roughly 12 L/min of water warming by 30 K: a proven flow below 2 L/min proves nothing");

    // Cooling thresholds: heads about 30 °C, hearts not above 30 °C, tails higher.
    public static readonly EnvelopeLimit HeadsDistillateMaximumCelsius = new(35, "°C",
        "heads are cooled to about 30 °C (the process's source text; 20-30 °C in strong-aroma SOPs [B])");
    public static readonly EnvelopeLimit HeartsDistillateMaximumCelsius = new(30, "°C",
        "hearts not above 30 °C (the process's source text; 20-30 °C in strong-aroma SOPs [B])");
    public static readonly EnvelopeLimit CoolingTargetMinimumCelsius = new(10, "°C",
        "distillate cooled too far keeps harsh low boilers in the spirit ([C]); no SOP runs below 20 °C");

    // Cuts and phases.
    public static readonly EnvelopeLimit HeadsMassMinimumKilograms = new(0.25, "kg",
        "heads of about 0.5 kg per still ([B]), 0.25-0.5 kg per 50 kg of grain ([C]): less leaves acetaldehyde in the hearts");
    public static readonly EnvelopeLimit HeadsVolumeMinimumLitres = new(0.3, "L",
        "0.25 kg of heads at about 70-80 % vol is about 0.3 L");
    public static readonly EnvelopeLimit HeadsDurationMinimumMinutes = new(1, "min",
        "heads at 2-2.5 kg/min ([B]) take at least a few minutes to reach 0.25 kg");
    public static readonly EnvelopeLimit SteamingMinimumMinutes = new(20, "min",
        "the grain needs at least 45 min lid-on to unloading to gelatinise ([B]); the spirit run takes about 25 of them at most");
    public static readonly EnvelopeLimit CalibrationOffsetMaximumPercentVolume = new(5, "% vol",
        "the vapour-temperature estimate is calibrated per still against a hydrometer; inline meters hold ±0.5 % vol ([A]); an offset over 5 % vol means the probe or the still is wrong, not the curve");

    // Sensor quality checks: tunable, never off.
    public static readonly EnvelopeLimit StaleSecondsMaximum = new(30, "s",
        "a reading older than this cannot guard a still: a 12-bit DS18B20 converts in 750 ms and the loop runs 4 times a second");
    public static readonly EnvelopeLimit StuckSecondsMaximum = new(600, "s",
        "a live sensor on a running still moves within minutes; a stuck one must be caught in a batch of 2-3 hours");
    public static readonly EnvelopeLimit RateMaximumFactor = new(10, "x the default",
        "the spike check may be loosened, not switched off: ten times the default rate still rejects a wire coming loose");

    // Watchdogs.
    public static readonly EnvelopeLimit OverdueHoldAfterMaximumMinutes = new(120, "min",
        "a phase past its maximum is held for a person within two hours at most");
    public static readonly EnvelopeLimit SteamStarvedMaximumMinutes = new(60, "min",
        "a batch never sits for hours at zero steam without being held");
    public static readonly EnvelopeLimit CondenserApproachMaximumCelsius = new(15, "°C",
        "a condenser brings the distillate to within a few °C of its cooling water ([B])");

    /// <summary>Receivers no hearts grade may go to: the spirit would be mixed with heads, tails or the drain.</summary>
    public static readonly string[] ForbiddenHeartsReceivers = ["drain"];
}
