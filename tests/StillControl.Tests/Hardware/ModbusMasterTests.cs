using Microsoft.Extensions.Configuration;
using System.IO.Ports;
using StillControl.Process;
using StillControl.Sensors;
using StillControl.Sensors.Modbus;

namespace StillControl.Tests.Hardware;

/// <summary>
/// How long the tests let pymodbus answer. Not what a still uses (a transmitter answers in milliseconds; the configuration's
/// default is far shorter): on a loaded 2-core CI machine the Python server behind socat has taken over a second.
/// </summary>
internal static class ModbusTestTimeouts
{
    /// <summary>A single request that expects an answer.</summary>
    public static readonly TimeSpan Reply = TimeSpan.FromSeconds(3);

    /// <summary>A bus poll's per-request timeout: shorter, since a stopped slave costs it once per request and retry.</summary>
    public static readonly TimeSpan Bus = TimeSpan.FromSeconds(1);
}

/// <summary>Our Modbus RTU master over a socat pseudo-terminal line against pymodbus, with the line damaged on purpose.</summary>
public sealed class ModbusMasterTests : IDisposable
{
    private readonly ModbusLine line = new();
    private readonly SerialSettings settings;
    private readonly SerialPortLine port;

    public ModbusMasterTests()
    {
        settings = new SerialSettings(line.MasterPort, line.Baud, Parity.None, StopBits.One);
        port = new SerialPortLine(settings);
    }

    // The response timeout is generous: these tests are about damaged frames, and a loaded CI machine's pymodbus can take
    // long to answer (seen: a clean read of unit 2 timed out at 300 ms at load average 12, and a read at 1 s at load 17).
    private ModbusMaster Master(int retries = 0) => new(port, settings, ModbusTestTimeouts.Reply, TimeSpan.FromMilliseconds(20), retries);

    private static double Read(ModbusMaster master, byte unit, byte function, ushort address, RegisterType type, WordOrder order = WordOrder.HighFirst)
    {
        var count = (ushort)ModbusRtu.RegisterCount(type);
        var bytes = new byte[2 * count];
        var reply = master.ReadRegisters(unit, function, address, count, bytes);
        Assert.True(reply.IsOk, $"{reply.Outcome}: {reply.Detail}; {master.Health}");
        return ModbusRtu.Decode(bytes, type, order);
    }

    [Fact]
    public void Reads_every_data_type_and_word_order_from_two_units_with_functions_03_and_04()
    {
        var master = Master();
        Assert.Equal(-123, Read(master, 1, 3, 0, RegisterType.Int16));
        Assert.Equal(65000, Read(master, 1, 3, 1, RegisterType.UInt16));
        Assert.Equal(-100000, Read(master, 1, 3, 2, RegisterType.Int32));
        Assert.Equal(98.25, Read(master, 1, 3, 4, RegisterType.Float32));
        Assert.Equal(98.25, Read(master, 1, 3, 6, RegisterType.Float32, WordOrder.LowFirst));
        Assert.Equal(3_000_000_000, Read(master, 1, 3, 8, RegisterType.UInt32, WordOrder.LowFirst));
        Assert.Equal(2345, Read(master, 1, 4, 0, RegisterType.Int16));
        Assert.Equal(1234, Read(master, 2, 3, 0, RegisterType.Int16));
        Assert.Equal(8, master.Health.FramesOk);
        Assert.Equal(0, master.Health.BadCrc + master.Health.Timeouts + master.Health.Garbage + master.Health.NoiseBytes);
    }

    [Fact]
    public void An_exception_reply_is_reported_by_name_and_not_retried()
    {
        var master = Master(retries: 2);
        var reply = master.ReadRegisters(1, 3, 500, 1, new byte[2]);
        Assert.Equal(ModbusOutcome.ExceptionReply, reply.Outcome);
        Assert.Equal(2, reply.ExceptionCode);
        Assert.Contains("illegal data address", reply.Detail);
        Assert.Equal(1, master.Health.ExceptionReplies);
        Assert.Equal(0, master.Health.Retries);
        Assert.Equal(-123, Read(master, 1, 3, 0, RegisterType.Int16));
    }

