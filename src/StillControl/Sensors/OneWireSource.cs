using Iot.Device.OneWire;
using StillControl.Process;

namespace StillControl.Sensors;

/// <summary>
/// DS18B20 thermometers on the kernel's 1-Wire bus, read through Iot.Device.Bindings one after another (each read is a
/// conversion of up to 750 ms). What the library passes through is judged here: a CRC "NO" is a checksum fault, -127 °C and an
/// all-zero scratchpad are a missing device, a vanished device file is a disconnection. The 85.0 °C power-on value, range,
/// spikes, stuck and stale readings are judged later by the quality layer every source shares.
/// </summary>
public sealed class OneWireSource : IPolledSource
{
    /// <summary>What a disconnected DS18B20 reads in several libraries; never a real still temperature.</summary>
    public const double DisconnectedCelsius = -127.0;

    private readonly (Channel Channel, string Id, OneWireThermometerDevice Device)[] sensors;

    public OneWireSource(IEnumerable<(Channel Channel, string BusId, string DeviceId)> sensors, TimeSpan period)
    {
        this.sensors = sensors.Select(s => (s.Channel, s.DeviceId, new OneWireThermometerDevice(s.BusId, s.DeviceId))).ToArray();
        Period = period;
        Channels = this.sensors.Select(s => s.Channel).ToArray();
    }

    public string Name => "1-Wire";

    public TimeSpan Period { get; }

    public IReadOnlyList<Channel> Channels { get; }

    public string? Health => null;

    /// <summary>Every thermometer on every bus: (bus id, ROM id). Empty when the 1-Wire overlay is not loaded.</summary>
    public static IReadOnlyList<(string BusId, string DeviceId)> Discover()
    {
        try
        {
            return OneWireThermometerDevice.EnumerateDevices().Select(d => (d.BusId, d.DeviceId)).ToArray();
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }

    public void Poll(LatestReadings into, TimeProvider time)
    {
        foreach (var (channel, id, device) in sensors)
        {
            var (reading, detail) = Read(device, id, time);
            into.Publish(channel, reading, detail);
        }
    }

    private static (Reading, string) Read(OneWireThermometerDevice device, string id, TimeProvider time)
    {
        var now = time.GetUtcNow();
        try
        {
            var celsius = device.ReadTemperature().DegreesCelsius;
            now = time.GetUtcNow();
            if (celsius <= DisconnectedCelsius)
            {
                return (Reading.Faulted(FaultReason.Disconnected, now), $"{id} reads {celsius:0.###} °C: no device answers");
            }
            if (celsius == 0 && ScratchpadIsBlank(device))
            {
                // A bus held low reads as nine zero bytes, whose CRC is also zero: the kernel says YES to it.
                return (Reading.Faulted(FaultReason.Disconnected, now), $"{id} returned an all-zero scratchpad: bus held low or device gone");
            }
            return (Reading.Good(celsius, now), $"{id} {celsius:0.000} °C");
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("Unable to read", StringComparison.Ordinal))
        {
            return (Reading.Faulted(FaultReason.ChecksumError, now), $"{id}: CRC check failed (kernel said NO)");
        }
        catch (InvalidOperationException e)
        {
            return (Reading.Faulted(FaultReason.SourceError, now), $"{id}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (Reading.Faulted(FaultReason.Disconnected, now), $"{id}: device file gone ({e.GetType().Name})");
        }
    }

    private static bool ScratchpadIsBlank(OneWireThermometerDevice device)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine("/sys/devices", device.BusId, device.DeviceId, "w1_slave"));
            return text.StartsWith("00 00 00 00 00 00 00 00 00", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose()
    {
    }
}
