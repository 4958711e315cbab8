using System.Globalization;
using System.IO.Ports;
using System.Text.RegularExpressions;
using StillControl.Hosting;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Sensors.Modbus;

namespace StillControl.Sensors;

public sealed record OneWireInput(Channel Channel, string Id, string Key, TimeSpan Period);
public sealed record SpiInput(Channel Channel, int Bus, int ChipSelect, int Wires, double ReferenceOhms, bool Pt1000, string Key, TimeSpan Period);
public sealed record I2cInput(Channel Channel, int Bus, int Address, string Key, TimeSpan Period);
public sealed record BusPlan(string Name, string Key, SerialSettings Serial, TimeSpan ResponseTimeout, TimeSpan Silence, int Retries, TimeSpan Period, List<ModbusInput> Inputs);
public sealed record ValvePlan(string Name, string Key, bool Pwm, int Chip, int PwmChannel, int Frequency, int Pin, bool ActiveLow, TimeSpan Window, bool OpensWhenDeEnergised)
{
    /// <summary>Set for an analog output module on a Modbus bus.</summary>
    public ModbusOutput? Modbus { get; init; }
}

/// <summary>A valve driven through a holding register: value = zero + share energised x (full scale - zero).</summary>
public sealed record ModbusOutput(string Bus, byte Unit, ushort Address, ushort Zero, ushort FullScale)
{
    public ushort ValueFor(double energisedShare) => (ushort)Math.Round(Zero + Math.Clamp(energisedShare, 0, 1) * (FullScale - Zero));
}
public sealed record RelayPlan(string Name, string Key, int Pin, bool ActiveLow);

/// <summary>
/// The Pi's wiring, checked and resolved from <c>Hardware</c>: every source, bus and output with its key, so a device that
/// later fails to open is reported under the key that asked for it. <see cref="Resolve"/> names every bad key at once.
/// </summary>
public sealed class PiPlan
{
    public List<OneWireInput> OneWire { get; } = [];
    public List<SpiInput> Max31865 { get; } = [];
    public List<I2cInput> Bme280 { get; } = [];
    public List<BusPlan> Buses { get; } = [];
    public List<DigitalInput> Digital { get; } = [];
    public List<PulseInput> Pulses { get; } = [];
    public Dictionary<Channel, string> KeyOf { get; } = [];
    public ValvePlan Steam { get; private set; } = null!;
    public ValvePlan Cooling { get; private set; } = null!;
    public List<(string Receiver, RelayPlan Relay)> Receivers { get; } = [];
    public RelayPlan? Horn { get; private set; }
    public RelayPlan? Beacon { get; private set; }
    public RelayPlan? SteamIsolation { get; private set; }

    public IEnumerable<Channel> Channels => KeyOf.Keys;

