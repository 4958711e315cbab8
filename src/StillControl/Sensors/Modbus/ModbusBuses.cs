namespace StillControl.Sensors.Modbus;

/// <summary>
/// One <see cref="ModbusBusSource"/> per RS-485 bus that anything uses, shared by the inputs (polled on the bus thread) and
/// the valve outputs of analog output modules (writes between polls, or at once when a valve moves toward safe).
/// </summary>
public sealed class ModbusBuses : IDisposable
{
    private readonly Dictionary<string, (ModbusBusSource Source, BusPlan Plan)> buses = new(StringComparer.Ordinal);

    public ModbusBuses(PiPlan plan, IPiDevices devices, bool keepFrameGap = true)
    {
        var outputBuses = new[] { plan.Steam?.Modbus?.Bus, plan.Cooling?.Modbus?.Bus }.OfType<string>().ToHashSet();
        foreach (var bus in plan.Buses.Where(b => b.Inputs.Count > 0 || outputBuses.Contains(b.Name)))
        {
            var source = new ModbusBusSource(bus.Name, () => devices.OpenSerial(bus.Serial), bus.Serial, bus.Inputs, bus.Period, bus.ResponseTimeout, bus.Silence, bus.Retries, keepFrameGap);
            buses[bus.Name] = (source, bus);
        }
    }

    public IEnumerable<(ModbusBusSource Source, BusPlan Plan)> All => buses.Values;

    public ModbusBusSource Get(string name) => buses[name].Source;

    /// <summary>Sends every queued output write now (the <c>safe</c> verb, where no bus thread runs).</summary>
    public void FlushAll()
    {
        foreach (var (source, _) in buses.Values)
        {
            source.FlushWrites();
        }
    }

    public void Dispose()
    {
        foreach (var (source, _) in buses.Values)
        {
            source.Dispose();
        }
    }
}
