using System.Buffers.Binary;
using System.Device.Gpio;
using System.Device.I2c;
using System.Device.Pwm;
using System.Device.Spi;
using StillControl.Actuators;
using StillControl.Process;
using StillControl.Sensors;
using StillControl.Sensors.Modbus;
using StillControl.Simulation;

namespace StillControl.Tests.Hardware;

/// <summary>
/// The Pi's pins and RS-485 line wired to a simulated still, for the closed-loop test: thermometers are the channels of an
/// 8-channel PT100 module and steam pressure a transmitter, both answering Modbus frames (a faulted sensor reads as an open
/// element, 3276.7 °C, or a silent transmitter), flows are pulse trains, the emergency stop a contact; the valves' PWM duty
/// and the relays' pins are turned back into the still's valve openings, receiver and alarm. (The MAX31865 library sleeps
/// 75 ms per conversion, too slow for a batch on a simulated clock: it has its own tests.)
/// </summary>
public sealed class SimulatedWiring : IPiDevices
{
    public const int EmergencyStopPin = 17;
    public const int CoolingFlowPin = 23;
    public const int DistillateFlowPin = 24;
    public const double PulsesPerLitre = 60;
    public static readonly Dictionary<string, int> ReceiverPins = new() { ["heads"] = 5, ["hearts-1"] = 6, ["hearts-2"] = 13, ["tails"] = 19, ["drain"] = 26 };
    public const int HornPin = 20;
    public const int BeaconPin = 21;

    /// <summary>The PT100 module's channel (1-8) of each thermometer.</summary>
    public static readonly (Channel Channel, int ModuleChannel)[] Thermometers =
    [
        (Channel.Steam, 1), (Channel.Vapour, 2), (Channel.BedSurface, 3), (Channel.Distillate, 4), (Channel.CoolingOut, 5), (Channel.CoolingIn, 6),
    ];

    private readonly SimulatedStill still;
    private readonly TimeProvider time;
    private readonly ReadingSnapshot readings = new();
    private readonly Dictionary<(int, int), PwmChannel> pwms = [];
    private readonly double[] owedPulses = new double[2];
    private DateTimeOffset refreshedAt;

    public SimulatedWiring(SimulatedStill still, TimeProvider time)
    {
        this.still = still;
        this.time = time;
        Driver = new FakeGpioDriver { BeforeRead = Refresh, AfterWrite = (_, _) => PushOutputs() };
        Gpio = new GpioController(Driver);
    }

    public FakeGpioDriver Driver { get; }

    public GpioController Gpio { get; }

    /// <summary>Hardware settings that match this wiring.</summary>
    public static Dictionary<string, string?> Configuration()
    {
        var c = new Dictionary<string, string?> { ["Hardware:Mode"] = "Pi" };
        // The shipped register maps, as an electrician would configure them.
        foreach (var (channel, moduleChannel) in Thermometers)
        {
            c[$"Hardware:Inputs:{channel.Name()}:Source"] = "modbus";
            c[$"Hardware:Inputs:{channel.Name()}:Bus"] = "rs485";
            c[$"Hardware:Inputs:{channel.Name()}:Map"] = "pt100-8ch.json";
            c[$"Hardware:Inputs:{channel.Name()}:Point"] = $"ch{moduleChannel}";
            // This module is set to 0.01 °C: at 0.1 °C an idle still's ambient readings repeat long enough to look stuck.
            c[$"Hardware:Inputs:{channel.Name()}:Scale"] = "0.01";
        }
        c["Hardware:Buses:rs485:Port"] = "/dev/simulated-rs485";
        c["Hardware:Buses:rs485:PollMilliseconds"] = "0";
        c["Hardware:Inputs:steam-pressure:Source"] = "modbus";
        c["Hardware:Inputs:steam-pressure:Bus"] = "rs485";
        c["Hardware:Inputs:steam-pressure:Map"] = "steam-pressure-int16.json";
        c["Hardware:Inputs:steam-pressure:Point"] = "pressure";
        c["Hardware:Inputs:emergency-stop:Source"] = "digital";
        c["Hardware:Inputs:emergency-stop:Pin"] = $"{EmergencyStopPin}";
        foreach (var (channel, pin) in new[] { (Channel.CoolingFlow, CoolingFlowPin), (Channel.DistillateFlow, DistillateFlowPin) })
        {
            c[$"Hardware:Inputs:{channel.Name()}:Source"] = "pulse";
            c[$"Hardware:Inputs:{channel.Name()}:Pin"] = $"{pin}";
            c[$"Hardware:Inputs:{channel.Name()}:PulsesPerLitre"] = $"{PulsesPerLitre}";
        }
        c["Hardware:Outputs:Steam:Kind"] = "pwm";
        c["Hardware:Outputs:Steam:Chip"] = "0";
        c["Hardware:Outputs:Steam:Channel"] = "0";
        c["Hardware:Outputs:Cooling:Kind"] = "pwm";
        c["Hardware:Outputs:Cooling:Chip"] = "0";
        c["Hardware:Outputs:Cooling:Channel"] = "1";
        foreach (var (receiver, pin) in ReceiverPins) c[$"Hardware:Outputs:Receivers:{receiver}:Pin"] = $"{pin}";
        c["Hardware:Outputs:Horn:Pin"] = $"{HornPin}";
        c["Hardware:Outputs:Beacon:Pin"] = $"{BeaconPin}";
        return c;
    }

    public SpiDevice OpenSpi(int bus, int chipSelect) => throw new MissingDeviceException($"/dev/spidev{bus}.{chipSelect} does not exist (no SPI in this wiring)");

    public I2cDevice OpenI2c(int bus, int address) => throw new MissingDeviceException($"/dev/i2c-{bus} does not exist (no barometer in this wiring)");