    public static readonly string[] Sources = ["onewire", "modbus", "max31865", "bme280", "digital", "pulse"];
    private static readonly int[] bauds = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200];
    private static readonly Regex romId = new("^[0-9a-f]{2}-[0-9a-f]{12}$", RegexOptions.CultureInvariant);

    /// <summary>GPIO numbers (BCM) on the 40-pin header.</summary>
    public const int HighestPin = 27;

    /// <param name="forService">
    /// The service's wiring must have an emergency stop; <c>probe</c> and <c>safe</c> work with whatever is wired, so a still
    /// can be commissioned one part at a time.
    /// </param>
    public static (PiPlan? Plan, List<string> Errors) Resolve(HardwareOptions options, Recipe recipe, string? configDirectory, bool forService = true)
    {
        var plan = new PiPlan();
        var errors = new List<string>();
        var pins = new Dictionary<int, string>();

        void Pin(string key, int? pin)
        {
            if (pin is not { } p)
            {
                errors.Add($"{key} is missing: a GPIO number (BCM) 0-{HighestPin}");
            }
            else if (p is < 0 or > HighestPin)
            {
                errors.Add($"{key} = {p}: a GPIO number (BCM) 0-{HighestPin}");
            }
            else if (pins.TryGetValue(p, out var other))
            {
                errors.Add($"{key} = {p}: GPIO {p} is already used by {other}");
            }
            else
            {
                pins[p] = key;
            }
        }

        foreach (var (name, bus) in options.Buses)
        {
            var key = $"Hardware:Buses:{name}";
            var before = errors.Count;
            if (string.IsNullOrWhiteSpace(bus.Port)) errors.Add($"{key}:Port is missing: the serial device, e.g. /dev/rs485");
            if (!bauds.Contains(bus.Baud)) errors.Add($"{key}:Baud = {bus.Baud}: one of {string.Join(", ", bauds)}");
            var parity = bus.Parity?.ToLowerInvariant() switch { "none" => Parity.None, "even" => Parity.Even, "odd" => Parity.Odd, _ => (Parity?)null };
            if (parity is null) errors.Add($"{key}:Parity = \"{bus.Parity}\": none, even or odd");
            if (bus.StopBits is not (1 or 2)) errors.Add($"{key}:StopBits = {bus.StopBits}: 1 or 2");
            if (bus.ResponseTimeoutMilliseconds is < 10 or > 5000) errors.Add($"{key}:ResponseTimeoutMilliseconds = {bus.ResponseTimeoutMilliseconds}: 10 to 5000");
            if (bus.SilenceMilliseconds is < 2 or > 500) errors.Add($"{key}:SilenceMilliseconds = {bus.SilenceMilliseconds}: 2 to 500");
            if (bus.Retries is < 0 or > 5) errors.Add($"{key}:Retries = {bus.Retries}: 0 to 5");
            if (bus.PollMilliseconds is < 0 or > 60_000) errors.Add($"{key}:PollMilliseconds = {bus.PollMilliseconds}: 0 to 60000");
            if (errors.Count == before)
            {
                plan.Buses.Add(new BusPlan(name, key, new SerialSettings(bus.Port!, bus.Baud, parity!.Value, bus.StopBits == 2 ? StopBits.Two : StopBits.One),
                    TimeSpan.FromMilliseconds(bus.ResponseTimeoutMilliseconds), TimeSpan.FromMilliseconds(bus.SilenceMilliseconds), bus.Retries,
                    TimeSpan.FromMilliseconds(bus.PollMilliseconds), []));
            }
        }

        foreach (var (name, input) in options.Inputs)
        {
            var key = $"Hardware:Inputs:{name}";
            if (!Process.Channels.TryParse(name, out var channel))
            {
                errors.Add($"{key}: unknown channel \"{name}\"; one of {string.Join(", ", Process.Channels.Names)}");
                continue;
            }
            var source = input.Source?.ToLowerInvariant();
            TimeSpan Period(int defaultMs, int minimumMs)
            {
                var ms = input.PollMilliseconds ?? defaultMs;
                if (ms < minimumMs || ms > 60_000) errors.Add($"{key}:PollMilliseconds = {ms}: {minimumMs} to 60000 for {source}");
                return TimeSpan.FromMilliseconds(ms);
            }
            void TemperatureOnly()
            {
                if (!channel.IsTemperature()) errors.Add($"{key}:Source = \"{source}\": a thermometer, but {name} is measured in {channel.Unit()}");
            }
            var before = errors.Count;
            switch (source)
            {
                case "onewire":
                    TemperatureOnly();
                    if (input.Id is null || !romId.IsMatch(input.Id)) errors.Add($"{key}:Id = \"{input.Id}\": a 1-Wire ROM id as the kernel names it, e.g. 28-0316a2794aff");
                    else if (plan.OneWire.FirstOrDefault(o => o.Id == input.Id) is { } same) errors.Add($"{key}:Id = \"{input.Id}\": already used by {same.Key}:Id");
                    var owPeriod = Period(1000, 750);
                    if (errors.Count == before) plan.OneWire.Add(new OneWireInput(channel, input.Id!, key, owPeriod));
                    break;
                case "modbus":
                    ResolveModbus(plan, key, channel, input, options, configDirectory, errors);
                    break;
                case "max31865":
                    TemperatureOnly();
                    var element = input.Element?.ToLowerInvariant() ?? "pt100";
                    if (element is not ("pt100" or "pt1000")) errors.Add($"{key}:Element = \"{input.Element}\": pt100 or pt1000");
                    var wires = input.Wires ?? 3;
                    if (wires is not (2 or 3 or 4)) errors.Add($"{key}:Wires = {wires}: 2, 3 or 4");
                    var reference = input.ReferenceOhms ?? (element == "pt1000" ? 4300 : 430);
                    if (reference is <= 0 or > 100_000) errors.Add($"{key}:ReferenceOhms = {reference}: above 0 and at most 100000 (430 on the usual PT100 boards)");
                    var spiBus = input.SpiBus ?? 0;
                    var cs = input.ChipSelect ?? 0;
                    if (spiBus is < 0 or > 6) errors.Add($"{key}:SpiBus = {spiBus}: 0 to 6");
                    if (cs is < 0 or > 2) errors.Add($"{key}:ChipSelect = {cs}: 0 to 2");
                    if (plan.Max31865.FirstOrDefault(m => m.Bus == spiBus && m.ChipSelect == cs) is { } sameSpi) errors.Add($"{key}:ChipSelect = {cs}: SPI {spiBus}.{cs} is already used by {sameSpi.Key}");
                    var spiPeriod = Period(250, 100);
                    if (errors.Count == before) plan.Max31865.Add(new SpiInput(channel, spiBus, cs, wires, reference, element == "pt1000", key, spiPeriod));
                    break;
                case "bme280":
                    if (channel != Channel.Barometer) errors.Add($"{key}:Source = \"bme280\": only for the barometer channel");
                    var address = input.Address ?? 0x76;
                    if (address is not (0x76 or 0x77)) errors.Add($"{key}:Address = {address}: 118 (0x76) or 119 (0x77)");
                    var i2cBus = input.I2cBus ?? 1;
                    if (i2cBus is < 0 or > 22) errors.Add($"{key}:I2cBus = {i2cBus}: 0 to 22");
                    var i2cPeriod = Period(1000, 100);
                    if (errors.Count == before) plan.Bme280.Add(new I2cInput(channel, i2cBus, address, key, i2cPeriod));
                    break;
                case "digital":
                    Pin($"{key}:Pin", input.Pin);
                    if (errors.Count == before) plan.Digital.Add(new DigitalInput(channel, input.Pin!.Value, input.ActiveLow, input.ActiveValue ?? 1, input.InactiveValue ?? 0));
                    break;
                case "pulse":
                    if (channel is not (Channel.CoolingFlow or Channel.DistillateFlow)) errors.Add($"{key}:Source = \"pulse\": only for cooling-flow and distillate-flow");
                    if (input.PulsesPerLitre is not > 0) errors.Add($"{key}:PulsesPerLitre = {Text(input.PulsesPerLitre)}: the meter's pulses per litre, above 0");
                    Pin($"{key}:Pin", input.Pin);
                    var window = Period(5000, 1000);
                    if (errors.Count == before) plan.Pulses.Add(new PulseInput(channel, input.Pin!.Value, input.PulsesPerLitre!.Value, window));
                    break;
                default:
                    errors.Add($"{key}:Source = \"{input.Source}\": one of {string.Join(", ", Sources)}");
                    break;
            }
            if (errors.Count == before)
            {
                plan.KeyOf[channel] = key;
            }
        }

        plan.Steam = Valve("Hardware:Outputs:Steam", "steam", options.Outputs.Steam, opensWhenDeEnergised: false, errors, Pin, options)!;
        plan.Cooling = Valve("Hardware:Outputs:Cooling", "cooling", options.Outputs.Cooling, opensWhenDeEnergised: true, errors, Pin, options)!;
        foreach (var (receiver, relay) in options.Outputs.Receivers)
        {
            var key = $"Hardware:Outputs:Receivers:{receiver}";
            var before = errors.Count;
            Pin($"{key}:Pin", relay.Pin);
            if (errors.Count == before) plan.Receivers.Add((receiver, new RelayPlan(receiver, key, relay.Pin!.Value, relay.ActiveLow)));
        }
        foreach (var needed in RecipeReceivers(recipe).Where(r => !options.Outputs.Receivers.ContainsKey(r)))
        {
            errors.Add($"Hardware:Outputs:Receivers:{needed} is missing: the recipe sends spirit to '{needed}', so it needs a diverter output");
        }
        plan.Horn = Relay("Hardware:Outputs:Horn", "horn", options.Outputs.Horn, required: true, errors, Pin);
        plan.Beacon = Relay("Hardware:Outputs:Beacon", "beacon", options.Outputs.Beacon, required: false, errors, Pin);
        plan.SteamIsolation = Relay("Hardware:Outputs:SteamIsolation", "steam isolation", options.Outputs.SteamIsolation, required: false, errors, Pin);
        if (forService && !options.Inputs.ContainsKey(Process.Channel.EmergencyStop.Name()))
        {
            errors.Add("Hardware:Inputs:emergency-stop is missing: a still is never run without an emergency stop (e.g. { \"Source\": \"digital\", \"Pin\": 17 }, " +
                "a normally closed contact to ground, so a broken wire reads as pressed)");
        }
        return errors.Count == 0 ? (plan, errors) : (null, errors);
    }

    public static IEnumerable<string> RecipeReceivers(Recipe recipe) =>
        new[] { recipe.Heads.Receiver, recipe.Tails.Receiver, recipe.Steaming.Receiver }.Concat(recipe.Hearts.Grades.Select(g => g.Receiver)).Distinct(StringComparer.Ordinal);

    private static ValvePlan? Valve(string key, string name, ValveOutputOptions? valve, bool opensWhenDeEnergised, List<string> errors, Action<string, int?> pin, HardwareOptions options)
    {
        if (valve is null)
        {
            errors.Add($"{key} is missing: the {name} valve output (Kind pwm or onoff)");
            return null;
        }
        var before = errors.Count;
        var wanted = opensWhenDeEnergised ? "open" : "closed";
        var deEnergised = valve.DeEnergised?.ToLowerInvariant() ?? wanted;
        if (deEnergised != wanted)
        {
            errors.Add($"{key}:DeEnergised = \"{valve.DeEnergised}\": must be \"{wanted}\": without power the {name} valve has to " +
                (opensWhenDeEnergised ? "open, so the condenser keeps cooling (fit a normally open valve)" : "close, so no steam reaches the still (fit a normally closed valve)"));
        }
        switch (valve.Kind?.ToLowerInvariant())
        {
            case "pwm":
                if (valve.Chip is not >= 0) errors.Add($"{key}:Chip = {Text(valve.Chip)}: the PWM chip number, 0 or more (pwmchip0 on a Pi)");
                if (valve.Channel is not >= 0) errors.Add($"{key}:Channel = {Text(valve.Channel)}: the PWM channel, 0 or more");
                if (valve.FrequencyHz is < 1 or > 100_000) errors.Add($"{key}:FrequencyHz = {valve.FrequencyHz}: 1 to 100000");
                return errors.Count == before ? new ValvePlan(name, key, true, valve.Chip!.Value, valve.Channel!.Value, valve.FrequencyHz, -1, false, TimeSpan.Zero, opensWhenDeEnergised) : null;
            case "modbus":
                if (valve.Bus is null || !options.Buses.ContainsKey(valve.Bus)) errors.Add($"{key}:Bus = \"{valve.Bus}\": one of the buses under Hardware:Buses ({Names(options.Buses.Keys)})");
                if (valve.Unit is not (>= 1 and <= 247)) errors.Add($"{key}:Unit = {Text(valve.Unit)}: the output module's unit id, 1 to 247");
                if (valve.Address is not (>= 0 and <= 65535)) errors.Add($"{key}:Address = {Text(valve.Address)}: the output's holding register, 0 to 65535");
                if (valve.ZeroValue is < 0 or > 65535 || valve.FullScaleValue is < 1 or > 65535 || valve.ZeroValue >= valve.FullScaleValue)
                {
                    errors.Add($"{key}:ZeroValue = {valve.ZeroValue}, FullScaleValue = {valve.FullScaleValue}: 0 <= ZeroValue < FullScaleValue <= 65535");
                }
                return errors.Count == before
                    ? new ValvePlan(name, key, false, -1, -1, 0, -1, false, TimeSpan.Zero, opensWhenDeEnergised)
                    {
                        Modbus = new ModbusOutput(valve.Bus!, (byte)valve.Unit!.Value, (ushort)valve.Address!.Value, (ushort)valve.ZeroValue, (ushort)valve.FullScaleValue),
                    }
                    : null;
            case "onoff":
                pin($"{key}:Pin", valve.Pin);
                if (valve.WindowSeconds is < 1 or > 120) errors.Add($"{key}:WindowSeconds = {valve.WindowSeconds}: 1 to 120");
                return errors.Count == before ? new ValvePlan(name, key, false, -1, -1, 0, valve.Pin!.Value, valve.ActiveLow, TimeSpan.FromSeconds(valve.WindowSeconds), opensWhenDeEnergised) : null;
            default:
                errors.Add($"{key}:Kind = \"{valve.Kind}\": pwm, modbus or onoff");
                return null;
        }
    }

    private static RelayPlan? Relay(string key, string name, RelayOptions? relay, bool required, List<string> errors, Action<string, int?> pin)
    {
        if (relay is null)
        {
            if (required) errors.Add($"{key} is missing: the {name} relay's Pin (an alarm must be able to sound)");
            return null;
        }
        var before = errors.Count;
        pin($"{key}:Pin", relay.Pin);
        return errors.Count == before ? new RelayPlan(name, key, relay.Pin!.Value, relay.ActiveLow) : null;
    }

    private static void ResolveModbus(PiPlan plan, string key, Channel channel, InputOptions input, HardwareOptions options, string? configDirectory, List<string> errors)
    {
        var before = errors.Count;
        var bus = input.Bus is null ? null : plan.Buses.FirstOrDefault(b => b.Name == input.Bus);
        if (input.Bus is null) errors.Add($"{key}:Bus is missing: one of the buses under Hardware:Buses ({Names(options.Buses.Keys)})");
        else if (!options.Buses.ContainsKey(input.Bus)) errors.Add($"{key}:Bus = \"{input.Bus}\": no such bus; defined: {Names(options.Buses.Keys)}");

        RegisterMapFile.MapPoint? mapped = null;
        int? unit = input.Unit;
        if (input.Map is not null)
        {
            var path = FindMap(input.Map, options.RegisterMaps, configDirectory);
            if (path is null)
            {
                errors.Add($"{key}:Map = \"{input.Map}\": file not found (looked in {string.Join(", ", MapFolders(options.RegisterMaps, configDirectory))})");
            }
            else
            {
                try
                {
                    var map = RegisterMapFile.Load(path);
                    unit ??= map.DefaultUnit;
                    if (input.Point is null || !map.Points.TryGetValue(input.Point, out mapped))
                    {
                        errors.Add($"{key}:Point = \"{input.Point}\": one of {Names(map.Points.Keys)} in {input.Map}");
                    }
                }
                catch (InvalidDataException e)
                {
                    errors.Add($"{key}:Map = \"{input.Map}\": {e.Message}");
                }
            }
        }
        else if (input.Function is null || input.Address is null)
        {
            errors.Add($"{key}: give Map and Point (a register map file) or Function, Address and Type");
        }

        if (unit is not (>= 1 and <= 247)) errors.Add($"{key}:Unit = {Text(unit)}: the transmitter's unit id, 1 to 247");
        var function = input.Function ?? mapped?.Function ?? 3;
        if (function is not (3 or 4)) errors.Add($"{key}:Function = {function}: 3 (holding registers) or 4 (input registers)");
        var address = input.Address ?? mapped?.Address ?? 0;
        if (address is < 0 or > 65535) errors.Add($"{key}:Address = {address}: 0 to 65535");
        var typeText = input.Type ?? mapped?.Type ?? "int16";
        if (!RegisterMapFile.TryParseType(typeText, out var type)) errors.Add($"{key}:Type = \"{typeText}\": one of {RegisterMapFile.Types}");
        var orderText = input.WordOrder ?? mapped?.WordOrder;
        if (!RegisterMapFile.TryParseWordOrder(orderText, out var order)) errors.Add($"{key}:WordOrder = \"{orderText}\": one of {RegisterMapFile.WordOrders}");
        var scale = input.Scale ?? mapped?.Scale ?? 1;
        if (!double.IsFinite(scale) || scale == 0) errors.Add($"{key}:Scale = {Text(scale)}: a finite number other than 0");
        var offset = input.Offset ?? mapped?.Offset ?? 0;
        if (!double.IsFinite(offset)) errors.Add($"{key}:Offset = {Text(offset)}: a finite number");
        if (errors.Count == before && bus is not null)
        {
            bus.Inputs.Add(new ModbusInput(channel, (byte)unit!.Value, new ModbusPoint((byte)function, (ushort)address, type, order, scale, offset)));
        }
    }

    private static IEnumerable<string> MapFolders(string? registerMaps, string? configDirectory)
    {
        if (registerMaps is not null) yield return registerMaps;
        if (configDirectory is not null) yield return configDirectory;
        yield return Path.Combine(AppContext.BaseDirectory, "firmware-config", "registers");
    }

    private static string? FindMap(string map, string? registerMaps, string? configDirectory) =>
        Path.IsPathRooted(map) ? (File.Exists(map) ? map : null)
            : MapFolders(registerMaps, configDirectory).Select(folder => Path.Combine(folder, map)).FirstOrDefault(File.Exists);

    private static string Names(IEnumerable<string> names) => names.Any() ? string.Join(", ", names) : "none";

    private static string Text(double? value) => value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "(missing)";
}
