using System.Text.Json.Serialization;
using StillControl.Process;

namespace StillControl.Recipes;

/// <summary>
/// Everything a batch is run by. Every number is a setting with its unit in its name; the defaults are the
/// built-in strong-aroma recipe (see <see cref="DefaultRecipe"/>), so a recipe file names only what it changes.
/// </summary>
public sealed class Recipe
{
    public string Name { get; set; } = "default";
    public string? Description { get; set; }
    public LoadingPhase Loading { get; set; } = new();
    public SealedPhase Sealed { get; set; } = new();
    public HeadsPhase Heads { get; set; } = new();
    public HeartsPhase Hearts { get; set; } = new();
    public TailsPhase Tails { get; set; } = new();
    public SteamingPhase Steaming { get; set; } = new();
    public CoolingControl CoolingControl { get; set; } = new();
    public InterlockLimits Interlocks { get; set; } = new();
    public StrengthEstimateSettings Strength { get; set; } = new();
    public PhaseWatchdogs Watchdogs { get; set; } = new();
    /// <summary>Plausibility limits per channel; a recipe names only the limits it changes.</summary>
    public SensorLimitsByChannel Sensors { get; set; } = new();

    /// <summary>The settings of a running phase: its steam rule and its cooling threshold.</summary>
    public IRunningPhase For(Phase phase) => phase switch
    {
        Phase.Loading => Loading,
        Phase.Sealed => Sealed,
        Phase.Heads => Heads,
        Phase.Hearts => Hearts,
        Phase.Tails => Tails,
        Phase.Steaming => Steaming,
        _ => throw new ArgumentOutOfRangeException(nameof(phase), phase, "only a running batch has phase settings"),
    };

    public SteamSetting SteamFor(Phase phase) => For(phase).Steam;

    public CoolingThreshold CoolingFor(Phase phase) => For(phase).Cooling;

    public SensorLimits LimitsFor(Channel channel) => Sensors[channel];
}

public static class SteamRules
{
    /// <summary>缓汽蒸馏: low, steady, ramp-limited steam while loading and while spirit runs.</summary>
    public const string Slow = "slow";
    /// <summary>大汽追尾: strong steam to drive out the tails and cook the grain.</summary>
    public const string Strong = "strong";
}

public sealed class SteamSetting
{
    /// <summary><c>slow</c> or <c>strong</c>; which one each phase may use is fixed by the process.</summary>
    public string Rule { get; set; } = SteamRules.Slow;
    /// <summary>Valve opening the phase runs at (the starting point when trimmed to a flow target).</summary>
    public double ValvePercent { get; set; }
    public double ValveMinimumPercent { get; set; }
    public double ValveMaximumPercent { get; set; }
    /// <summary>Steam gauge pressure the valve is throttled back to hold under.</summary>
    public double PressureMaximumKilopascals { get; set; }
    /// <summary>How fast the valve may open; closing is never limited.</summary>
    public double RampPercentPerSecond { get; set; }
    /// <summary>If set (heads and hearts only), the valve is trimmed between its minimum and maximum to hold this distillate flow.</summary>
    public double? DistillateFlowTargetKilogramsPerMinute { get; set; }

    public static SteamSetting Slow(double valve, double min, double max, double pressureMax, double ramp, double? flowTarget = null) => new()
    {
        Rule = SteamRules.Slow, ValvePercent = valve, ValveMinimumPercent = min, ValveMaximumPercent = max,
        PressureMaximumKilopascals = pressureMax, RampPercentPerSecond = ramp, DistillateFlowTargetKilogramsPerMinute = flowTarget,
    };

    public static SteamSetting Strong(double valve, double min, double max, double pressureMax, double ramp) => new()
    {
        Rule = SteamRules.Strong, ValvePercent = valve, ValveMinimumPercent = min, ValveMaximumPercent = max,
        PressureMaximumKilopascals = pressureMax, RampPercentPerSecond = ramp,
    };
}

public static class CoolingChannels
{
    public const string Distillate = "distillate";
    public const string CoolingOut = "cooling-out";
}

