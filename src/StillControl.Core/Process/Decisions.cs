namespace StillControl.Process;

public enum EventKind
{
    BatchStarted,
    PhaseChanged,
    GradeChanged,
    InterlockTrip,
    Held,
    Resumed,
    AlarmRaised,
    AlarmCleared,
    AlarmAcknowledged,
    CommandAccepted,
    CommandRefused,
    Advisory,
    BatchEnded,
    /// <summary>A manual output test (commissioning) started, stopped or went back to safe by itself.</summary>
    OutputTest,
}

public static class EventKinds
{
    private static readonly string[] names =
    [
        "batch-started", "phase-changed", "grade-changed", "interlock-trip", "held", "resumed", "alarm-raised", "alarm-cleared",
        "alarm-acknowledged", "command-accepted", "command-refused", "advisory", "batch-ended", "output-test",
    ];

    public static string Name(this EventKind kind) => names[(int)kind];
}

/// <summary>
/// Something worth keeping that happened in a control step. <paramref name="Channel"/> names the reading behind it, if one. A class:
/// events are rare (a steady step raises none), and lists and queues of a class run the framework's precompiled code from the
/// first step, where a struct's would be compiled while the loop runs.
/// </summary>
public sealed record ControllerEvent(EventKind Kind, DateTimeOffset At, Phase Phase, string Code, string Message, Channel? Channel = null);

/// <summary>What one control step decided. One instance is reused every step, so a steady step allocates nothing.</summary>
public sealed class Decisions
{
    public DateTimeOffset At;
    public double SteamValvePercent;
    public double CoolingValvePercent = 100;
    /// <summary>The receiver the diverter sends distillate to; null: none (before the lid goes on, after the batch).</summary>
    public string? Receiver;
    /// <summary>Sounds until every alarm is acknowledged.</summary>
    public bool Horn;
    /// <summary>Lit while any alarm condition holds or the batch is held.</summary>
    public bool Beacon;
    /// <summary>An interlock condition holds: steam may not open.</summary>
    public bool SteamInhibited;
    /// <summary>While loading: the bed surface says to cover the next layer now.</summary>
    public bool CoverLayerAdvised;
    public double? StrengthPercentVolume;
    public double? DistillateKilogramsPerMinute;
    /// <summary>The steam isolation valve (a second, fail-closed shut-off) may be open: steam is wanted and no interlock holds.</summary>
    public bool SteamIsolationOpen;
    /// <summary>The service has just started and the sensors' first samples are still arriving: nothing is judged, outputs are safe.</summary>
    public bool Settling;

    public List<ControllerEvent> Events { get; } = new(32);

    /// <summary>Starts a new cycle: no events, outputs to be decided.</summary>
    public void Clear(DateTimeOffset at)
    {
        Events.Clear();
        ResetOutputs(at);
    }

    public void ResetOutputs(DateTimeOffset at)
    {
        At = at;
        Receiver = null;
        Horn = Beacon = SteamInhibited = CoverLayerAdvised = SteamIsolationOpen = Settling = false;
        StrengthPercentVolume = null;
        DistillateKilogramsPerMinute = null;
    }

    /// <summary>Every output in its safe state: steam closed, cooling open, alarm on.</summary>
    public void SetSafe()
    {
        SteamValvePercent = 0;
        CoolingValvePercent = 100;
        SteamIsolationOpen = false;
        Horn = Beacon = true;
    }
}