    public PwmChannel OpenPwm(int chip, int channel, int frequency)
    {
        var pwm = new FakePwm { Frequency = frequency, Changed = _ => PushOutputs() };
        pwms[(chip, channel)] = pwm;
        return pwm;
    }

    /// <summary>The steam valve's PWM channel (chip 0, channel 0) once the outputs have opened it.</summary>
    public FakePwm? SteamPwm => pwms.GetValueOrDefault((0, 0)) as FakePwm;

    public ISerialLine OpenSerial(SerialSettings settings) => Line = new TransmitterLine(settings.Port, Register);

    /// <summary>The RS-485 line once the bus has opened it.</summary>
    public TransmitterLine? Line { get; private set; }

    /// <summary>Unit 1: the PT100 module (0.01 °C, an open element reads 327.67); unit 2: the pressure transmitter (register 4, 0.1 kPa, silent when faulted).</summary>
    private short? Register(byte unit, int address)
    {
        if (unit == 1 && address < 8)
        {
            var thermometer = Thermometers.FirstOrDefault(t => t.ModuleChannel == address + 1);
            return thermometer.ModuleChannel == 0 ? (short)0 : Value(thermometer.Channel) is { } celsius ? (short)Math.Round(celsius * 100) : short.MaxValue;
        }
        if (unit == 2 && address == 4)
        {
            return Value(Channel.SteamPressure) is { } kpa ? (short)Math.Round(kpa * 10) : null;
        }
        return null;
    }

    private double? Value(Channel channel)
    {
        lock (gate)
        {
            Refresh();
            var reading = readings[channel];
            return reading.IsGood ? reading.Value : null;
        }
    }

    // The bus thread and the control thread both reach the simulated still in real-time runs (the benchmark).
    private readonly Lock gate = new();

    /// <summary>Moves the simulated still to now once per instant and turns its flows into pulses and its e-stop into a contact.</summary>
    private void Refresh()
    {
        lock (gate)
        {
            RefreshLocked();
        }
    }

    private void RefreshLocked()
    {
        var now = time.GetUtcNow();
        if (now == refreshedAt) return;
        var seconds = refreshedAt == default ? 0 : (now - refreshedAt).TotalSeconds;
        refreshedAt = now;
        still.Read(readings, now);
        var pins = new[] { CoolingFlowPin, DistillateFlowPin };
        var flows = new[] { readings[Channel.CoolingFlow], readings[Channel.DistillateFlow] };
        for (var i = 0; i < 2; i++)
        {
            // A faulted meter sends no pulses.
            owedPulses[i] += flows[i].IsGood ? flows[i].Value / 60.0 * seconds * PulsesPerLitre : 0;
            var whole = (int)owedPulses[i];
            owedPulses[i] -= whole;
            Driver.Pulse(pins[i], whole);
        }
        // Normally closed contact to ground with pull-up: pressed (or a broken wire) reads high.
        var stop = readings[Channel.EmergencyStop];
        Driver.SetInput(EmergencyStopPin, !stop.IsGood || stop.Value >= 0.5 ? PinValue.High : PinValue.Low);
    }

    private void PushOutputs()
    {
        var steam = pwms.GetValueOrDefault((0, 0))?.DutyCycle ?? 0;
        var cooling = pwms.GetValueOrDefault((0, 1))?.DutyCycle ?? 0;
        string? receiver = null;
        foreach (var (name, pin) in ReceiverPins)
        {
            if (Driver.Level(pin) == PinValue.High)
            {
                receiver = receiver is null ? name : throw new InvalidOperationException($"receivers {receiver} and {name} open at once");
            }
        }
        // The cooling valve is normally open: energised share closes it.
        lock (gate) still.Drive(new OutputState(steam * 100, 100 - cooling * 100, receiver, Driver.Level(HornPin) == PinValue.High, Driver.Level(BeaconPin) == PinValue.High));
    }

    public void Dispose() => Gpio.Dispose();
}

/// <summary>An RS-485 line with transmitters on it answering function 03 from <paramref name="register"/> (unit, address); null: the unit is silent.</summary>
public sealed class TransmitterLine(string name, Func<byte, int, short?> register) : ISerialLine
{
    private readonly Queue<byte> incoming = new();
    private bool corrupted;

    public string Name => name;

    /// <summary>While set, every reply arrives with one bit flipped (a damaged transceiver).</summary>
    public volatile bool Corrupt;

    /// <summary>Stopwatch time at which the master last read a corrupted reply: when the fault reached our code.</summary>
    public long CorruptReadAt { get; private set; }

    public int BytesAvailable => incoming.Count;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 8 || !ModbusRtu.CrcMatches(bytes) || bytes[1] != 3) return;
        var address = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        var count = BinaryPrimitives.ReadUInt16BigEndian(bytes[4..]);
        Span<byte> reply = stackalloc byte[ModbusRtu.ReplyLength(count)];
        reply[0] = bytes[0];
        reply[1] = 3;
        reply[2] = (byte)(2 * count);
        for (var i = 0; i < count; i++)
        {
            if (register(bytes[0], address + i) is not { } value) return;
            BinaryPrimitives.WriteInt16BigEndian(reply[(3 + 2 * i)..], value);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(reply[^2..], ModbusRtu.Crc(reply[..^2]));
        corrupted = Corrupt;
        if (corrupted) reply[3] ^= 0x04;
        foreach (var b in reply) incoming.Enqueue(b);
    }

    public int Read(Span<byte> into, TimeSpan timeout)
    {
        var n = 0;
        while (n < into.Length && incoming.TryDequeue(out var b)) into[n++] = b;
        if (n > 0 && corrupted) CorruptReadAt = System.Diagnostics.Stopwatch.GetTimestamp();
        return n;
    }

    public void Dispose()
    {
    }
}
