namespace StillControl.Sensors;

/// <summary>
/// One input of the Pi hardware layer, keyed in <c>Hardware:Inputs</c> by the channel it feeds. Which keys apply depends on
/// <see cref="Source"/>; the validator names any key that is missing or does not belong.
/// </summary>
public sealed class InputOptions
{
    /// <summary><c>onewire</c>, <c>modbus</c>, <c>max31865</c>, <c>bme280</c>, <c>digital</c> or <c>pulse</c>.</summary>
    public string? Source { get; set; }

    // 1-Wire (DS18B20)
    /// <summary>ROM id as the kernel names it, e.g. <c>28-0316a2794aff</c>.</summary>
    public string? Id { get; set; }

    // Modbus RTU
    /// <summary>The bus, a key of <c>Hardware:Buses</c>.</summary>
    public string? Bus { get; set; }
    public int? Unit { get; set; }
    /// <summary>A register map file (see firmware-config/registers) and the point in it; keys below override the map.</summary>
    public string? Map { get; set; }
    public string? Point { get; set; }
    public int? Function { get; set; }
    /// <summary>Register address (Modbus) or I2C address (BME280).</summary>
    public int? Address { get; set; }
    public string? Type { get; set; }
    public string? WordOrder { get; set; }
    public double? Scale { get; set; }
    public double? Offset { get; set; }

    // MAX31865 (PT100 over SPI)
    public int? SpiBus { get; set; }
    public int? ChipSelect { get; set; }
    /// <summary>2, 3 or 4.</summary>
    public int? Wires { get; set; }
    public double? ReferenceOhms { get; set; }
    /// <summary><c>pt100</c> or <c>pt1000</c>.</summary>
    public string? Element { get; set; }

    // BME280
    public int? I2cBus { get; set; }

    // GPIO: digital and pulse inputs
    public int? Pin { get; set; }
    /// <summary>Digital: the input counts as active when the pin reads low.</summary>
    public bool ActiveLow { get; set; }
    /// <summary>Digital: the channel's value while active (default 1) and inactive (default 0).</summary>
    public double? ActiveValue { get; set; }
    public double? InactiveValue { get; set; }
    /// <summary>Pulse: the flow meter's pulses per litre.</summary>
    public double? PulsesPerLitre { get; set; }

    /// <summary>How often the source is read; each source has its own default.</summary>
    public int? PollMilliseconds { get; set; }
}

/// <summary>One RS-485 bus (<c>Hardware:Buses:NAME</c>).</summary>
public sealed class SerialBusOptions
{
    /// <summary>The serial device, e.g. <c>/dev/rs485</c> (the udev rule in firmware-config gives the adapter this name).</summary>
    public string? Port { get; set; }
    public int Baud { get; set; } = 9600;
    /// <summary><c>none</c>, <c>even</c> or <c>odd</c>.</summary>
    public string Parity { get; set; } = "none";
    public int StopBits { get; set; } = 1;
    public int ResponseTimeoutMilliseconds { get; set; } = 200;
    /// <summary>Quiet on the line that ends an incomplete reply; USB adapters deliver in bursts (FTDI: 16 ms latency timer).</summary>
    public int SilenceMilliseconds { get; set; } = 20;
    public int Retries { get; set; } = 1;
    /// <summary>Pause between poll cycles; 0: poll back to back.</summary>
    public int PollMilliseconds { get; set; } = 100;
}

/// <summary>A proportional or on/off valve output.</summary>
public sealed class ValveOutputOptions
{
    /// <summary>
    /// <c>pwm</c> (System.Device.Pwm: a current/voltage converter or a proportional valve driver), <c>modbus</c> (a holding
    /// register of an analog output module on an RS-485 bus, function 06) or <c>onoff</c> (a relay, time-proportioned).
    /// </summary>
    public string? Kind { get; set; }
    /// <summary>Modbus: the bus (a key of <c>Hardware:Buses</c>), the module's unit id and the output's register.</summary>
    public string? Bus { get; set; }
    public int? Unit { get; set; }
    public int? Address { get; set; }
    /// <summary>Modbus: the register value for a de-energised output (e.g. 4000 for 4 mA in µA) and for a fully energised one (20000).</summary>
    public int ZeroValue { get; set; }
    public int FullScaleValue { get; set; } = 10000;
    public int? Chip { get; set; }
    public int? Channel { get; set; }
    public int FrequencyHz { get; set; } = 1000;
    public int? Pin { get; set; }
    public bool ActiveLow { get; set; }
    /// <summary>On/off: the window over which the opening is time-proportioned.</summary>
    public double WindowSeconds { get; set; } = 10;
    /// <summary>What the valve does without power: the steam valve must close, the cooling valve must open.</summary>
    public string? DeEnergised { get; set; }
}

/// <summary>A GPIO relay (horn, beacon).</summary>
public sealed class RelayOptions
{
    public int? Pin { get; set; }
    public bool ActiveLow { get; set; }
}

public sealed class OutputOptions
{
    public ValveOutputOptions? Steam { get; set; }
    public ValveOutputOptions? Cooling { get; set; }
    /// <summary>One relay per receiver, keyed by the receiver names of the recipe.</summary>
    public Dictionary<string, RelayOptions> Receivers { get; set; } = new(StringComparer.Ordinal);
    public RelayOptions? Horn { get; set; }
    public RelayOptions? Beacon { get; set; }
    /// <summary>
    /// Optional steam isolation valve: a fail-closed solenoid shut-off ahead of the modulating valve, a second and independent
    /// way to shut the steam. Energised (open) only while steam is wanted and no interlock holds; closed on every trip, at once
    /// when the modulating valve reports a fault, and whenever the Pi loses power.
    /// </summary>
    public RelayOptions? SteamIsolation { get; set; }
}
