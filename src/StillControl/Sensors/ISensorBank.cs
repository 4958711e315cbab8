using StillControl.Process;

namespace StillControl.Sensors;

/// <summary>Every configured input of a still. A read that fails says so in the reading's quality, never by a magic number.</summary>
public interface ISensorBank
{
    /// <summary>Fills <paramref name="into"/> with the latest reading of each channel; unconfigured channels stay NotConfigured.</summary>
    void Read(ReadingSnapshot into, DateTimeOffset now);
}

/// <summary>A sensor bank that knows which channels it serves (configuration, not the latest reading).</summary>
public interface IChannelSource
{
    IReadOnlyList<Channel> ConfiguredChannels { get; }
}
