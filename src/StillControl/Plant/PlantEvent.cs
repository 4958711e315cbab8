namespace StillControl.Plant;

/// <summary>
/// Something at one still that a person at the plant may need to know, raised by the <see cref="StillRegistry"/> as it reads
/// the stills' MQTT topics. <paramref name="Kind"/> is one of <see cref="PlantEventKinds"/>; <paramref name="Code"/> names what
/// it is about (an alarm code, <c>still-offline</c>, <c>cover-layer</c>, a backlog alarm's code); <paramref name="At"/> is the
/// plant's clock when it saw it.
/// </summary>
public sealed record PlantEvent(string Site, string Still, string Kind, string Code, string Message, DateTimeOffset At);

/// <summary>The kinds a <see cref="PlantEvent"/> has; each "-cleared"/"-done"/online kind closes the one before it with the same code.</summary>
public static class PlantEventKinds
{
    public const string AlarmRaised = "alarm-raised";
    public const string AlarmCleared = "alarm-cleared";
    public const string AlarmAcknowledged = "alarm-acknowledged";
    public const string Held = "held";
    public const string Released = "released";
    public const string Advisory = "advisory";
    public const string AdvisoryDone = "advisory-done";
    public const string Offline = "offline";
    public const string Online = "online";
    public const string Backlog = "backlog";
    public const string BacklogCleared = "backlog-cleared";

    public static readonly IReadOnlyList<string> All =
        [AlarmRaised, AlarmCleared, AlarmAcknowledged, Held, Released, Advisory, AdvisoryDone, Offline, Online, Backlog, BacklogCleared];

    /// <summary>The code of the offline/online pair: a still gone (availability offline, or silent while a batch runs) and back.</summary>
    public const string StillOffline = "still-offline";
}
