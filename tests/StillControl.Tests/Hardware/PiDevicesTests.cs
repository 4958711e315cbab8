using System.Device.Gpio;
using System.Device.I2c;
using System.Device.Pwm;
using System.Device.Spi;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Time.Testing;
using StillControl.Actuators;
using StillControl.Hosting;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Sensors;
using StillControl.Sensors.Modbus;

namespace StillControl.Tests.Hardware;

/// <summary>Outputs and GPIO/SPI inputs through the real System.Device and Iot.Device code over a GpioDriver subclass and emulated chips.</summary>
public class PiDevicesTests
{
    private sealed class Devices : IPiDevices
    {
        public FakeGpioDriver Driver { get; } = new();
        public Dictionary<(int, int), FakePwm> Pwms { get; } = [];
        public Dictionary<(int, int), FakeMax31865> Chips { get; } = [];
        private GpioController? gpio;

        public GpioController Gpio => gpio ??= new GpioController(Driver);

        public SpiDevice OpenSpi(int bus, int chipSelect) => Chips[(bus, chipSelect)];

        public I2cDevice OpenI2c(int bus, int address) => throw new MissingDeviceException($"/dev/i2c-{bus} does not exist");

        /// <summary>PWM chips that are not there (the overlay missing).</summary>
        public HashSet<int> MissingPwmChips { get; } = [];

        public PwmChannel OpenPwm(int chip, int channel, int frequency) =>
            MissingPwmChips.Contains(chip) ? throw new MissingDeviceException($"/sys/class/pwm/pwmchip{chip} does not exist") : Pwms[(chip, channel)] = new FakePwm { Frequency = frequency };

        public ISerialLine OpenSerial(SerialSettings settings) => throw new MissingDeviceException($"{settings.Port} does not exist");

        public void Dispose() => gpio?.Dispose();
    }

    private static PiPlan Plan(Dictionary<string, string?> changes)
    {
        var settings = new Dictionary<string, string?> { ["Hardware:Mode"] = "Pi" };
        foreach (var (key, value) in SimulatedWiring.Configuration().Where(c => c.Key.StartsWith("Hardware:Outputs", StringComparison.Ordinal) || c.Key.StartsWith("Hardware:Inputs:emergency-stop", StringComparison.Ordinal))) settings[key] = value;
        foreach (var (key, value) in changes)
        {
            if (value is null) settings.Remove(key); else settings[key] = value;
        }
        var options = new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("Hardware").Get<HardwareOptions>()!;
        var (plan, errors) = PiPlan.Resolve(options, DefaultRecipe.Create(), null);
        Assert.True(plan is not null, string.Join("; ", errors));
        return plan;
    }

    private static Decisions Decide(double steam, double cooling, string? receiver, bool horn = false)
    {
        var d = new Decisions();
        d.Clear(DateTimeOffset.UnixEpoch);
        d.SteamValvePercent = steam;
        d.CoolingValvePercent = cooling;
        d.Receiver = receiver;
        d.Horn = horn;
        d.Beacon = horn;
        return d;
    }

    [Fact]
    public void Outputs_start_safe_follow_decisions_and_go_safe_again_on_dispose()
    {
        using var devices = new Devices();
        var actuators = new PiActuators(Plan([]), devices, TimeProvider.System);
        var steam = devices.Pwms[(0, 0)];
        var cooling = devices.Pwms[(0, 1)];
        // Safe at start: steam valve de-energised (closed), cooling valve de-energised (open), horn and beacon on.
        Assert.Equal(0, steam.DutyCycle);
        Assert.Equal(0, cooling.DutyCycle);
        Assert.True(steam.Running && cooling.Running);
        Assert.Equal(PinValue.High, devices.Driver.Level(SimulatedWiring.HornPin));
        Assert.Equal(PinValue.High, devices.Driver.Level(SimulatedWiring.BeaconPin));

        actuators.Apply(Decide(steam: 35, cooling: 60, receiver: "hearts-1"));
        Assert.Equal(0.35, steam.DutyCycle, 9);
        // Cooling is normally open: 60 % open is 40 % energised.
        Assert.Equal(0.40, cooling.DutyCycle, 9);
        Assert.Equal(PinValue.High, devices.Driver.Level(SimulatedWiring.ReceiverPins["hearts-1"]));
        Assert.Equal(PinValue.Low, devices.Driver.Level(SimulatedWiring.HornPin));

        actuators.Dispose();
        Assert.Equal(0, steam.DutyCycle);
        Assert.Equal(0, cooling.DutyCycle);
        Assert.All(SimulatedWiring.ReceiverPins.Values, pin => Assert.Equal(PinValue.Low, devices.Driver.Level(pin)));
        Assert.Equal(PinValue.High, devices.Driver.Level(SimulatedWiring.HornPin));
    }

