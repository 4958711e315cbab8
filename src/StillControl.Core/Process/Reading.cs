namespace StillControl.Process;

public enum ReadingQuality : byte
{
    /// <summary>No source is configured for this channel.</summary>
    NotConfigured = 0,
    Good,
    Faulted,
}

/// <summary>Why a reading is not a number the controller may act on.</summary>
public enum FaultReason : byte
{
    None = 0,
    /// <summary>The device does not answer (DS18B20 -127 °C, Modbus timeout, missing file).</summary>
    Disconnected,
    /// <summary>A frame or scratchpad failed its checksum.</summary>
    ChecksumError,
    /// <summary>A DS18B20's 85.0 °C power-on value, not a conversion.</summary>
    PowerOnValue,
    /// <summary>Outside the channel's plausible range.</summary>
    OutOfRange,
    /// <summary>Moved faster than the process can.</summary>
    Spike,
    /// <summary>The same raw value for longer than a live sensor repeats itself.</summary>
    Stuck,
    /// <summary>No fresh reading within the channel's stale limit.</summary>
    Stale,
    /// <summary>The source reported an error of its own.</summary>
    SourceError,
}

public static class FaultReasons
{
    private static readonly string[] names =
    [
        "none", "disconnected", "checksum-error", "power-on-value", "out-of-range", "spike", "stuck", "stale", "source-error",
    ];

    public static string Name(this FaultReason reason) => names[(int)reason];

    /// <summary>Every reason's name, indexed by the reason.</summary>
    public static IReadOnlyList<string> Names => names;
}

/// <summary>
/// One sample of a channel as the hardware delivered it. A faulted reading carries a reason, never a number to use.
/// <paramref name="Counted"/>: the value is counted from pulses (a flow meter), which cannot freeze at a non-zero value (a dead
/// meter reads zero), so the stuck check does not apply; a steady flow may well give the same count window after window.
/// </summary>
public readonly record struct Reading(double Value, ReadingQuality Quality, FaultReason Fault, DateTimeOffset Timestamp, bool Counted = false)
{
    public static Reading Good(double value, DateTimeOffset at) => new(value, ReadingQuality.Good, FaultReason.None, at);

    public static Reading FromPulses(double value, DateTimeOffset at) => new(value, ReadingQuality.Good, FaultReason.None, at, Counted: true);

    public static Reading Faulted(FaultReason reason, DateTimeOffset at) => new(double.NaN, ReadingQuality.Faulted, reason, at);

    public static readonly Reading NotConfigured = default;

    public bool IsGood => Quality == ReadingQuality.Good;
}

/// <summary>The latest reading of every channel, indexed by <see cref="Channel"/>. Reused between control steps.</summary>
public sealed class ReadingSnapshot
{
    private readonly Reading[] readings = new Reading[Channels.Count];

    public Reading this[Channel channel]
    {
        get => readings[(int)channel];
        set => readings[(int)channel] = value;
    }

    /// <summary>
    /// The outputs' own report: an output that did not take its last value (a bus module that stopped answering), in words
    /// naming it; null while every output answers. Read with the sensors, so it reaches the controller one step later.
    /// </summary>
    public string? OutputFault { get; set; }

    public void CopyFrom(ReadingSnapshot other)
    {
        other.readings.CopyTo(readings, 0);
        OutputFault = other.OutputFault;
    }
}