/// <summary>The cooling threshold of a phase: the cooling-water valve holds <see cref="TargetCelsius"/> on the named channel.</summary>
public sealed class CoolingThreshold
{
    /// <summary><c>distillate</c> (distillate outlet, 流酒温度) or <c>cooling-out</c> (cooling-water outlet).</summary>
    public string Channel { get; set; } = CoolingChannels.Distillate;
    public double TargetCelsius { get; set; }
    /// <summary>Above this with the cooling valve fully open, steam is cut back and an alarm raised.</summary>
    public double MaximumCelsius { get; set; }

    [JsonIgnore]
    public Channel MeasuredChannel => Channel == CoolingChannels.CoolingOut ? Process.Channel.CoolingOut : Process.Channel.Distillate;

    public static CoolingThreshold OnDistillate(double target, double max) => new() { Channel = CoolingChannels.Distillate, TargetCelsius = target, MaximumCelsius = max };
}

/// <summary>What every running phase has: a steam setting and a cooling threshold.</summary>
public interface IRunningPhase
{
    SteamSetting Steam { get; }
    CoolingThreshold Cooling { get; }
}

public sealed class LoadingPhase : IRunningPhase
{
    public SteamSetting Steam { get; set; } = SteamSetting.Slow(valve: 30, min: 5, max: 35, pressureMax: 50, ramp: 1);
    public CoolingThreshold Cooling { get; set; } = CoolingThreshold.OnDistillate(30, 35);
    /// <summary>The distiller is told to cover the next layer when the bed surface reaches this (vapour about to break through).</summary>
    public double CoverLayerAtBedSurfaceCelsius { get; set; } = 70;
    /// <summary>Longer than this raises a warning (loading usually takes 35-50 min).</summary>
    public double MaximumDurationMinutes { get; set; } = 60;
}

public sealed class FirstDistillateDetection
{
    /// <summary>First distillate when the distillate flow reaches this.</summary>
    public double? FlowLitresPerMinute { get; set; } = 0.2;
    /// <summary>Or when the distillate outlet rises this far above the cooling-water inlet.</summary>
    public double? RiseAboveCoolingInCelsius { get; set; }
}

public sealed class SealedPhase : IRunningPhase
{
    public SteamSetting Steam { get; set; } = SteamSetting.Slow(valve: 25, min: 5, max: 35, pressureMax: 30, ramp: 1);
    public CoolingThreshold Cooling { get; set; } = CoolingThreshold.OnDistillate(30, 35);
    public FirstDistillateDetection FirstDistillate { get; set; } = new();
    /// <summary>No first distillate after this raises a warning.</summary>
    public double MaximumWaitMinutes { get; set; } = 20;
}

public sealed class HeadsEnd
{
    public double? MassKilograms { get; set; } = 0.5;
    public double? VolumeLitres { get; set; }
    public double? DurationMinutes { get; set; }
}

public sealed class HeadsPhase : IRunningPhase
{
    public SteamSetting Steam { get; set; } = SteamSetting.Slow(valve: 25, min: 10, max: 35, pressureMax: 30, ramp: 0.5);
    /// <summary>Heads run at about 30 °C.</summary>
    public CoolingThreshold Cooling { get; set; } = CoolingThreshold.OnDistillate(29, 33);
    public string Receiver { get; set; } = "heads";
    /// <summary>Heads end at whichever of these is reached first.</summary>
    public HeadsEnd End { get; set; } = new();
    /// <summary>Longer than this raises phase-overdue (heads of 0.5 kg take a few minutes).</summary>
    public double MaximumDurationMinutes { get; set; } = 20;
}

public sealed class HeartsGrade
{
    public string Name { get; set; } = "";
    public string Receiver { get; set; } = "";
    /// <summary>The grade ends when the distillate strength stays below this (量质摘酒).</summary>
    public double EndBelowStrengthPercentVolume { get; set; }
}

public sealed class HeartsPhase : IRunningPhase
{
    public SteamSetting Steam { get; set; } = SteamSetting.Slow(valve: 25, min: 10, max: 35, pressureMax: 30, ramp: 0.5, flowTarget: 2.25);
    /// <summary>Hearts not above 30 °C: the target sits below the maximum by more than the loop's ripple.</summary>
    public CoolingThreshold Cooling { get; set; } = CoolingThreshold.OnDistillate(27, 30);
    /// <summary>From strongest to weakest; the last grade's end is the cut to tails.</summary>
    [JsonObjectCreationHandling(JsonObjectCreationHandling.Replace)]
    public List<HeartsGrade> Grades { get; set; } =
    [
        new() { Name = "hearts-1", Receiver = "hearts-1", EndBelowStrengthPercentVolume = 65 },
        new() { Name = "hearts-2", Receiver = "hearts-2", EndBelowStrengthPercentVolume = 50 },
    ];
    /// <summary>Strength must stay below a grade's end this long before the cut, so noise cannot cut early.</summary>
    public double StrengthConfirmSeconds { get; set; } = 30;
    /// <summary>Longer than this raises phase-overdue.</summary>
    public double MaximumDurationMinutes { get; set; } = 120;
}

