using System.Text;
using System.Text.Json;

namespace StillControl.Tests.Hardware;

/// <summary>DS18B20s read by the real Iot.Device.Bindings code from a fake sysfs, judged by our quality layer, through <c>probe</c>.</summary>
public sealed class OneWireTests : IDisposable
{
    private const string CoolingIn = "28-00000a1b2c01";
    private const string Distillate = "28-00000a1b2c02";
    private const string CoolingOut = "28-00000a1b2c03";
    private readonly FakeSysfs sysfs = new();

    private string Config(params (string Channel, string Id)[] inputs) => Config(null, inputs);

    private string Config(Action<Dictionary<string, object>>? more, params (string Channel, string Id)[] inputs)
    {
        var hardware = new Dictionary<string, object>
        {
            ["Mode"] = "Pi",
            ["Inputs"] = inputs.ToDictionary(i => i.Channel, i => (object)new Dictionary<string, object> { ["Source"] = "onewire", ["Id"] = i.Id }),
            ["Outputs"] = PiPlanTests.Outputs(),
        };
        more?.Invoke(hardware);
        var config = new Dictionary<string, object> { ["Hardware"] = hardware };
        return sysfs.Files.Write("stillcontrol.json", JsonSerializer.Serialize(config));
    }

    private static JsonElement Channel(JsonElement round, string name) =>
        round.GetProperty("channels").EnumerateArray().Single(c => c.GetProperty("channel").GetString() == name);

    [Fact]
    public void Good_readings_come_through_and_a_power_on_85_a_CRC_NO_and_a_blank_scratchpad_are_faults_with_reasons()
    {
        sysfs.Set(CoolingIn, FakeSysfs.Slave(18.625));
        sysfs.Set(Distillate, FakeSysfs.Slave(85.0));
        sysfs.Set(CoolingOut, FakeSysfs.Slave(24.5, crcOk: false));
        sysfs.Set("28-00000a1b2c04", FakeSysfs.BlankScratchpad);
        sysfs.Set("28-00000a1b2c05", FakeSysfs.Slave(21.0));
        var (rounds, exit, error) = Probe(Config(("cooling-in", CoolingIn), ("distillate", Distillate), ("cooling-out", CoolingOut), ("bed-surface", "28-00000a1b2c04")));

        Assert.True(exit == 3, $"exit {exit}: {error}");
        var round = Assert.Single(rounds);
        Assert.Equal(18.625, Channel(round, "cooling-in").GetProperty("value").GetDouble());
        Assert.Equal("ok", Channel(round, "cooling-in").GetProperty("status").GetString());
        Assert.Equal("power-on-value", Channel(round, "distillate").GetProperty("fault").GetString());
        Assert.Equal("checksum-error", Channel(round, "cooling-out").GetProperty("fault").GetString());
        Assert.Contains("CRC", Channel(round, "cooling-out").GetProperty("detail").GetString());
        Assert.Equal("disconnected", Channel(round, "bed-surface").GetProperty("fault").GetString());
        // A thermometer on the bus that no channel uses is listed, so the electrician can find its id.
        Assert.Contains($"{FakeSysfs.Bus}/28-00000a1b2c05", round.GetProperty("unusedOneWire").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void A_device_that_vanishes_mid_run_becomes_disconnected_and_minus_127_is_never_a_temperature()
    {
        sysfs.Set(CoolingIn, FakeSysfs.Slave(18.0));
        sysfs.Set(Distillate, FakeSysfs.Slave(26.0));
        var (rounds, exit, error) = Probe(Config(("cooling-in", CoolingIn), ("distillate", Distillate)), rounds: 4, intervalMs: 300, afterRound: n =>
        {
            if (n == 1) sysfs.Remove(Distillate);
            if (n == 2) sysfs.Set(CoolingIn, FakeSysfs.Slave(-127.0));
        });
        Assert.True(exit == 3, $"exit {exit}: {error}");
        Assert.Equal(4, rounds.Count);
        Assert.Equal(26.0, Channel(rounds[0], "distillate").GetProperty("value").GetDouble());
        Assert.False(rounds[0].GetProperty("faulted").GetBoolean());
        Assert.Equal("disconnected", Channel(rounds[1], "distillate").GetProperty("fault").GetString());
        Assert.Equal(18.0, Channel(rounds[1], "cooling-in").GetProperty("value").GetDouble());
        Assert.Equal("disconnected", Channel(rounds[3], "cooling-in").GetProperty("fault").GetString());
        Assert.Contains("-127", Channel(rounds[3], "cooling-in").GetProperty("detail").GetString());
    }

    [Fact]
    public void A_missing_thermometer_and_a_serial_port_that_will_not_open_stop_the_service_at_start_naming_their_keys()
    {
        sysfs.Set(CoolingIn, FakeSysfs.Slave(18.0));
        var config = Config(hardware =>
        {
            hardware["Buses"] = new Dictionary<string, object> { ["rs485"] = new Dictionary<string, object> { ["Port"] = "/dev/no-such-rs485" } };
            ((Dictionary<string, object>)hardware["Inputs"])["steam-pressure"] = new Dictionary<string, object>
            {
                ["Source"] = "modbus", ["Bus"] = "rs485", ["Map"] = "steam-pressure-int16.json", ["Point"] = "pressure",
            };
            ((Dictionary<string, object>)hardware["Inputs"])["emergency-stop"] = new Dictionary<string, object> { ["Source"] = "digital", ["Pin"] = 17 };
        }, ("cooling-in", CoolingIn), ("distillate", Distillate));
        using var process = sysfs.Start("run", "--config", config, "--journal", sysfs.Files.PathOf("journal.db"));
        var error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(60_000));
        Assert.Equal(2, process.ExitCode);
        // Every wiring fault at once, each under its key: the thermometer, the serial port, and (no PWM on this machine) the valves.
        Assert.Contains("Hardware:Inputs:distillate:Id", error);
        Assert.Contains(CoolingIn, error);
        Assert.Contains("Hardware:Buses:rs485:Port: /dev/no-such-rs485 does not exist", error);
        Assert.Contains("Hardware:Outputs:Steam", error);
    }

    /// <summary>Runs <c>probe --json</c> and returns its rounds, exit code and standard error.</summary>
    private (List<JsonElement> Rounds, int ExitCode, string Error) Probe(string config, int rounds = 1, int intervalMs = 0, Action<int>? afterRound = null)
    {
        using var process = sysfs.Start("probe", "--config", config, "--json", "--rounds", $"{rounds}", "--interval-ms", $"{intervalMs}");
        var error = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        var result = new List<JsonElement>();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            using var document = JsonDocument.Parse(line);
            result.Add(document.RootElement.Clone());
            afterRound?.Invoke(result.Count);
        }
        Assert.True(process.WaitForExit(60_000), "probe did not finish");
        process.WaitForExit();
        lock (error) return (result, process.ExitCode, error.ToString());
    }

    public void Dispose() => sysfs.Dispose();
}
