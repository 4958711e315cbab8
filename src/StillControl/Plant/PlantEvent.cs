namespace StillControl.Plant;

/// <summary>
/// Something that happened at one still of the plant, as the plant's still registry saw it on the still's MQTT topics
/// (contract 2). <paramref name="Kind"/> is one of <see cref="PlantEventKinds.All"/>.
/// </summary>
public sealed record PlantEvent(string Site, string Still, string Kind, string Code, string Message, DateTimeOffset At);

/// <summary>The kinds a <see cref="PlantEvent"/> carries.</summary>
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

    public static readonly string[] All = [AlarmRaised, AlarmCleared, AlarmAcknowledged, Held, Released, Advisory, AdvisoryDone, Offline, Online, Backlog, BacklogCleared];
}
