using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using StillControl.Physics;
using StillControl.Process;

namespace StillControl.Simulation;

public static class FaultKinds
{
    public const string CoolingWaterLoss = "cooling-water-loss";
    public const string CoolingWaterHot = "cooling-water-hot";
    /// <summary>The cooling-water supply falls to <c>factor</c> of its flow (a half-shut cock, a clogged strainer): flow still proven, condenser short of water.</summary>
    public const string CoolingWaterLow = "cooling-water-low";
    public const string SteamPressureSurge = "steam-pressure-surge";
    public const string SensorDisconnect = "sensor-disconnect";
    public const string SensorStuck = "sensor-stuck";
    public const string SensorSpike = "sensor-spike";
    public const string SensorPowerOnReading = "sensor-power-on-reading";
    public const string EmergencyStop = "emergency-stop";
    /// <summary>The steam valve's driver stops answering: the valve stays where it was and the outputs report it.</summary>
    public const string SteamValveUnresponsive = "steam-valve-unresponsive";
    /// <summary>The lid is lifted (or its switch wire cut): the lid switch reads open.</summary>
    public const string LidOpen = "lid-open";
    /// <summary>A reading that walks away from the truth at <c>ratePerSecond</c> (channel units per second), plausibly, a little at a time.</summary>
    public const string SensorDrift = "sensor-drift";
    /// <summary>A reading off by a fixed <c>value</c> (channel units), as a probe pulled out of its well or miscalibrated.</summary>
    public const string SensorOffset = "sensor-offset";
    /// <summary>A pulse meter that stopped counting: it reads zero, whatever flows.</summary>
    public const string SensorDead = "sensor-dead";
    /// <summary>The steam valve sticks where it is: it takes its commands without complaint and does not move.</summary>
    public const string SteamValveStuckOpen = "steam-valve-stuck-open";

    public static readonly string[] All =
        [CoolingWaterLoss, CoolingWaterHot, CoolingWaterLow, SteamPressureSurge, SensorDisconnect, SensorStuck, SensorSpike, SensorPowerOnReading, EmergencyStop,
         SteamValveUnresponsive, LidOpen, SensorDrift, SensorOffset, SensorDead, SteamValveStuckOpen];

    public static bool NeedsChannel(string kind) => kind.StartsWith("sensor-", StringComparison.Ordinal);
}

/// <summary>When something happens in a scenario: at a time from batch start, or a time after a phase first begins.</summary>
public interface IScenarioTiming
{
    double? AtSeconds { get; }
    string? Phase { get; }
    double? AfterSeconds { get; }
}

public sealed class ScenarioFault : IScenarioTiming
{
    public string Kind { get; set; } = "";
    public string? Channel { get; set; }
    public double? AtSeconds { get; set; }
    public string? Phase { get; set; }
    public double? AfterSeconds { get; set; }
    /// <summary>Omitted: until the end of the batch.</summary>
    public double? ForSeconds { get; set; }
    /// <summary>cooling-water-hot: the inlet temperature; sensor-spike: the jump (default +40).</summary>
    public double? ValueCelsius { get; set; }
    /// <summary>steam-pressure-surge: how many times the normal steam flow the surge pushes (default 2.5).</summary>
    public double? Factor { get; set; }
    /// <summary>sensor-offset: the offset, in the channel's unit.</summary>
    public double? Value { get; set; }
    /// <summary>sensor-drift: how fast the reading walks away, in the channel's unit per second.</summary>
    public double? RatePerSecond { get; set; }

    [JsonIgnore] public Channel ChannelValue { get; set; }
}

public sealed class ScenarioOperatorAction : IScenarioTiming
{
    public string Command { get; set; } = "";
    public double? AtSeconds { get; set; }
    public string? Phase { get; set; }
    public double? AfterSeconds { get; set; }
    public string? Operator { get; set; }
    public string? Argument { get; set; }

    [JsonIgnore] public CommandKind Kind { get; set; }
}

/// <summary>How the simulated distiller behaves beyond starting and sealing.</summary>
public sealed class DistillerBehaviour
{
    /// <summary>Silences the horn this long after an alarm; null: never (scenario operator entries must ack).</summary>
    public double? AcknowledgeAlarmsAfterSeconds { get; set; } = 15;
    /// <summary>From the cover-layer advisory to the new layer on the bed.</summary>
    public double ReactionSeconds { get; set; } = 20;
}

