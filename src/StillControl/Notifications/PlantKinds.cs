namespace StillControl.Notifications;

/// <summary>The kinds a <see cref="Plant.PlantEvent"/> carries (contract 2).</summary>
public static class PlantKinds
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
