using System.Text.Json.Serialization;
using StillControl.Control;

namespace StillControl.Process;

/// <summary>Distillate collected into one receiver during one phase (or hearts grade).</summary>
public sealed class Fraction
{
    public string Receiver { get; set; } = "";
    public string Phase { get; set; } = "";
    public string? Grade { get; set; }
    public double VolumeLitres { get; set; }
    public double EthanolLitres { get; set; }
    public double MassKilograms { get; set; }
    /// <summary>Litres collected before any strength was known (the still-head probe still warming); assayed at the first strength.</summary>
    public double UnassayedLitres { get; set; }

    [JsonIgnore]
    public double? AbvPercent => VolumeLitres - UnassayedLitres > 1e-9 ? EthanolLitres / (VolumeLitres - UnassayedLitres) * 100 : null;
}

/// <summary>One phase of a batch as the record keeps it.</summary>
public sealed class PhaseRecord
{
    public string Phase { get; set; } = "";
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public string Reason { get; set; } = "";
    /// <summary>Highest good reading of the phase's cooling channel.</summary>
    public double? CoolingMaxCelsius { get; set; }
    public string CoolingChannel { get; set; } = "";
    /// <summary>Commanded steam integrated over the time the batch was not held.</summary>
    public double SteamPercentSeconds { get; set; }
    public double RunningSeconds { get; set; }
    /// <summary>What ended the phase (the next phase's reason for beginning); null while it runs.</summary>
    public string? EndReason { get; set; }

    [JsonIgnore]
    public double? SteamMeanPercent => RunningSeconds > 0 ? SteamPercentSeconds / RunningSeconds : null;
}

/// <summary>Memory of one channel's reading checks between steps.</summary>
public struct SignalMemory
{
    public ReadingQuality Status;
    public FaultReason Fault;
    public double Value;
    public bool HasAccepted;
    public double LastAccepted;
    public DateTimeOffset LastAcceptedAt;
    /// <summary>When <see cref="LastAccepted"/> first appeared: a source that holds its value between conversions repeats it.</summary>
    public DateTimeOffset LastAcceptedSince;
    public DateTimeOffset LastTimestamp;
    public double LastRaw;
    public DateTimeOffset RawSince;
    /// <summary>The trend of the accepted readings, units per second (an exponential average of their slope).</summary>
    public double SlopePerSecond;

    public readonly bool IsGood => Status == ReadingQuality.Good;
    public readonly bool IsConfigured => Status != ReadingQuality.NotConfigured;
}

/// <summary>
/// Everything the controller remembers: the batch (phase, fractions, record) and its own control memory. The caller owns it and
/// persists it; <see cref="StillController"/> changes it only inside Step and Apply.
/// </summary>
public sealed class BatchState
{
    public string? BatchId { get; set; }
    public Phase Phase { get; set; } = Phase.Idle;
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public DateTimeOffset PhaseStartedAt { get; set; }
    /// <summary>Time in the phase while not held.</summary>
    public double PhaseRunningSeconds { get; set; }
    public int HeartsGrade { get; set; }
    public bool Held { get; set; }
    public string? HoldCause { get; set; }
    public DateTimeOffset? HeldSince { get; set; }

    public double SteamValvePercent { get; set; }
    public double CoolingValvePercent { get; set; } = 100;
    [JsonInclude] public Pid CoolingLoop;
    [JsonInclude] public Pid FlowTrim;
    public double PressureTrimPercent { get; set; }
    public double SteamCutbackPercent { get; set; }
    public double OverMaximumSeconds { get; set; }
    public double? StrengthPercentVolume { get; set; }
    public double? FilteredStrengthPercentVolume { get; set; }
    public double BelowEndSeconds { get; set; }
    public bool CoverAdvised { get; set; }
    public int CoverAdvisories { get; set; }
    /// <summary>Cross-check counters: seconds the condition has held so far.</summary>
    public double VapourWithoutDistillateSeconds { get; set; }
    public double DistillateBelowCoolingInSeconds { get; set; }
    public double DistillateProbesDisagreeSeconds { get; set; }
    public double CondenserUnbalancedSeconds { get; set; }
    public double ValveNotFollowingSeconds { get; set; }
    /// <summary>The last heat balance judged: what the cooling water takes and what the condensing distillate gives, kW.</summary>
    public double CondenserWaterKilowatts { get; set; }
    public double CondenserVapourKilowatts { get; set; }
    /// <summary>Running seconds in the phase at which the phase watchdog holds the batch; null: the phase ends itself.</summary>
    public double? WatchdogHoldAtSeconds { get; set; }
    /// <summary>Seconds of running batch with steam commanded at nothing.</summary>
    public double SteamStarvedSeconds { get; set; }
    /// <summary>The distillate mass flow's recent average, against which the flow trim tells a falling flow.</summary>
    public double? DistillateFlowTrendKilogramsPerMinute { get; set; }
    /// <summary>Departures from the recipe a person accepted (a cooling limit the water cannot reach).</summary>
    public List<DeviationRecord> Deviations { get; set; } = [];

