namespace StillControl.Plant;

/// <summary>
/// Something that happened at one still of the plant, as the plant's still registry saw it on the still's MQTT topics
/// (contract 2). Kind is one of alarm-raised, alarm-cleared, alarm-acknowledged, held, released, advisory, advisory-done,
/// offline, online, backlog, backlog-cleared.
/// </summary>
public sealed record PlantEvent(string Site, string Still, string Kind, string Code, string Message, DateTimeOffset At);
