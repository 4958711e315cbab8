using System.Buffers.Binary;
using System.Device.Gpio;
using System.Device.Pwm;
using System.Device.Spi;

namespace StillControl.Tests.Hardware;

/// <summary>
/// A GPIO driver with no kernel behind it (this kernel has no GPIO simulator): pins hold what was written, inputs hold what
/// the test sets, and edges on inputs run the callbacks the library registered, as libgpiod's event thread would.
/// </summary>
public sealed class FakeGpioDriver : GpioDriver
{
    private readonly Lock gate = new();
    private readonly Dictionary<int, PinMode> modes = [];
    private readonly Dictionary<int, PinValue> values = [];
    private readonly HashSet<int> driven = [];
    private readonly Dictionary<int, List<(PinEventTypes Types, PinChangeEventHandler Handler)>> callbacks = [];

    /// <summary>Runs on every read of an input pin (the simulated wiring refreshes its signals here).</summary>
    public Action? BeforeRead { get; set; }

    /// <summary>Runs after every write to an output pin.</summary>
    public Action<int, PinValue>? AfterWrite { get; set; }

    protected override int PinCount => 28;

    protected override void OpenPin(int pinNumber)
    {
        lock (gate)
        {
            if (pinNumber is < 0 or > 27) throw new InvalidOperationException($"GPIO {pinNumber} does not exist");
        }
    }

    protected override void ClosePin(int pinNumber)
    {
        lock (gate)
        {
            modes.Remove(pinNumber);
        }
    }

    protected override void SetPinMode(int pinNumber, PinMode mode)
    {
        lock (gate)
        {
            modes[pinNumber] = mode;
            // An input nothing drives follows its pull resistor.
            if (!driven.Contains(pinNumber) && mode is PinMode.InputPullUp or PinMode.InputPullDown)
            {
                values[pinNumber] = mode == PinMode.InputPullUp ? PinValue.High : PinValue.Low;
            }
        }
    }

    protected override PinMode GetPinMode(int pinNumber)
    {
        lock (gate)
        {
            return modes.GetValueOrDefault(pinNumber, PinMode.Input);
        }
    }

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => true;

    protected override PinValue Read(int pinNumber)
    {
        BeforeRead?.Invoke();
        lock (gate)
        {
            return values.GetValueOrDefault(pinNumber, PinValue.Low);
        }
    }

    protected override void Toggle(int pinNumber) => Write(pinNumber, !Read(pinNumber));

    protected override void Write(int pinNumber, PinValue value)
    {
        lock (gate)
        {
            values[pinNumber] = value;
        }
        AfterWrite?.Invoke(pinNumber, value);
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the still controller does not wait on pins");

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback)
    {
        lock (gate)
        {
            if (!callbacks.TryGetValue(pinNumber, out var list)) callbacks[pinNumber] = list = [];
            list.Add((eventTypes, callback));
        }
    }

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
        lock (gate)
        {
            callbacks.GetValueOrDefault(pinNumber)?.RemoveAll(c => c.Handler == callback);
        }
    }

    /// <summary>What the pin holds now (an output's last write, an input's level).</summary>
    public PinValue Level(int pin)
    {
        lock (gate)
        {
            return values.GetValueOrDefault(pin, PinValue.Low);
        }
    }

    public PinMode Mode(int pin)
    {
        lock (gate)
        {
            return modes.GetValueOrDefault(pin, PinMode.Input);
        }
    }

    /// <summary>Sets an input's level, raising the edge callbacks on a change.</summary>
    public void SetInput(int pin, PinValue value)
    {
        PinValue before;
        lock (gate)
        {
            before = values.GetValueOrDefault(pin, PinValue.Low);
            values[pin] = value;
            driven.Add(pin);
        }
        if (before != value) Raise(pin, value == PinValue.High ? PinEventTypes.Rising : PinEventTypes.Falling);
    }

    /// <summary><paramref name="count"/> rising edges, as a flow meter's pulses.</summary>
    public void Pulse(int pin, int count)
    {
        for (var i = 0; i < count; i++) Raise(pin, PinEventTypes.Rising);
    }

    private void Raise(int pin, PinEventTypes type)
    {
        (PinEventTypes Types, PinChangeEventHandler Handler)[] list;
        lock (gate)
        {
            list = callbacks.GetValueOrDefault(pin)?.ToArray() ?? [];
        }
        foreach (var (types, handler) in list)
        {
            if ((types & type) != 0) handler(this, new PinValueChangedEventArgs(type, pin));
        }
    }
}

/// <summary>A PWM channel that remembers its duty cycle, when it last changed, and whether it runs.</summary>
public sealed class FakePwm : PwmChannel
{
    private double duty;

    public override int Frequency { get; set; }

