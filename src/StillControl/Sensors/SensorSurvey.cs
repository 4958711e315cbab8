using StillControl.Process;

namespace StillControl.Sensors;

/// <summary>One configured sensor as <c>probe</c> and the panel's commissioning page show it: its reading, or why it is faulted.</summary>
public sealed record SurveyLine(string Channel, string Key, string Status, double? Value, string Unit, string? Fault, string? Detail);

/// <summary>A thermometer found on a 1-Wire bus, with the channel that uses it (null: none does).</summary>
public sealed record SurveyOneWire(string BusId, string DeviceId, string? Channel, string? Key);

/// <summary>A bus's own account of itself: its frame counters (CRC errors, retries, timeouts).</summary>
public sealed record SurveyBus(string Name, string Health);

/// <summary>
/// What the sensor layer can say about the wiring, in one place for <c>stillcontrol probe</c> and the panel's commissioning page:
/// each configured channel judged by the quality layer, the 1-Wire thermometers on the bus, and each bus's counters.
/// </summary>
public static class SensorSurvey
{
    /// <summary>A channel's line: "ok" with its value, or "fault" with the reason (not-opened when no source ever answered).</summary>
    public static SurveyLine Line(Channel channel, string key, SignalMemory memory, string? detail)
    {
        var good = memory.Status == ReadingQuality.Good;
        return new SurveyLine(channel.Name(), key, good ? "ok" : "fault", good ? memory.Value : null, channel.Unit(),
            good ? null : memory.Status == ReadingQuality.NotConfigured ? "not-opened" : memory.Fault.Name(), detail);
    }

    /// <summary>Every thermometer on the machine's 1-Wire buses, each with the channel the plan gives it, if any.</summary>
    public static IReadOnlyList<SurveyOneWire> OneWire(PiPlan plan)
    {
        var byId = plan.OneWire.ToDictionary(o => o.Id, StringComparer.Ordinal);
        return OneWireSource.Discover()
            .Select(d => byId.TryGetValue(d.DeviceId, out var input)
                ? new SurveyOneWire(d.BusId, d.DeviceId, input.Channel.Name(), input.Key)
                : new SurveyOneWire(d.BusId, d.DeviceId, null, null))
            .ToArray();
    }

    /// <summary>Configured 1-Wire thermometers the bus does not show (a loose wire, a wrong id in the configuration).</summary>
    public static IReadOnlyList<string> MissingOneWire(PiPlan plan, IReadOnlyList<SurveyOneWire> found) =>
        plan.OneWire.Where(o => !found.Any(f => f.DeviceId == o.Id)).Select(o => $"{o.Key}:Id = \"{o.Id}\" ({o.Channel.Name()})").ToArray();

    /// <summary>Each bus's counters, for the sources that keep them.</summary>
    public static IReadOnlyList<SurveyBus> Buses(PiSensorBank bank) =>
        bank.Sources.Where(s => s.Health is not null).Select(s => new SurveyBus(s.Name, s.Health!)).ToArray();
}