    [Fact]
    public void A_unit_that_is_not_on_the_bus_times_out_and_the_next_read_is_clean()
    {
        var master = Master(retries: 1);
        var reply = master.ReadRegisters(9, 3, 0, 1, new byte[2]);
        Assert.Equal(ModbusOutcome.Timeout, reply.Outcome);
        Assert.Equal(2, master.Health.Timeouts);
        Assert.Equal(1, master.Health.Retries);
        Assert.Equal(1234, Read(master, 2, 3, 0, RegisterType.Int16));
    }

    [Theory]
    [InlineData("corrupt", ModbusOutcome.BadCrc)]
    [InlineData("wrong-unit", ModbusOutcome.WrongUnit)]
    [InlineData("truncate", ModbusOutcome.WrongLength)]
    [InlineData("garbage", ModbusOutcome.Garbage)]
    [InlineData("drop", ModbusOutcome.Timeout)]
    public void A_damaged_reply_is_rejected_and_counted_and_the_bus_stays_in_step(string damage, ModbusOutcome expected)
    {
        var master = Master();
        line.Command(damage);
        var reply = master.ReadRegisters(1, 3, 10, 1, new byte[2]);
        Assert.Equal(expected, reply.Outcome);
        // The next frames are answered and read correctly: nothing left over on the line shifts them.
        Assert.Equal(785, Read(master, 1, 3, 10, RegisterType.Int16));
        Assert.Equal(1234, Read(master, 2, 3, 0, RegisterType.Int16));
        Assert.Equal(2, master.Health.FramesOk);
    }

    [Fact]
    public void With_a_retry_a_damaged_reply_costs_one_more_frame_and_the_value_still_arrives()
    {
        var master = Master(retries: 1);
        line.Command("corrupt");
        Assert.Equal(785, Read(master, 1, 3, 10, RegisterType.Int16));
        Assert.Equal(1, master.Health.BadCrc);
        Assert.Equal(1, master.Health.Retries);
    }

    [Fact]
    public void Noise_from_a_second_writer_before_or_between_frames_is_skipped()
    {
        var master = Master();
        line.Command("prefix 7");
        Assert.Equal(785, Read(master, 1, 3, 10, RegisterType.Int16));
        line.Command("noise 23");
        Thread.Sleep(50);
        Assert.Equal(1234, Read(master, 2, 3, 0, RegisterType.Int16));
        Assert.True(master.Health.NoiseBytes >= 30, master.Health.ToString());
        Assert.Equal(2, master.Health.FramesOk);
    }

    [Fact]
    public void A_slave_that_stops_answering_faults_its_channels_as_disconnected_and_they_recover_when_it_returns()
    {
        var input = new ModbusInput(Channel.SteamPressure, 2, new ModbusPoint(3, 0, RegisterType.Int16, WordOrder.HighFirst, 0.1, 0));
        var temperature = new ModbusInput(Channel.Vapour, 1, new ModbusPoint(3, 10, RegisterType.Int16, WordOrder.HighFirst, 0.1, 0));
        using var source = new ModbusBusSource("rs485", () => new SerialPortLine(settings), settings, [input, temperature], TimeSpan.Zero,
            ModbusTestTimeouts.Bus, TimeSpan.FromMilliseconds(20), 1);
        var latest = new LatestReadings();
        source.Poll(latest, TimeProvider.System);
        Assert.Equal(123.4, latest[Channel.SteamPressure].Value, 6);
        Assert.Equal(78.5, latest[Channel.Vapour].Value, 6);

        line.StopSlave();
        source.Poll(latest, TimeProvider.System);
        Assert.Equal(FaultReason.Disconnected, latest[Channel.SteamPressure].Fault);
        Assert.Equal(FaultReason.Disconnected, latest[Channel.Vapour].Fault);
        Assert.Contains("did not answer", latest.Detail(Channel.Vapour));

        line.StartSlave();
        source.Poll(latest, TimeProvider.System);
        Assert.True(latest[Channel.SteamPressure].IsGood, latest.Detail(Channel.SteamPressure));
        Assert.Equal(78.5, latest[Channel.Vapour].Value, 6);
        Assert.Contains("timeouts 4", source.Health);
    }