    public override double DutyCycle
    {
        get => duty;
        set
        {
            duty = value;
            ChangedAt = System.Diagnostics.Stopwatch.GetTimestamp();
            Changed?.Invoke(value);
        }
    }

    public bool Running { get; private set; }

    public long ChangedAt { get; private set; }

    public Action<double>? Changed { get; set; }

    public override void Start() => Running = true;

    public override void Stop() => Running = false;
}

/// <summary>
/// A MAX31865 as its registers behave: configuration (00/80), RTD value (01-02, 15 bits + fault bit), fault status (07).
/// The element's temperature comes from <see cref="Celsius"/>; null is an open element (RTD high threshold and reference faults).
/// </summary>
public sealed class FakeMax31865(double referenceOhms = 430, double nominalOhms = 100) : SpiDevice
{
    private const double A = 3.9083e-3;
    private const double B = -5.775e-7;
    private readonly byte[] registers = new byte[8];

    public Func<double?> Celsius { get; set; } = () => 20;

    public int Conversions { get; private set; }

    public override SpiConnectionSettings ConnectionSettings { get; } = new(0, 0);

    public override byte ReadByte() => 0;

    public override void Read(Span<byte> buffer) => buffer.Clear();

    public override void WriteByte(byte value) => Write([value]);

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < 2 || (buffer[0] & 0x80) == 0) return;
        var register = buffer[0] & 0x7F;
        for (var i = 1; i < buffer.Length && register + i - 1 < registers.Length; i++) registers[register + i - 1] = buffer[i];
        // The one-shot bit (0x20) starts a conversion and clears itself when it is done.
        if (register == 0 && (buffer[1] & 0x20) != 0)
        {
            Convert();
            registers[0] &= 0xDF;
        }
    }

    public override void TransferFullDuplex(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        var register = writeBuffer[0] & 0x7F;
        readBuffer[0] = 0;
        for (var i = 1; i < readBuffer.Length; i++) readBuffer[i] = register + i - 1 < registers.Length ? registers[register + i - 1] : (byte)0;
    }

    private void Convert()
    {
        Conversions++;
        if (Celsius() is { } t)
        {
            var ohms = nominalOhms * (1 + A * t + B * t * t);
            var code = (ushort)Math.Clamp(Math.Round(ohms / referenceOhms * 32768), 0, 32767);
            BinaryPrimitives.WriteUInt16BigEndian(registers.AsSpan(1), (ushort)(code << 1));
            registers[7] = 0;
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(registers.AsSpan(1), 0xFFFF);
            registers[7] = 0x80 | 0x20;
        }
    }
}

/// <summary>
/// A BME280 as its I2C registers behave: chip id, calibration words, control registers and the raw ADC values, here the
/// worked example of the Bosch datasheet (compensated: 25.08 °C and 100653.27 Pa). <see cref="Present"/> false: the chip
/// stops acknowledging (a loose connector), which the kernel reports as an I/O error.
/// </summary>
public sealed class FakeBme280 : System.Device.I2c.I2cDevice
{
    private readonly byte[] registers = new byte[256];
    private int pointer;

    public FakeBme280()
    {
        registers[0xD0] = 0x60;
        ushort[] words = [27504, 26435, unchecked((ushort)-1000), 36477, unchecked((ushort)-10685), 3024, 2855, 140, unchecked((ushort)-7), 15500, unchecked((ushort)-14600), 6000];
        for (var i = 0; i < words.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(registers.AsSpan(0x88 + 2 * i), words[i]);
        SetRaw(pressure: 415148, temperature: 519888, humidity: 0);
    }

    public bool Present { get; set; } = true;

    public override System.Device.I2c.I2cConnectionSettings ConnectionSettings { get; } = new(1, 0x76);

    public void SetRaw(int pressure, int temperature, int humidity)
    {
        void Twenty(int address, int value)
        {
            registers[address] = (byte)(value >> 12);
            registers[address + 1] = (byte)(value >> 4);
            registers[address + 2] = (byte)((value & 0xF) << 4);
        }
        Twenty(0xF7, pressure);
        Twenty(0xFA, temperature);
        BinaryPrimitives.WriteUInt16BigEndian(registers.AsSpan(0xFD), (ushort)humidity);
    }

    private void Check()
    {
        if (!Present) throw new IOException("Error 121 performing I2C data transfer (remote I/O error)");
    }

    public override byte ReadByte()
    {
        Check();
        return registers[pointer++ & 0xFF];
    }

    public override void Read(Span<byte> buffer)
    {
        Check();
        for (var i = 0; i < buffer.Length; i++) buffer[i] = registers[pointer++ & 0xFF];
    }

    public override void WriteByte(byte value)
    {
        Check();
        pointer = value;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Check();
        pointer = buffer[0];
        for (var i = 1; i < buffer.Length; i++) registers[pointer++ & 0xFF] = buffer[i];
        pointer = buffer[0];
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }
}
