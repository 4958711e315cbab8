using System.Diagnostics;
using System.Globalization;
using System.IO.Ports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StillControl.Hosting;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Sensors.Modbus;
using StillControl.Simulation;
using StillControl.Tests.Hardware;

namespace StillControl.Bench;

/// <summary>
/// Figures for the Pi layer: a Modbus poll cycle held against its wire-time limit (socat line paced at the baud rate, pymodbus
/// slaves), and the time from a faulty frame being read to the steam output safe in a running service.
/// Run: dotnet run -c Release --project bench/StillControl.Bench -- hardware
/// </summary>
public static class HardwareBench
{
    public static async Task RunAsync()
    {
        Console.WriteLine($"runtime {Environment.Version}, {Environment.ProcessorCount} cores");
        PollCycle();
        await FaultToSafeAsync();
        OneWireFaultToSafe();
    }

    private static void PollCycle()
    {
        const int baud = 9600;
        Console.WriteLine($"Modbus poll cycle at {baud} baud 8N1, one int16 register per transmitter (request 8 bytes, reply 7):");
        foreach (var transmitters in new[] { 1, 4, 8 })
        {
            using var line = new ModbusLine(baud, units: Math.Max(2, transmitters));
            var settings = new SerialSettings(line.MasterPort, baud, Parity.None, StopBits.One);
            using var port = new SerialPortLine(settings);
            var master = new ModbusMaster(port, settings, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(20), 0);
            var buffer = new byte[2];
            void Cycle()
            {
                for (var unit = 1; unit <= transmitters; unit++)
                {
                    var reply = master.ReadRegisters((byte)unit, 3, 10, 1, buffer);
                    if (!reply.IsOk) throw new InvalidOperationException(reply.Detail);
                }
            }
            for (var i = 0; i < 5; i++) Cycle();
            const int cycles = 40;
            var times = new double[cycles];
            for (var i = 0; i < cycles; i++)
            {
                var start = Stopwatch.GetTimestamp();
                Cycle();
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            Array.Sort(times);
            var character = ModbusRtu.CharacterTime(baud, false, 1).TotalMilliseconds;
            var gap = ModbusRtu.FrameGap(baud, false, 1).TotalMilliseconds;
            // Per transaction: request and reply on the wire, and the silent interval after each frame.
            var limit = transmitters * ((8 + 7) * character + 2 * gap);
            var median = times[cycles / 2];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {transmitters} transmitter(s): median {median:0.0} ms, p90 {times[cycles * 9 / 10]:0.0} ms; wire-time limit {limit:0.0} ms; ratio {median / limit:0.00}; {master.Health}"));
        }
    }

    private static async Task FaultToSafeAsync()
    {
        Console.WriteLine("Fault to safe: a running service (real time, 250 ms period, Modbus bus on its own thread), the pressure transmitter's replies corrupted:");
        var files = Directory.CreateTempSubdirectory("stillcontrol-bench-").FullName;
        try
        {
            var overrides = SimulatedWiring.Configuration();
            overrides["Hardware:Buses:rs485:Retries"] = "0";
            overrides["Hardware:Buses:rs485:PollMilliseconds"] = "100";
            var (host, wiring, cycle, steam) = await StartServiceAsync(files, overrides);
            using var _ = host;
            var results = new List<double>();
            for (var trial = 0; trial < 8; trial++)
            {
                // Wait for steam to flow again (the distiller acknowledges and resumes), then damage the line.
                if (!await SteamFlowsAsync(steam, TimeSpan.FromSeconds(60))) break;
                await Task.Delay(Random.Shared.Next(0, 250));
                var line = wiring!.Line!;
                line.Corrupt = true;
                while (steam.DutyCycle > 0) await Task.Delay(1);
                var safeAt = steam.ChangedAt;
                line.Corrupt = false;
                results.Add(Stopwatch.GetElapsedTime(line.CorruptReadAt, safeAt).TotalMilliseconds);
                // Clear the trip so the next trial starts from running steam.
                await cycle.Submit(new OperatorCommand(CommandKind.Ack, "bench", "bench", null));
                await cycle.Submit(new OperatorCommand(CommandKind.Resume, "bench", "bench", null));
            }
            await host.StopAsync();
            results.Sort();
            Console.WriteLine(results.Count == 0 ? "  no trial reached running steam" : string.Create(CultureInfo.InvariantCulture,
                $"  {results.Count} trials: corrupted frame read -> steam PWM 0 in {string.Join(", ", results.Select(r => r.ToString("0", CultureInfo.InvariantCulture)))} ms (max {results[^1]:0} ms; one period is 250 ms)"));
        }
        finally
        {
            Directory.Delete(files, recursive: true);
        }
    }

    private const string DistillateId = "28-00000bec0001";

    /// <summary>
    /// The same for a DS18B20 read by Iot.Device.Bindings: the benchmark runs itself again inside a private mount namespace
    /// with a fake 1-Wire sysfs (root only, as the tests), where the distillate thermometer is a file this process writes.
    /// </summary>
    private static void OneWireFaultToSafe()
    {
        Console.WriteLine("Fault to safe: the same service with the distillate thermometer a DS18B20 on 1-Wire (1 s period), its file turning to CRC NO:");
        if (Environment.UserName != "root")
        {
            Console.WriteLine("  skipped: needs root for the private mount namespace");
            return;
        }
        using var sysfs = new FakeSysfs();
        sysfs.Set(DistillateId, FakeSysfs.Slave(20.0));
        using var inner = sysfs.StartDotnet(typeof(HardwareBench).Assembly.Location, "hardware-onewire-inner", Path.Combine(sysfs.Root, "devices", FakeSysfs.Bus, DistillateId, "w1_slave"));
        var error = inner.StandardError.ReadToEndAsync();
        while (inner.StandardOutput.ReadLine() is { } line) Console.WriteLine(line);
        inner.WaitForExit();
        if (inner.ExitCode != 0) Console.WriteLine($"  inner run failed ({inner.ExitCode}): {error.Result}");
    }

    /// <summary>Inside the namespace: a running service whose distillate channel is the fake file at <paramref name="slaveFile"/>.</summary>
    public static async Task OneWireInnerAsync(string slaveFile)
    {
        var files = Directory.CreateTempSubdirectory("stillcontrol-bench-").FullName;
        try
        {
            var overrides = SimulatedWiring.Configuration();
            foreach (var key in new[] { "Bus", "Map", "Point", "Scale" }) overrides.Remove($"Hardware:Inputs:distillate:{key}");
            overrides["Hardware:Inputs:distillate:Source"] = "onewire";
            overrides["Hardware:Inputs:distillate:Id"] = DistillateId;
            var (host, _, cycle, steam) = await StartServiceAsync(files, overrides);
            using var _ = host;
            var still = host.Services.GetRequiredService<SimulatedStill>();
            var bank = host.Services.GetRequiredService<Sensors.PiSensorBank>();
            var faulty = false;
            // The kernel's file follows the simulated distillate temperature, as w1-therm would after each conversion.
            using var feeding = new CancellationTokenSource();
            var feeder = Task.Run(async () =>
            {
                while (!feeding.IsCancellationRequested)
                {
                    var celsius = Math.Round(still.Model.State.DistillateCelsius * 16) / 16;
                    var text = FakeSysfs.Slave(celsius, crcOk: !Volatile.Read(ref faulty));
                    var temporary = slaveFile + ".new";
                    File.WriteAllText(temporary, text);
                    File.Move(temporary, slaveFile, overwrite: true);
                    await Task.Delay(50);
                }
            });
            var fromRead = new List<double>();
            var fromWrite = new List<double>();
            for (var trial = 0; trial < 6; trial++)
            {
                if (!await SteamFlowsAsync(steam, TimeSpan.FromSeconds(90))) break;
                await Task.Delay(Random.Shared.Next(0, 1000));
                var written = DateTimeOffset.UtcNow;
                Volatile.Write(ref faulty, true);
                while (steam.DutyCycle > 0) await Task.Delay(1);
                var safe = DateTimeOffset.UtcNow;
                // The faulted reading carries the time the source read the file.
                var read = bank.Latest[Channel.Distillate].Timestamp;
                fromRead.Add((safe - read).TotalMilliseconds);
                fromWrite.Add((safe - written).TotalMilliseconds);
                Volatile.Write(ref faulty, false);
                await Task.Delay(1500);
                await cycle.Submit(new OperatorCommand(CommandKind.Ack, "bench", "bench", null));
                await cycle.Submit(new OperatorCommand(CommandKind.Resume, "bench", "bench", null));
            }
            feeding.Cancel();
            await feeder;
            await host.StopAsync();
            fromRead.Sort();
            fromWrite.Sort();
            string Show(List<double> values) => string.Join(", ", values.Select(v => v.ToString("0", CultureInfo.InvariantCulture)));
            Console.WriteLine(fromRead.Count == 0 ? "  no trial reached running steam" : string.Create(CultureInfo.InvariantCulture,
                $"  {fromRead.Count} trials: CRC NO file read -> steam PWM 0 in {Show(fromRead)} ms (max {fromRead[^1]:0} ms; one period is 250 ms); from the file changing: {Show(fromWrite)} ms (the 1 s conversion period comes first)"));
        }
        finally
        {
            Directory.Delete(files, recursive: true);
        }
    }

    /// <summary>A running service on the emulated wiring (real time, 250 ms period, sources on their own threads).</summary>
    private static async Task<(IHost Host, SimulatedWiring Wiring, ControlCycle Cycle, FakePwm Steam)> StartServiceAsync(string files, Dictionary<string, string?> overrides)
    {
        overrides["Journal:Path"] = Path.Combine(files, "journal.db");
        overrides["Mqtt:Enabled"] = "false";
        overrides["Logging:LogLevel:Default"] = "Error";
        var setup = new SimulationSetup(Files(), 1, 1, false, DateTimeOffset.UtcNow, null, TimeSpan.FromHours(1), RealTime: true);
        SimulatedWiring? wiring = null;
        var host = StillHost.Build([], overrides, DefaultRecipe.Create(), setup, LogLevel.Warning,
            new PiRig(sp => wiring = new SimulatedWiring(sp.GetRequiredService<SimulatedStill>(), sp.GetRequiredService<TimeProvider>()), Inline: false));
        await host.StartAsync();
        return (host, wiring!, host.Services.GetRequiredService<ControlCycle>(), wiring!.SteamPwm ?? throw new InvalidOperationException("no steam PWM"));
    }

    /// <summary>Waits for steam to flow (the distiller has started, or acknowledged and resumed); false when it does not in time.</summary>
    private static async Task<bool> SteamFlowsAsync(FakePwm steam, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (steam.DutyCycle <= 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        return steam.DutyCycle > 0;
    }

    private static Scenario Files() => StillControl.Cli.Files.LoadScenario(null);
}