    [Fact]
    public void An_adapter_pulled_out_faults_every_channel_on_its_bus_and_the_bus_comes_back_when_it_is_plugged_in_again()
    {
        var input = new ModbusInput(Channel.SteamPressure, 2, new ModbusPoint(3, 0, RegisterType.Int16, WordOrder.HighFirst, 0.1, 0));
        var temperature = new ModbusInput(Channel.Vapour, 1, new ModbusPoint(3, 10, RegisterType.Int16, WordOrder.HighFirst, 0.1, 0));
        var opens = 0;
        using var source = new ModbusBusSource("rs485", () => { opens++; return new SerialPortLine(settings); }, settings, [input, temperature], TimeSpan.Zero,
            ModbusTestTimeouts.Bus, TimeSpan.FromMilliseconds(20), 1);
        var latest = new LatestReadings();
        source.Poll(latest, TimeProvider.System);
        Assert.Equal(123.4, latest[Channel.SteamPressure].Value, 6);

        line.Unplug();
        for (var i = 0; i < 3; i++)
        {
            source.Poll(latest, TimeProvider.System);
            Assert.Equal(FaultReason.Disconnected, latest[Channel.SteamPressure].Fault);
            Assert.Equal(FaultReason.Disconnected, latest[Channel.Vapour].Fault);
        }

        line.Replug();
        line.WaitForSlave();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        do
        {
            source.Poll(latest, TimeProvider.System);
        }
        while (!(latest[Channel.Vapour].IsGood && latest[Channel.SteamPressure].IsGood) && DateTime.UtcNow < deadline);
        Assert.True(latest[Channel.Vapour].IsGood, latest.Detail(Channel.Vapour) + "; " + source.Health);
        Assert.Equal(78.5, latest[Channel.Vapour].Value, 6);
        Assert.Equal(123.4, latest[Channel.SteamPressure].Value, 6);
        Assert.True(opens >= 2, $"the line was opened {opens} time(s): a replugged adapter is a new device and needs a new handle");
    }

    [Fact]
    public void A_bad_checksum_on_the_bus_reaches_the_controller_as_a_checksum_fault()
    {
        var input = new ModbusInput(Channel.Vapour, 1, new ModbusPoint(3, 10, RegisterType.Int16, WordOrder.HighFirst, 0.1, 0));
        using var source = new ModbusBusSource("rs485", () => new SerialPortLine(settings), settings, [input], TimeSpan.Zero,
            ModbusTestTimeouts.Bus, TimeSpan.FromMilliseconds(20), 0);
        var latest = new LatestReadings();
        line.Command("corrupt");
        source.Poll(latest, TimeProvider.System);
        Assert.Equal(FaultReason.ChecksumError, latest[Channel.Vapour].Fault);
        source.Poll(latest, TimeProvider.System);
        Assert.Equal(78.5, latest[Channel.Vapour].Value, 6);
    }

    public void Dispose()
    {
        port.Dispose();
        line.Dispose();
    }
}

/// <summary><c>stillcontrol probe</c> in a child process, reading transmitters over the socat line from pymodbus through a configuration.</summary>
public sealed class ModbusProbeTests : IDisposable
{
    private readonly ModbusLine line = new();
    private readonly TestFiles files = new();