    [Fact]
    public void An_output_that_cannot_be_opened_is_named_and_does_not_keep_the_others_from_going_safe()
    {
        using var devices = new Devices();
        devices.MissingPwmChips.Add(0);
        var service = Assert.Throws<HardwareStartException>(() => new PiActuators(Plan([]), devices, TimeProvider.System));
        Assert.Contains("Hardware:Outputs:Steam: PWM chip 0 channel 0: /sys/class/pwm/pwmchip0 does not exist", service.Message);
        Assert.Contains("Hardware:Outputs:Cooling", service.Message);
        // Even the refused start left what it could open safe.
        Assert.Equal(PinValue.High, devices.Driver.Level(SimulatedWiring.HornPin));

        devices.Driver.SetInput(SimulatedWiring.HornPin, PinValue.Low);
        devices.Driver.SetInput(SimulatedWiring.ReceiverPins["hearts-1"], PinValue.High);
        using var safe = new PiActuators(Plan([]), devices, TimeProvider.System, bestEffort: true);
        Assert.Equal(2, safe.Failures.Count);
        Assert.Equal(PinValue.High, devices.Driver.Level(SimulatedWiring.HornPin));
        Assert.Equal(PinValue.High, devices.Driver.Level(SimulatedWiring.BeaconPin));
        Assert.Equal(PinValue.Low, devices.Driver.Level(SimulatedWiring.ReceiverPins["hearts-1"]));
    }

    [Fact]
    public void Changing_receiver_closes_the_old_diverter_before_the_new_one_opens()
    {
        using var devices = new Devices();
        var actuators = new PiActuators(Plan([]), devices, TimeProvider.System);
        actuators.Apply(Decide(30, 100, "heads"));
        var open = new List<string>();
        devices.Driver.AfterWrite = (_, _) =>
        {
            var now = SimulatedWiring.ReceiverPins.Where(r => devices.Driver.Level(r.Value) == PinValue.High).Select(r => r.Key).ToArray();
            Assert.True(now.Length <= 1, $"two receivers open at once: {string.Join(", ", now)}");
            open.AddRange(now);
        };
        actuators.Apply(Decide(30, 100, "hearts-1"));
        Assert.Equal(PinValue.Low, devices.Driver.Level(SimulatedWiring.ReceiverPins["heads"]));
        Assert.Equal(PinValue.High, devices.Driver.Level(SimulatedWiring.ReceiverPins["hearts-1"]));
    }

    [Fact]
    public void An_on_off_steam_valve_is_time_proportioned_and_closes_at_once_when_steam_goes_to_zero()
    {
        using var devices = new Devices();
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var plan = Plan(new() { ["Hardware:Outputs:Steam:Kind"] = "onoff", ["Hardware:Outputs:Steam:Pin"] = "12", ["Hardware:Outputs:Steam:WindowSeconds"] = "10" });
        var actuators = new PiActuators(plan, devices, time);
        var on = 0;
        for (var i = 0; i < 40; i++)
        {
            actuators.Apply(Decide(30, 100, null));
            if (devices.Driver.Level(12) == PinValue.High) on++;
            time.Advance(TimeSpan.FromMilliseconds(250));
        }
        // 30 % of each 10 s window: 12 of 40 quarter-seconds.
        Assert.Equal(12, on);
        actuators.Apply(Decide(30, 100, null));
        Assert.Equal(PinValue.High, devices.Driver.Level(12));
        actuators.Apply(Decide(0, 100, null));
        Assert.Equal(PinValue.Low, devices.Driver.Level(12));
    }