    public List<PhaseRecord> Phases { get; set; } = [];
    public List<Fraction> Fractions { get; set; } = [];
    public List<AlarmRecord> AlarmLog { get; set; } = [];
    public List<OperatorAction> Actions { get; set; } = [];
    /// <summary>Index into <see cref="Fractions"/> of the receiver now filling, or -1.</summary>
    public int CurrentFraction { get; set; } = -1;

    public DateTimeOffset? LastStepAt { get; set; }
    /// <summary>The first step of this service run, and when its readings had all arrived: not stored, a restart settles again.</summary>
    [JsonIgnore] public DateTimeOffset? FirstStepAt { get; set; }
    [JsonIgnore] public DateTimeOffset? SettledAt { get; set; }

    /// <summary>The alarm slots that are active or unacknowledged, as stored with the batch so that a restart keeps them.</summary>
    public List<StoredAlarm> StoredAlarms
    {
        get
        {
            var stored = new List<StoredAlarm>();
            for (var i = 0; i < AlarmSlots.Length; i++)
            {
                var slot = AlarmSlots[i];
                if (!slot.Active && !slot.Unacknowledged) continue;
                stored.Add(new StoredAlarm { Code = Alarms.Code(i), Active = slot.Active, Unacknowledged = slot.Unacknowledged, Trip = slot.Trip, LogIndex = slot.LogIndex, Detail = slot.Detail });
            }
            return stored;
        }
        set
        {
            foreach (var alarm in value ?? [])
            {
                var i = Alarms.SlotOf(alarm.Code);
                if (i < 0) continue;
                AlarmSlots[i] = new AlarmSlot
                {
                    Active = alarm.Active, Unacknowledged = alarm.Unacknowledged, Trip = alarm.Trip,
                    LogIndex = alarm.LogIndex < AlarmLog.Count ? alarm.LogIndex : -1, Detail = alarm.Detail ?? "",
                };
            }
        }
    }

    /// <summary>Whether a person accepted that this phase's cooling limit is out of the cooling water's reach.</summary>
    public bool DeviationAccepted(Phase phase)
    {
        var name = phase.Name();
        foreach (var deviation in Deviations)
        {
            if (deviation.Phase == name) return true;
        }
        return false;
    }

    [JsonIgnore] public SignalMemory[] Signals { get; } = new SignalMemory[Channels.Count];
    [JsonIgnore] public AlarmSlot[] AlarmSlots { get; } = CreateSlots();
    /// <summary>An interlock condition held at the last step.</summary>
    [JsonIgnore] public bool SteamInhibited { get; set; }
    /// <summary>The outputs' last report of an output that did not take its value (<see cref="ReadingSnapshot.OutputFault"/>).</summary>
    [JsonIgnore] public string? OutputFault { get; set; }

    public SignalMemory Signal(Channel channel) => Signals[(int)channel];

    public bool AnyActiveTrip()
    {
        foreach (var slot in AlarmSlots)
        {
            if (slot.Active && slot.Trip) return true;
        }
        return false;
    }

    public bool AnyUnacknowledged()
    {
        foreach (var slot in AlarmSlots)
        {
            if (slot.Unacknowledged) return true;
        }
        return false;
    }

    public bool AnyActive()
    {
        foreach (var slot in AlarmSlots)
        {
            if (slot.Active) return true;
        }
        return false;
    }

    public PhaseRecord? CurrentPhaseRecord => Phases.Count > 0 ? Phases[^1] : null;

    public Fraction? Current => CurrentFraction >= 0 && CurrentFraction < Fractions.Count ? Fractions[CurrentFraction] : null;

    /// <summary>Resets the batch part for a new batch; reading memory and live alarms carry over.</summary>
    internal void BeginBatch(string batchId, DateTimeOffset now)
    {
        BatchId = batchId;
        Phase = Phase.Loading;
        StartedAt = now;
        EndedAt = null;
        PhaseStartedAt = now;
        PhaseRunningSeconds = 0;
        HeartsGrade = 0;
        Held = false;
        HoldCause = null;
        HeldSince = null;
        CoolingLoop.Reset();
        FlowTrim.Reset();
        DistillateFlowTrendKilogramsPerMinute = null;
        PressureTrimPercent = SteamCutbackPercent = OverMaximumSeconds = BelowEndSeconds = 0;
        FilteredStrengthPercentVolume = null;
        CoverAdvised = false;
        CoverAdvisories = 0;
        VapourWithoutDistillateSeconds = DistillateBelowCoolingInSeconds = DistillateProbesDisagreeSeconds = CondenserUnbalancedSeconds = SteamStarvedSeconds = 0;
        WatchdogHoldAtSeconds = null;
        Deviations = [];
        Phases = [];
        Fractions = [];
        AlarmLog = [];
        Actions = [];
        CurrentFraction = -1;
        for (var i = 0; i < AlarmSlots.Length; i++)
        {
            AlarmSlots[i].LogIndex = -1;
        }
    }

    private static AlarmSlot[] CreateSlots()
    {
        var slots = new AlarmSlot[Alarms.SlotCount];
        for (var i = 0; i < slots.Length; i++)
        {
            slots[i].LogIndex = -1;
            slots[i].Detail = "";
        }
        return slots;
    }
}