    [Fact]
    public async Task Probe_reads_the_configured_transmitters_and_shows_the_buss_frame_counters()
    {
        var config = new Dictionary<string, object>
        {
            ["Hardware"] = new Dictionary<string, object>
            {
                ["Mode"] = "Pi",
                ["Buses"] = new Dictionary<string, object> { ["rs485"] = new Dictionary<string, object> { ["Port"] = line.MasterPort, ["Baud"] = 9600 } },
                ["Inputs"] = new Dictionary<string, object>
                {
                    // Unit 2's register 0 through a direct point, unit 1's register 10 through the shipped PT100 module map's layout.
                    ["steam-pressure"] = new Dictionary<string, object> { ["Source"] = "modbus", ["Bus"] = "rs485", ["Unit"] = 2, ["Function"] = 3, ["Address"] = 0, ["Type"] = "int16", ["Scale"] = 0.1 },
                    ["vapour"] = new Dictionary<string, object> { ["Source"] = "modbus", ["Bus"] = "rs485", ["Unit"] = 1, ["Map"] = "pt100-8ch.json", ["Point"] = "ch1", ["Address"] = 10 },
                    ["steam"] = new Dictionary<string, object> { ["Source"] = "modbus", ["Bus"] = "rs485", ["Unit"] = 7, ["Function"] = 3, ["Address"] = 0 },
                    // This machine has no GPIO: probe names what it could not open and still reads the rest.
                    ["emergency-stop"] = new Dictionary<string, object> { ["Source"] = "digital", ["Pin"] = 17 },
                },
                ["Outputs"] = PiPlanTests.Outputs(),
            },
        };
        var path = files.Write("stillcontrol.json", System.Text.Json.JsonSerializer.Serialize(config));
        var (exit, output, error) = await Cli.StillControlProcess.RunAsync(files.Folder, "probe", "--config", path, "--json");
        // Unit 7 is not on the bus: probe says so and exits 3.
        Assert.True(exit == 3, $"exit {exit}: {error}");
        using var round = System.Text.Json.JsonDocument.Parse(output.Trim());
        var channels = round.RootElement.GetProperty("channels").EnumerateArray().ToDictionary(c => c.GetProperty("channel").GetString()!);
        Assert.Equal(123.4, channels["steam-pressure"].GetProperty("value").GetDouble(), 6);
        Assert.Equal(78.5, channels["vapour"].GetProperty("value").GetDouble(), 6);
        Assert.Equal("disconnected", channels["steam"].GetProperty("fault").GetString());
        Assert.Contains("unit 7 did not answer", channels["steam"].GetProperty("detail").GetString());
        Assert.Equal("not-opened", channels["emergency-stop"].GetProperty("fault").GetString());
        Assert.Contains(round.RootElement.GetProperty("notOpened").EnumerateArray(), e => e.GetString()!.StartsWith("Hardware:Inputs (digital and pulse pins): no /dev/gpiochip", StringComparison.Ordinal));
        var bus = round.RootElement.GetProperty("buses").EnumerateArray().Single();
        Assert.Contains("frames ok 2", bus.GetProperty("health").GetString());
        Assert.Contains("timeouts 2", bus.GetProperty("health").GetString());
    }

    public void Dispose()
    {
        files.Dispose();
        line.Dispose();
    }
}

/// <summary>A valve driven through an analog output module's holding register (function 06) over the socat line to pymodbus.</summary>
public sealed class ModbusOutputTests : IDisposable
{
    private readonly ModbusLine line = new();

    private sealed class Devices(string port) : IPiDevices
    {
        public FakeGpioDriver Driver { get; } = new();
        private System.Device.Gpio.GpioController? gpio;
        public System.Device.Gpio.GpioController Gpio => gpio ??= new System.Device.Gpio.GpioController(Driver);
        public System.Device.Spi.SpiDevice OpenSpi(int bus, int chipSelect) => throw new MissingDeviceException("no SPI");
        public System.Device.I2c.I2cDevice OpenI2c(int bus, int address) => throw new MissingDeviceException("no I2C");
        public System.Device.Pwm.PwmChannel OpenPwm(int chip, int channel, int frequency) => new FakePwm { Frequency = frequency };
        public int Opened { get; private set; }

        public ISerialLine OpenSerial(SerialSettings settings)
        {
            Opened++;
            return new SerialPortLine(settings with { Port = port });
        }
        public void Dispose() => gpio?.Dispose();
    }

    private ushort ReadBack(ushort address)
    {
        var settings = new SerialSettings(line.MasterPort, line.Baud, Parity.None, StopBits.One);
        using var port = new SerialPortLine(settings);
        var bytes = new byte[2];
        var reply = new ModbusMaster(port, settings, ModbusTestTimeouts.Reply, TimeSpan.FromMilliseconds(20), 1).ReadRegisters(1, 3, address, 1, bytes);
        Assert.True(reply.IsOk, reply.Detail);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(bytes);
    }