public sealed class TailsPhase : IRunningPhase
{
    public SteamSetting Steam { get; set; } = SteamSetting.Strong(valve: 80, min: 40, max: 95, pressureMax: 50, ramp: 2);
    public CoolingThreshold Cooling { get; set; } = CoolingThreshold.OnDistillate(35, 40);
    public string Receiver { get; set; } = "tails";
    public double EndBelowStrengthPercentVolume { get; set; } = 10;
    public double MaximumDurationMinutes { get; set; } = 40;
}

public sealed class SteamingPhase : IRunningPhase
{
    public SteamSetting Steam { get; set; } = SteamSetting.Strong(valve: 80, min: 40, max: 95, pressureMax: 50, ramp: 2);
    public CoolingThreshold Cooling { get; set; } = CoolingThreshold.OnDistillate(35, 45);
    /// <summary>Where the weak distillate of grain steaming goes.</summary>
    public string Receiver { get; set; } = "drain";
    /// <summary>Steam time (held time not counted) for the grain to cook through.</summary>
    public double MinimumDurationMinutes { get; set; } = 45;
}

public sealed class CoolingControl
{
    public double ProportionalPercentPerKelvin { get; set; } = 6;
    public double IntegralSeconds { get; set; } = 40;
    /// <summary>The cooling valve never closes below this while steam may flow, so flow stays proven.</summary>
    public double ValveMinimumPercent { get; set; } = 10;
    /// <summary>The cooling maximum must be exceeded this long with the valve fully open before steam is cut back.</summary>
    public double OverMaximumConfirmSeconds { get; set; } = 10;
    public double SteamCutbackPercentPerSecond { get; set; } = 1;
    /// <summary>How close to its cooling-water inlet the condenser brings the distillate: inlet plus this at or over a phase's maximum makes it unreachable.</summary>
    public double CondenserApproachCelsius { get; set; } = 2;
}

/// <summary>How long a batch may go without progress before it is held for a person.</summary>
public sealed class PhaseWatchdogs
{
    /// <summary>A phase this long past its maximum (warned at the maximum) is held.</summary>
    public double OverdueHoldAfterMinutes { get; set; } = 15;
    /// <summary>Steam commanded at nothing this long in a running batch is held.</summary>
    public double SteamStarvedMinutes { get; set; } = 10;
}

public sealed class InterlockLimits
{
    /// <summary>Cooling-water flow below this is not proven: no steam.</summary>
    public double CoolingFlowMinimumLitresPerMinute { get; set; } = 5;
    /// <summary>Steam gauge pressure that trips (a lid seal blows out well above the 30-50 kPa the SOPs run at).</summary>
    public double SteamPressureTripKilopascals { get; set; } = 70;
    public double CoolingOutWarnCelsius { get; set; } = 70;
    public double CoolingOutTripCelsius { get; set; } = 75;
    /// <summary>Distillate this hot means vapour is leaving the condenser: trip.</summary>
    public double DistillateTripCelsius { get; set; } = 50;
}

public sealed class StrengthEstimateSettings
{
    /// <summary>Added to the vapour-temperature estimate after calibrating the still against a hydrometer.</summary>
    public double CalibrationOffsetPercentVolume { get; set; }
    /// <summary>Time constant of the filter on the strength used for cuts.</summary>
    public double FilterSeconds { get; set; } = 10;
}