    [Fact]
    public void A_PT100_on_a_MAX31865_reads_through_the_library_and_an_open_element_is_a_named_fault()
    {
        using var devices = new Devices();
        double? celsius = 92.4;
        devices.Chips[(0, 1)] = new FakeMax31865 { Celsius = () => celsius };
        using var source = new Max31865Source(Channel.Vapour, devices.Chips[(0, 1)], pt1000: false, wires: 3, referenceOhms: 430, TimeSpan.FromMilliseconds(250), "SPI 0.1");
        var latest = new LatestReadings();
        source.Poll(latest, TimeProvider.System);
        Assert.True(latest[Channel.Vapour].IsGood, latest.Detail(Channel.Vapour));
        // 15-bit ADC over 430 Ω: one step is about 0.034 °C near 90 °C.
        Assert.InRange(latest[Channel.Vapour].Value, 92.35, 92.45);

        celsius = null;
        source.Poll(latest, TimeProvider.System);
        Assert.Equal(FaultReason.Disconnected, latest[Channel.Vapour].Fault);
        Assert.Contains("RTD high threshold", latest.Detail(Channel.Vapour));
        Assert.Equal(2, devices.Chips[(0, 1)].Conversions);
    }

    [Fact]
    public void A_BME280_reads_air_pressure_through_the_library_and_a_chip_that_stops_answering_is_disconnected()
    {
        var chip = new FakeBme280();
        using var source = new Bme280Source(Channel.Barometer, chip, TimeSpan.FromSeconds(1), "I2C 1 0x76");
        var latest = new LatestReadings();
        source.Poll(latest, TimeProvider.System);
        Assert.True(latest[Channel.Barometer].IsGood, latest.Detail(Channel.Barometer));
        // The datasheet's worked example compensates to 100653.27 Pa.
        Assert.Equal(1006.5327, latest[Channel.Barometer].Value, 2);

        chip.Present = false;
        source.Poll(latest, TimeProvider.System);
        Assert.Equal(FaultReason.Disconnected, latest[Channel.Barometer].Fault);
        Assert.Contains("remote I/O error", latest.Detail(Channel.Barometer));
    }

    [Fact]
    public void The_emergency_stop_contact_and_a_flow_meter_are_read_on_the_control_thread()
    {
        using var devices = new Devices();
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var inputs = new GpioInputs(devices.Gpio, [new DigitalInput(Channel.EmergencyStop, 17, false, 1, 0)], [new PulseInput(Channel.CoolingFlow, 23, 450, TimeSpan.FromSeconds(5))], time);
        var snapshot = new ReadingSnapshot();
        Assert.Equal(PinMode.InputPullUp, devices.Driver.Mode(17));
        // Pull-up with nothing pulling down: a broken wire reads as pressed.
        inputs.Read(snapshot, time.GetUtcNow());
        Assert.Equal(1, snapshot[Channel.EmergencyStop].Value);
        devices.Driver.SetInput(17, PinValue.Low);
        inputs.Read(snapshot, time.GetUtcNow());
        Assert.Equal(0, snapshot[Channel.EmergencyStop].Value);

        // 18 L/min at 450 pulses per litre: 135 pulses a second, one edge every 7.4 ms.
        for (var i = 0; i < 6 * 135; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1.0 / 135));
            devices.Driver.Pulse(23, 1);
            if (i % 135 == 0) inputs.Read(snapshot, time.GetUtcNow());
        }
        inputs.Read(snapshot, time.GetUtcNow());
        Assert.InRange(snapshot[Channel.CoolingFlow].Value, 17.9, 18.1);
        Assert.True(snapshot[Channel.CoolingFlow].Counted);

        // The meter stops: once a window has passed without an edge the flow reads zero.
        time.Advance(TimeSpan.FromSeconds(6));
        inputs.Read(snapshot, time.GetUtcNow());
        Assert.Equal(0, snapshot[Channel.CoolingFlow].Value);
    }
}