    [Fact]
    public void A_write_is_acknowledged_by_its_echo_and_a_register_that_does_not_exist_answers_an_exception()
    {
        var settings = new SerialSettings(line.MasterPort, line.Baud, Parity.None, StopBits.One);
        var master = new ModbusMaster(new SerialPortLine(settings), settings, ModbusTestTimeouts.Reply, TimeSpan.FromMilliseconds(20), 0);
        Assert.True(master.WriteRegister(1, 20, 1234).IsOk);
        var refused = master.WriteRegister(1, 500, 1);
        Assert.Equal(ModbusOutcome.ExceptionReply, refused.Outcome);
        Assert.Contains("illegal data address", refused.Detail);
        var bytes = new byte[2];
        Assert.True(master.ReadRegisters(1, 3, 20, 1, bytes).IsOk);
        Assert.Equal(1234, System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(bytes));
    }

    private static PiPlan SteamOnModule()
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Hardware:Mode"] = "Pi",
            ["Hardware:Buses:rs485:Port"] = "/dev/rs485",
            ["Hardware:Outputs:Steam:Kind"] = "modbus",
            ["Hardware:Outputs:Steam:Bus"] = "rs485",
            ["Hardware:Outputs:Steam:Unit"] = "1",
            ["Hardware:Outputs:Steam:Address"] = "20",
            // 4-20 mA in µA.
            ["Hardware:Outputs:Steam:ZeroValue"] = "4000",
            ["Hardware:Outputs:Steam:FullScaleValue"] = "20000",
            ["Hardware:Outputs:Cooling:Kind"] = "pwm",
            ["Hardware:Outputs:Cooling:Chip"] = "0",
            ["Hardware:Outputs:Cooling:Channel"] = "1",
            ["Hardware:Outputs:Horn:Pin"] = "20",
            ["Hardware:Inputs:emergency-stop:Source"] = "digital",
            ["Hardware:Inputs:emergency-stop:Pin"] = "17",
        };
        foreach (var (receiver, pin) in SimulatedWiring.ReceiverPins) configuration[$"Hardware:Outputs:Receivers:{receiver}:Pin"] = $"{pin}";
        var options = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(configuration).Build().GetSection("Hardware").Get<Hosting.HardwareOptions>()!;
        var (plan, errors) = PiPlan.Resolve(options, Recipes.DefaultRecipe.Create(), null);
        Assert.True(plan is not null, string.Join("; ", errors));
        return plan;
    }


    [Fact]
    public void A_steam_valve_on_an_analog_output_module_opens_through_the_bus_and_closes_at_once()
    {
        var plan = SteamOnModule();
        using var devices = new Devices(line.MasterPort);
        using var buses = new ModbusBuses(plan, devices);
        using (var actuators = new Actuators.PiActuators(plan, devices, TimeProvider.System, buses))
        {
            // Safe at start, written at once: 4 mA.
            Assert.Equal(4000, ReadBack(20));
            // The inputs of the same bus ask for it too: still one handle on the port.
            buses.Get("rs485").Open();
            Assert.Equal(1, devices.Opened);
            var decisions = new Decisions();
            decisions.Clear(DateTimeOffset.UtcNow);
            decisions.SteamValvePercent = 35;
            decisions.CoolingValvePercent = 100;
            actuators.Apply(decisions);
            // Opening goes through the bus thread's queue (none runs here: flush by hand), 35 % of 4-20 mA = 9.6 mA.
            buses.FlushAll();
            Assert.Equal(9600, ReadBack(20));
            decisions.SteamValvePercent = 0;
            actuators.Apply(decisions);
            // Closing is written before Apply returns.
            Assert.Equal(4000, ReadBack(20));
            decisions.SteamValvePercent = 50;
            actuators.Apply(decisions);
            buses.FlushAll();
            Assert.Equal(12000, ReadBack(20));
        }
        // Disposing the outputs leaves them safe.
        Assert.Equal(4000, ReadBack(20));
    }

    [Fact]
    public void A_module_that_stops_answering_is_reported_by_name_and_its_last_value_goes_out_when_it_answers_again()
    {
        var plan = SteamOnModule();
        using var devices = new Devices(line.MasterPort);
        using var buses = new ModbusBuses(plan, devices);
        using var actuators = new Actuators.PiActuators(plan, devices, TimeProvider.System, buses);
        var bus = buses.Get("rs485");
        Assert.Null(actuators.Fault);
        var decisions = new Decisions();
        decisions.Clear(DateTimeOffset.UtcNow);
        decisions.SteamValvePercent = 35;
        decisions.CoolingValvePercent = 100;
        actuators.Apply(decisions);
        bus.FlushWrites();
        Assert.Null(actuators.Fault);
        Assert.Equal(9600, ReadBack(20));

        line.StopSlave();
        decisions.SteamValvePercent = 50;
        actuators.Apply(decisions);
        bus.FlushWrites();
        Assert.StartsWith("steam valve (Hardware:Outputs:Steam, unit 1 register 20): ", actuators.Fault);
        Assert.Contains("did not answer", actuators.Fault);
        // The trip's close is written at once and fails too; it stays the value to send.
        decisions.SteamValvePercent = 0;
        actuators.Apply(decisions);
        Assert.NotNull(actuators.Fault);

        line.StartSlave();
        // The bus thread's next cycle sends it again: the module takes the close, and the fault clears.
        bus.Poll(new LatestReadings(), TimeProvider.System);
        Assert.Null(actuators.Fault);
        Assert.Equal(4000, ReadBack(20));
    }

    [Fact]
    public async Task The_safe_command_writes_the_modules_safe_values_and_names_a_module_that_does_not_answer()
    {
        using var files = new TestFiles();
        var outputs = PiPlanTests.Outputs();
        outputs["Steam"] = new Dictionary<string, object> { ["Kind"] = "modbus", ["Bus"] = "rs485", ["Unit"] = 1, ["Address"] = 20, ["ZeroValue"] = 4000, ["FullScaleValue"] = 20000 };
        outputs["Cooling"] = new Dictionary<string, object> { ["Kind"] = "modbus", ["Bus"] = "rs485", ["Unit"] = 1, ["Address"] = 21, ["ZeroValue"] = 4000, ["FullScaleValue"] = 20000 };
        var config = files.Write("stillcontrol.json", System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Hardware"] = new Dictionary<string, object>
            {
                ["Mode"] = "Pi",
                ["Buses"] = new Dictionary<string, object> { ["rs485"] = new Dictionary<string, object> { ["Port"] = line.MasterPort, ["Baud"] = line.Baud } },
                ["Outputs"] = outputs,
            },
        }));
        // Leave both registers somewhere unsafe first.
        var settings = new SerialSettings(line.MasterPort, line.Baud, Parity.None, StopBits.One);
        using (var port = new SerialPortLine(settings))
        {
            var master = new ModbusMaster(port, settings, ModbusTestTimeouts.Reply, TimeSpan.FromMilliseconds(20), 1);
            Assert.True(master.WriteRegister(1, 20, 15000).IsOk);
            Assert.True(master.WriteRegister(1, 21, 15000).IsOk);
        }

        // This machine has no GPIO chip, so the relays cannot be driven and the exit is 1; the valves on the module are safe.
        var (exit, _, error) = await Cli.StillControlProcess.RunAsync(files.Folder, "safe", "--config", config);
        Assert.Equal(1, exit);
        Assert.Contains("could not drive", error);
        Assert.DoesNotContain("Hardware:Outputs:Steam", error);
        Assert.DoesNotContain("Hardware:Outputs:Cooling", error);
        Assert.Equal(4000, ReadBack(20));
        Assert.Equal(4000, ReadBack(21));

        line.StopSlave();
        (exit, _, error) = await Cli.StillControlProcess.RunAsync(files.Folder, "safe", "--config", config);
        Assert.Equal(1, exit);
        Assert.Contains("could not drive steam valve (Hardware:Outputs:Steam, unit 1 register 20): unit 1 did not answer", error);
        Assert.Contains("could not drive cooling valve (Hardware:Outputs:Cooling, unit 1 register 21)", error);
    }

    public void Dispose() => line.Dispose();
}
