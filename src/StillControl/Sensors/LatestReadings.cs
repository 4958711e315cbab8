using StillControl.Process;

namespace StillControl.Sensors;

/// <summary>
/// The newest reading of each channel, written by the source threads and copied by the control loop. Each reading keeps the
/// time it was taken, so a source that hangs shows up as stale in the quality layer, never as a frozen good value.
/// </summary>
public sealed class LatestReadings
{
    private readonly Lock gate = new();
    private readonly Reading[] readings = new Reading[Channels.Count];
    private readonly string?[] details = new string?[Channels.Count];

    public void Publish(Channel channel, Reading reading, string? detail = null)
    {
        lock (gate)
        {
            readings[(int)channel] = reading;
            details[(int)channel] = detail;
        }
    }

    public Reading this[Channel channel]
    {
        get
        {
            lock (gate)
            {
                return readings[(int)channel];
            }
        }
    }

    /// <summary>The source's own words about the latest reading (why it failed, which device answered).</summary>
    public string? Detail(Channel channel)
    {
        lock (gate)
        {
            return details[(int)channel];
        }
    }

    public void CopyTo(ReadingSnapshot into, IReadOnlyList<Channel> channels)
    {
        lock (gate)
        {
            foreach (var channel in channels)
            {
                into[channel] = readings[(int)channel];
            }
        }
    }
}

/// <summary>A source read on its own schedule (1-Wire conversions take 750 ms; a Modbus cycle many frames), off the control thread.</summary>
public interface IPolledSource : IDisposable
{
    string Name { get; }

    TimeSpan Period { get; }

    IReadOnlyList<Channel> Channels { get; }

    void Poll(LatestReadings into, TimeProvider time);

    /// <summary>One line about the source's health for <c>probe</c> (frame counters of a bus); null when it has none.</summary>
    string? Health { get; }
}