/// <summary>What a live reading of a channel can look like; anything else is a fault with a reason.</summary>
public sealed class SensorLimits
{
    public double MinimumValue { get; set; }
    public double MaximumValue { get; set; }
    /// <summary>Faster change than this between two readings is a spike; null: not checked.</summary>
    public double? MaximumRatePerSecond { get; set; }
    /// <summary>A reading older than this is stale.</summary>
    public double StaleSeconds { get; set; } = 3;
    /// <summary>
    /// The identical raw value for this long is a stuck sensor; null: not checked. Exactly zero is exempt: a flow that is really
    /// stopped reads zero, and a meter stuck at zero reads as no flow, which the interlocks already treat as unsafe.
    /// </summary>
    public double? StuckSeconds { get; set; }

    internal static SensorLimits Temperature(double max, double rate) =>
        new() { MinimumValue = -20, MaximumValue = max, MaximumRatePerSecond = rate, StaleSeconds = 3, StuckSeconds = 120 };
}

/// <summary>One <see cref="SensorLimits"/> per channel, keyed in JSON by the channel's name.</summary>
public sealed class SensorLimitsByChannel
{
    [JsonPropertyName("steam")] public SensorLimits Steam { get; set; } = SensorLimits.Temperature(180, 15);
    [JsonPropertyName("steam-pressure")] public SensorLimits SteamPressure { get; set; } = new() { MinimumValue = -10, MaximumValue = 300, MaximumRatePerSecond = 50, StaleSeconds = 3, StuckSeconds = 120 };
    [JsonPropertyName("vapour")] public SensorLimits Vapour { get; set; } = SensorLimits.Temperature(130, 15);
    [JsonPropertyName("bed-surface")] public SensorLimits BedSurface { get; set; } = SensorLimits.Temperature(130, 15);
    [JsonPropertyName("cooling-in")] public SensorLimits CoolingIn { get; set; } = SensorLimits.Temperature(80, 10);
    [JsonPropertyName("cooling-out")] public SensorLimits CoolingOut { get; set; } = SensorLimits.Temperature(110, 10);
    [JsonPropertyName("cooling-flow")] public SensorLimits CoolingFlow { get; set; } = new() { MinimumValue = 0, MaximumValue = 2000, StaleSeconds = 5, StuckSeconds = 60 };
    [JsonPropertyName("distillate")] public SensorLimits Distillate { get; set; } = SensorLimits.Temperature(110, 10);
    [JsonPropertyName("distillate-flow")] public SensorLimits DistillateFlow { get; set; } = new() { MinimumValue = 0, MaximumValue = 100, StaleSeconds = 5, StuckSeconds = 60 };
    [JsonPropertyName("barometer")] public SensorLimits Barometer { get; set; } = new() { MinimumValue = 800, MaximumValue = 1100, MaximumRatePerSecond = 5, StaleSeconds = 10 };
    [JsonPropertyName("strength")] public SensorLimits Strength { get; set; } = new() { MinimumValue = 0, MaximumValue = 100, StaleSeconds = 5, StuckSeconds = 120 };
    [JsonPropertyName("emergency-stop")] public SensorLimits EmergencyStop { get; set; } = new() { MinimumValue = 0, MaximumValue = 1, StaleSeconds = 1 };
    [JsonPropertyName("lid-closed")] public SensorLimits LidClosed { get; set; } = new() { MinimumValue = 0, MaximumValue = 1, StaleSeconds = 1 };
    [JsonPropertyName("distillate-check")] public SensorLimits DistillateCheck { get; set; } = SensorLimits.Temperature(110, 10);
    [JsonPropertyName("steam-valve-position")] public SensorLimits SteamValvePosition { get; set; } = new() { MinimumValue = -5, MaximumValue = 105, StaleSeconds = 3 };

    public SensorLimits this[Channel channel] => channel switch
    {
        Channel.Steam => Steam,
        Channel.SteamPressure => SteamPressure,
        Channel.Vapour => Vapour,
        Channel.BedSurface => BedSurface,
        Channel.CoolingIn => CoolingIn,
        Channel.CoolingOut => CoolingOut,
        Channel.CoolingFlow => CoolingFlow,
        Channel.Distillate => Distillate,
        Channel.DistillateFlow => DistillateFlow,
        Channel.Barometer => Barometer,
        Channel.Strength => Strength,
        Channel.EmergencyStop => EmergencyStop,
        Channel.LidClosed => LidClosed,
        Channel.DistillateCheck => DistillateCheck,
        Channel.SteamValvePosition => SteamValvePosition,
        _ => throw new ArgumentOutOfRangeException(nameof(channel)),
    };
}