/// <summary>A simulation scenario: seed, faults, extra operator actions, the still's make-up.</summary>
public sealed class Scenario
{
    public int? Seed { get; set; }
    public List<ScenarioFault> Faults { get; set; } = [];
    [JsonPropertyName("operator")] public List<ScenarioOperatorAction> Operator { get; set; } = [];
    public DistillerBehaviour Distiller { get; set; } = new();
    /// <summary>Fit an online strength meter (otherwise strength is estimated from the vapour temperature).</summary>
    public bool StrengthMeter { get; set; }
    /// <summary>Fit a lid switch (<c>lid-closed</c>): it reads closed once the distiller has sealed the still.</summary>
    public bool LidSwitch { get; set; } = true;
    /// <summary>Fit a steam isolation valve (a fail-closed solenoid before the modulating valve) that the controller closes on every trip.</summary>
    public bool IsolationValve { get; set; } = true;
    /// <summary>Fit a second distillate thermometer (<c>distillate-check</c>) beside the first.</summary>
    public bool DistillateCheckProbe { get; set; }
    /// <summary>Fit a position transmitter on the steam valve (<c>steam-valve-position</c>).</summary>
    public bool ValvePositionFeedback { get; set; }
    public StillModelParameters Still { get; set; } = new();
    /// <summary>What the distiller would enter on the panel's start form (grain lot and mass, pit, notes): stored with the batch.</summary>
    public Journal.BatchMetadata? Metadata { get; set; }

    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PreferredObjectCreationHandling = JsonObjectCreationHandling.Populate,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
    };

    /// <summary>Parses and checks a scenario; every problem names the key path, the value and what is accepted.</summary>
    public static (Scenario? Scenario, List<string> Errors) Parse(string json)
    {
        Scenario scenario;
        try
        {
            scenario = JsonSerializer.Deserialize<Scenario>(json, Options) ?? new Scenario();
        }
        catch (JsonException ex)
        {
            var path = ex.Path?.TrimStart('$', '.') ?? "";
            var message = ex.Message;
            var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
            if (cut > 0) message = message[..cut];
            return (null, [$"{(path.Length == 0 ? "(scenario)" : path)} (line {ex.LineNumber + 1}): {message}"]);
        }
        var errors = new List<string>();
        if (scenario.Metadata is { } metadata)
        {
            errors.AddRange(metadata.Problems().Select(p => $"metadata.{p}"));
        }
        for (var i = 0; i < scenario.Faults.Count; i++)
        {
            var fault = scenario.Faults[i];
            var path = $"faults[{i}]";
            if (!FaultKinds.All.Contains(fault.Kind))
            {
                errors.Add($"{path}.kind = \"{fault.Kind}\": one of {string.Join(", ", FaultKinds.All)}");
            }
            if (FaultKinds.NeedsChannel(fault.Kind))
            {
                if (!Channels.TryParse(fault.Channel, out var channel))
                {
                    errors.Add($"{path}.channel = {Quote(fault.Channel)}: one of {string.Join(", ", Channels.Names)}");
                }
                else
                {
                    fault.ChannelValue = channel;
                    if (fault.Kind == FaultKinds.SensorPowerOnReading && !channel.IsTemperature())
                    {
                        errors.Add($"{path}.channel = \"{fault.Channel}\": a DS18B20 temperature channel (the power-on value is 85 °C)");
                    }
                }
            }
            else if (fault.Channel is not null)
            {
                errors.Add($"{path}.channel = \"{fault.Channel}\": only sensor-* faults take a channel");
            }
            CheckTiming(fault, path, errors);
            if (fault.ForSeconds is { } span && !(span > 0))
            {
                errors.Add($"{path}.forSeconds = {Show(span)}: above 0, or omitted for until the end");
            }
            if (fault.Kind == FaultKinds.CoolingWaterHot && fault.ValueCelsius is not { } hot)
            {
                errors.Add($"{path}.valueCelsius = null: the raised inlet temperature in °C (e.g. 35)");
            }
            else if (fault.Kind == FaultKinds.CoolingWaterHot && fault.ValueCelsius is { } inlet && !(inlet > 0 && inlet < 100))
            {
                errors.Add($"{path}.valueCelsius = {Show(inlet)}: above 0 and below 100 °C");
            }
            if (fault.Kind == FaultKinds.SensorOffset && fault.Value is not { } offset)
            {
                errors.Add($"{path}.value = null: the offset in the channel's unit (e.g. -10)");
            }
            else if (fault.Value is { } v && (fault.Kind != FaultKinds.SensorOffset || !(Math.Abs(v) <= 1000)))
            {
                errors.Add($"{path}.value = {Show(v)}: only sensor-offset takes a value, from -1000 to 1000");
            }
            if (fault.Kind == FaultKinds.SensorDrift && !(fault.RatePerSecond is { } rate && rate != 0 && Math.Abs(rate) <= 10))
            {
                errors.Add($"{path}.ratePerSecond = {Show(fault.RatePerSecond)}: a drift rate in the channel's unit per second, not 0, from -10 to 10");
            }
            else if (fault.Kind != FaultKinds.SensorDrift && fault.RatePerSecond is { } r)
            {
                errors.Add($"{path}.ratePerSecond = {Show(r)}: only sensor-drift takes a rate");
            }
            if (fault.Kind == FaultKinds.SensorDead && fault.ChannelValue is not (Channel.CoolingFlow or Channel.DistillateFlow))
            {
                errors.Add($"{path}.channel = {Quote(fault.Channel)}: a pulse meter (cooling-flow or distillate-flow)");
            }
            if (fault.Kind == FaultKinds.CoolingWaterLow && !(fault.Factor is { } share && share > 0 && share < 1))
            {
                errors.Add($"{path}.factor = {Show(fault.Factor)}: the share of the cooling-water supply left, above 0 and below 1 (e.g. 0.1)");
            }
            if (fault.Factor is { } factor && !(factor > 0 && factor <= 10))
            {
                errors.Add($"{path}.factor = {Show(factor)}: above 0 and at most 10");
            }
        }
        for (var i = 0; i < scenario.Operator.Count; i++)
        {
            var action = scenario.Operator[i];
            var path = $"operator[{i}]";
            if (!CommandKinds.TryParse(action.Command, out var kind))
            {
                errors.Add($"{path}.command = {Quote(action.Command)}: one of {string.Join(", ", CommandKinds.Names)}");
            }
            action.Kind = kind;
            CheckTiming(action, path, errors);
        }
        if (scenario.Distiller.AcknowledgeAlarmsAfterSeconds is { } ack && !(ack >= 0))
        {
            errors.Add($"distiller.acknowledgeAlarmsAfterSeconds = {Show(ack)}: 0 or more, or null for never");
        }
        if (!(scenario.Distiller.ReactionSeconds >= 0))
        {
            errors.Add($"distiller.reactionSeconds = {Show(scenario.Distiller.ReactionSeconds)}: 0 or more");
        }
        var still = scenario.Still;
        if (still.LayerCount is < 1 or > 100) errors.Add($"still.layerCount = {still.LayerCount}: 1 to 100");
        if (!(still.LayerMassKilograms > 0)) errors.Add($"still.layerMassKilograms = {Show(still.LayerMassKilograms)}: above 0");
        if (!(still.BedStrengthPercentVolume > 0 && still.BedStrengthPercentVolume < 30)) errors.Add($"still.bedStrengthPercentVolume = {Show(still.BedStrengthPercentVolume)}: above 0 and below 30");
        if (!(still.BarometerHectopascals > 800 && still.BarometerHectopascals < 1100)) errors.Add($"still.barometerHectopascals = {Show(still.BarometerHectopascals)}: 800 to 1100");
        if (!(still.SteamFlowAtFullValveKilogramsPerSecond > 0)) errors.Add($"still.steamFlowAtFullValveKilogramsPerSecond = {Show(still.SteamFlowAtFullValveKilogramsPerSecond)}: above 0");
        if (!(still.CoolingFlowAtFullValveLitresPerMinute > 0)) errors.Add($"still.coolingFlowAtFullValveLitresPerMinute = {Show(still.CoolingFlowAtFullValveLitresPerMinute)}: above 0");
        return errors.Count == 0 ? (scenario, errors) : (null, errors);
    }

    private static void CheckTiming(IScenarioTiming timing, string path, List<string> errors)
    {
        if (timing.AtSeconds is not null == (timing.Phase is not null))
        {
            errors.Add($"{path}: atSeconds = {Show(timing.AtSeconds)}, phase = {Quote(timing.Phase)}: exactly one of atSeconds (from batch start) or phase with afterSeconds");
            return;
        }
        if (timing.AtSeconds is { } at && !(at >= 0))
        {
            errors.Add($"{path}.atSeconds = {Show(at)}: 0 or more seconds from batch start");
        }
        if (timing.Phase is not null && (!Phases.TryParse(timing.Phase, out var phase) || !phase.IsActive()))
        {
            errors.Add($"{path}.phase = {Quote(timing.Phase)}: one of loading, sealed, heads, hearts, tails, steaming");
        }
        if (timing.AfterSeconds is { } after && (!(after >= 0) || timing.Phase is null))
        {
            errors.Add($"{path}.afterSeconds = {Show(after)}: 0 or more, and only with phase");
        }
    }

    private static string Quote(string? text) => text is null ? "null" : $"\"{text}\"";

    private static string Show(double? value) => value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) : "null";
}
