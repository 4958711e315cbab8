using System.Text.Json.Serialization;

namespace StillControl.Process;

public enum AlarmCode
{
    EmergencyStop,
    CoolingWaterLoss,
    SteamOverpressure,
    CoolingOutTrip,
    DistillateOvertemperature,
    CoolingOverMaximum,
    CoolingOutHigh,
    PowerLoss,
    NoFirstDistillate,
    LoadingOverdue,
    /// <summary>The lid switch reads open (or unreadable) while steam would reach a sealed still.</summary>
    LidOpen,
    /// <summary>An output (a valve on a bus module, say) did not take the value it was sent: the still is not under control.</summary>
    OutputFault,
    /// <summary>Cross-check: the still-head vapour is hot and no distillate flows (a dead flow meter, or vapour going elsewhere).</summary>
    VapourWithoutDistillate,
    /// <summary>Cross-check: the distillate reads colder than the cooling water that cools it (an offset or drifting probe).</summary>
    DistillateBelowCoolingWater,
    /// <summary>Cross-check: the two distillate probes disagree (one has drifted, stepped or come out of its well).</summary>
    DistillateProbesDisagree,
    /// <summary>Cross-check: the heat the cooling water takes and the heat the condensing distillate gives do not match.</summary>
    CondenserHeatUnbalanced,
    /// <summary>The steam valve's position feedback does not follow its command (stuck, or commanded closed and still open).</summary>
    SteamValveNotFollowing,
    /// <summary>The cooling water is too warm for a collecting phase's cooling maximum: a person decides.</summary>
    CoolingLimitUnreachable,
    /// <summary>A phase ran past its maximum (a warning), then past the grace after it (a hold).</summary>
    PhaseOverdue,
    /// <summary>Steam commanded at nothing for the starved time in a running batch: held.</summary>
    SteamStarved,
    /// <summary>Sensor faults occupy one slot per channel from here on.</summary>
    SensorFault,
}

/// <summary>Alarm slots: the fixed codes, then one sensor-fault slot per channel.</summary>
public static class Alarms
{
    public const int SlotCount = (int)AlarmCode.SensorFault + Channels.Count;

    private static readonly string[] codes = BuildCodes();

    private static string[] BuildCodes()
    {
        var result = new string[SlotCount];
        string[] fixedCodes =
        [
            "emergency-stop", "cooling-water-loss", "steam-overpressure", "cooling-water-outlet-trip", "distillate-overtemperature",
            "cooling-over-maximum", "cooling-water-outlet-high", "power-loss", "no-first-distillate", "loading-overdue", "lid-open", "output-fault",
            "vapour-without-distillate", "distillate-below-cooling-water", "distillate-probes-disagree", "condenser-heat-unbalanced", "steam-valve-not-following", "cooling-limit-unreachable", "phase-overdue", "steam-starved",
        ];
        fixedCodes.CopyTo(result, 0);
        foreach (var channel in Channels.All)
        {
            result[(int)AlarmCode.SensorFault + (int)channel] = "sensor-fault:" + channel.Name();
        }
        return result;
    }

    public static int Slot(AlarmCode code) => (int)code;

    public static int SensorSlot(Channel channel) => (int)AlarmCode.SensorFault + (int)channel;

    public static string Code(int slot) => codes[slot];

    public static Channel? ChannelOf(int slot) => slot >= (int)AlarmCode.SensorFault ? (Channel)(slot - (int)AlarmCode.SensorFault) : null;

    public static int SlotOf(string code) => Array.IndexOf(codes, code);
}

/// <summary>The live state of one alarm slot.</summary>
public struct AlarmSlot
{
    /// <summary>The condition holds now.</summary>
    public bool Active;
    /// <summary>Raised and not yet acknowledged (the horn sounds), whether or not the condition still holds.</summary>
    public bool Unacknowledged;
    /// <summary>A trip: holds the batch and blocks resume while active.</summary>
    public bool Trip;
    /// <summary>The entry in the batch's alarm log, or -1 outside a batch.</summary>
    public int LogIndex;
    public string Detail;
    /// <summary>A warning whose condition has gone, since when: it clears after <see cref="StillController.WarningClearSeconds"/>.</summary>
    public DateTimeOffset? ClearPendingSince;
}

/// <summary>An alarm slot as the batch state stores it, so a restart keeps unacknowledged alarms and latched trips.</summary>
public sealed class StoredAlarm
{
    public string Code { get; set; } = "";
    public bool Active { get; set; }
    public bool Unacknowledged { get; set; }
    public bool Trip { get; set; }
    public int LogIndex { get; set; } = -1;
    public string Detail { get; set; } = "";
}

/// <summary>A departure from the recipe that a person accepted, kept on the batch record.</summary>
public sealed class DeviationRecord
{
    public DateTimeOffset At { get; set; }
    public string Phase { get; set; } = "";
    public string Code { get; set; } = "";
    public string Detail { get; set; } = "";
    public string Operator { get; set; } = "";
}

/// <summary>An alarm as the batch record keeps it.</summary>
public sealed class AlarmRecord
{
    public string Code { get; set; } = "";
    public string Severity { get; set; } = "warning";
    public string Phase { get; set; } = "";
    public DateTimeOffset RaisedAt { get; set; }
    public DateTimeOffset? ClearedAt { get; set; }
    public DateTimeOffset? AcknowledgedAt { get; set; }
    public string Detail { get; set; } = "";
    /// <summary>How many times it was raised: a warning back within minutes of clearing is the same alarm, counted.</summary>
    public int Occurrences { get; set; } = 1;

    [JsonIgnore]
    public bool IsTrip => Severity == "trip";
}
