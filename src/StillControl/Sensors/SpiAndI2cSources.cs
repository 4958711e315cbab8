using System.Device.I2c;
using System.Device.Spi;
using Iot.Device.Bmxx80;
using Iot.Device.Max31865;
using StillControl.Process;
using UnitsNet;

namespace StillControl.Sensors;

/// <summary>
/// A PT100 (or PT1000) through a MAX31865 on SPI: fast enough for the still-head vapour. The library converts; the chip's fault
/// register is read after every conversion, and any fault flag (open or shorted element, reference or supply trouble) makes
/// the reading a fault with the flag named.
/// </summary>
public sealed class Max31865Source : IPolledSource
{
    private readonly Channel channel;
    private readonly Max31865 device;
    private readonly string where;

    public Max31865Source(Channel channel, SpiDevice spi, bool pt1000, int wires, double referenceOhms, TimeSpan period, string where)
    {
        this.channel = channel;
        this.where = where;
        device = new Max31865(spi, pt1000 ? PlatinumResistanceThermometerType.Pt1000 : PlatinumResistanceThermometerType.Pt100,
            wires == 3 ? ResistanceTemperatureDetectorWires.ThreeWire : wires == 2 ? ResistanceTemperatureDetectorWires.TwoWire : ResistanceTemperatureDetectorWires.FourWire,
            ElectricResistance.FromOhms(referenceOhms), ConversionFilterMode.Filter50Hz);
        Period = period;
        Channels = [channel];
    }

    public string Name => $"MAX31865 {where}";

    public TimeSpan Period { get; }

    public IReadOnlyList<Channel> Channels { get; }

    public string? Health => null;

    public void Poll(LatestReadings into, TimeProvider time)
    {
        try
        {
            var celsius = device.Temperature.DegreesCelsius;
            var faults = device.Faults;
            var now = time.GetUtcNow();
            var named = FaultNames(faults);
            if (named.Length > 0)
            {
                var open = faults.ReferenceInHigh || faults.ReferenceInLow || faults.HighThreshold;
                into.Publish(channel, Reading.Faulted(open ? FaultReason.Disconnected : FaultReason.SourceError, now), $"{where}: fault register says {named}");
            }
            else if (!double.IsFinite(celsius))
            {
                into.Publish(channel, Reading.Faulted(FaultReason.Disconnected, now), $"{where}: resistance gives no temperature (element open or shorted)");
            }
            else
            {
                into.Publish(channel, Reading.Good(celsius, now), $"{where}: {celsius:0.00} °C");
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            into.Publish(channel, Reading.Faulted(FaultReason.Disconnected, time.GetUtcNow()), $"{where}: {e.Message}");
        }
    }

    private static string FaultNames(FaultStatus f)
    {
        var names = new List<string>(6);
        if (f.HighThreshold) names.Add("RTD high threshold");
        if (f.LowThreshold) names.Add("RTD low threshold");
        if (f.ReferenceInHigh) names.Add("REFIN- above 0.85 x bias (element open)");
        if (f.ReferenceInLow) names.Add("REFIN- below 0.85 x bias (element open)");
        if (f.ResistanceTemperatureDetectorLow) names.Add("RTDIN- below 0.85 x bias (element open)");
        if (f.OverUnderVoltage) names.Add("over or under voltage");
        return string.Join(", ", names);
    }

    public void Dispose() => device.Dispose();
}

/// <summary>A BME280 on I2C for the air pressure (hPa) of the boiling-point correction.</summary>
public sealed class Bme280Source : IPolledSource
{
    private readonly Channel channel;
    private readonly Bme280 device;
    private readonly string where;

    public Bme280Source(Channel channel, I2cDevice i2c, TimeSpan period, string where)
    {
        this.channel = channel;
        this.where = where;
        device = new Bme280(i2c);
        device.SetPowerMode(Iot.Device.Bmxx80.PowerMode.Bmx280PowerMode.Normal);
        Period = period;
        Channels = [channel];
    }

    public string Name => $"BME280 {where}";

    public TimeSpan Period { get; }

    public IReadOnlyList<Channel> Channels { get; }

    public string? Health => null;

    public void Poll(LatestReadings into, TimeProvider time)
    {
        try
        {
            var result = device.Read();
            var now = time.GetUtcNow();
            if (result.Pressure is { } pressure && double.IsFinite(pressure.Hectopascals))
            {
                into.Publish(channel, Reading.Good(pressure.Hectopascals, now), $"{where}: {pressure.Hectopascals:0.0} hPa");
            }
            else
            {
                into.Publish(channel, Reading.Faulted(FaultReason.SourceError, now), $"{where}: no pressure in the reading");
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            into.Publish(channel, Reading.Faulted(FaultReason.Disconnected, time.GetUtcNow()), $"{where}: {e.Message}");
        }
    }

    public void Dispose() => device.Dispose();
}
