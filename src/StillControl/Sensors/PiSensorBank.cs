using Iot.Device.OneWire;
using Microsoft.Extensions.Logging;
using StillControl.Process;
using StillControl.Sensors.Modbus;

namespace StillControl.Sensors;

/// <summary>A wiring fault found while opening the hardware, under the configuration key that asked for the device.</summary>
public sealed class HardwareStartException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The Pi's inputs as one <see cref="ISensorBank"/>. Slow sources (1-Wire conversions, Modbus cycles, SPI and I2C chips) run on
/// their own threads and publish timestamped readings; GPIO contacts and pulse counts are read on the control thread itself.
/// With <c>inline</c> the slow sources are polled from <see cref="Read"/> when due instead: the same code, driven by a
/// simulated clock (the closed-loop test).
/// </summary>
public sealed class PiSensorBank : ISensorBank, IChannelSource, IDisposable
{
    private readonly IPolledSource[] sources;
    private GpioInputs? gpioInputs;
    private readonly LatestReadings latest = new();
    private readonly TimeProvider time;
    private readonly bool inline;
    private readonly DateTimeOffset[] nextPoll;
    private readonly List<Thread> threads = [];
    private readonly CancellationTokenSource stop = new();
    private readonly ILogger logger;
    private readonly IReadOnlyList<Channel> polledChannels;

    public PiSensorBank(PiPlan plan, IPiDevices devices, TimeProvider time, ILogger logger, bool inline = false, bool strict = true, ModbusBuses? buses = null)
    {
        buses ??= new ModbusBuses(plan, devices, keepFrameGap: !inline);
        this.time = time;
        this.inline = inline;
        this.logger = logger;
        var opened = new List<IPolledSource>();
        // Every device is tried, so one start names every wiring fault, not just the first.
        var failures = new List<string>();
        void Try(Action open)
        {
            try
            {
                open();
            }
            catch (HardwareStartException e)
            {
                failures.Add(e.Message);
            }
        }
        if (plan.OneWire.Count > 0)
        {
            var found = OneWireSource.Discover();
            var located = new List<(Channel, string, string)>();
            foreach (var input in plan.OneWire)
            {
                var match = found.FirstOrDefault(f => f.DeviceId == input.Id);
                if (match.BusId is null && !strict)
                {
                    // probe: list it as missing rather than refuse to look at the rest.
                    match = (found.FirstOrDefault().BusId ?? "w1_bus_master1", input.Id);
                }
                if (match.BusId is null)
                {
                    failures.Add($"{input.Key}:Id = \"{input.Id}\": no such thermometer on the 1-Wire bus; found: " +
                        (found.Count == 0 ? "none (is dtoverlay=w1-gpio in config.txt?)" : string.Join(", ", found.Select(f => f.DeviceId))));
                    continue;
                }
                located.Add((input.Channel, match.BusId, input.Id));
            }
            if (located.Count > 0)
            {
                opened.Add(new OneWireSource(located, plan.OneWire.Max(o => o.Period)));
            }
        }
        foreach (var input in plan.Max31865)
        {
            Try(() => opened.Add(Open(input.Key, () => new Max31865Source(input.Channel, devices.OpenSpi(input.Bus, input.ChipSelect), input.Pt1000, input.Wires,
                input.ReferenceOhms, input.Period, $"SPI {input.Bus}.{input.ChipSelect}"))));
        }
        foreach (var input in plan.Bme280)
        {
            Try(() => opened.Add(Open(input.Key, () => new Bme280Source(input.Channel, devices.OpenI2c(input.Bus, input.Address), input.Period,
                $"I2C {input.Bus} 0x{input.Address:X2}"))));
        }
        foreach (var (source, bus) in buses.All)
        {
            Try(() => opened.Add(Open($"{bus.Key}:Port", () => { source.Open(); return source; })));
        }
        if (plan.Digital.Count + plan.Pulses.Count > 0)
        {
            Try(() => gpioInputs = Open("Hardware:Inputs (digital and pulse pins)", () => new GpioInputs(devices.Gpio, plan.Digital, plan.Pulses, time)));
        }
        Failures = failures;
        if (failures.Count > 0 && strict)
        {
            foreach (var source in opened)
            {
                source.Dispose();
            }
            gpioInputs?.Dispose();
            throw new HardwareStartException(string.Join(Environment.NewLine + "stillcontrol: hardware: ", failures));
        }
        sources = opened.ToArray();
        nextPoll = new DateTimeOffset[sources.Length];
        polledChannels = sources.SelectMany(s => s.Channels).ToArray();
        ConfiguredChannels = plan.Channels.OrderBy(c => c).ToArray();
        Sources = sources;
        if (!inline)
        {
            foreach (var source in sources)
            {
                var thread = new Thread(() => Run(source)) { IsBackground = true, Name = source.Name };
                threads.Add(thread);
                thread.Start();
            }
        }
    }

    public IReadOnlyList<Channel> ConfiguredChannels { get; }

    /// <summary>Devices that did not open (not strict: <c>probe</c> lists them and reads the rest).</summary>
    public IReadOnlyList<string> Failures { get; }

    public IReadOnlyList<IPolledSource> Sources { get; }

    public LatestReadings Latest => latest;

    private static T Open<T>(string key, Func<T> open)
    {
        try
        {
            return open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or PlatformNotSupportedException)
        {
            throw new HardwareStartException($"{key}: {e.Message}", e);
        }
    }

    public void Read(ReadingSnapshot into, DateTimeOffset now)
    {
        if (inline)
        {
            for (var i = 0; i < sources.Length; i++)
            {
                if (now >= nextPoll[i])
                {
                    sources[i].Poll(latest, time);
                    nextPoll[i] = now + sources[i].Period;
                }
            }
        }
        latest.CopyTo(into, polledChannels);
        gpioInputs?.Read(into, now);
    }

    /// <summary>Polls every slow source once, now (probe).</summary>
    public void PollAll()
    {
        for (var i = 0; i < sources.Length; i++)
        {
            sources[i].Poll(latest, time);
            nextPoll[i] = time.GetUtcNow() + sources[i].Period;
        }
    }

    private void Run(IPolledSource source)
    {
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            var started = time.GetTimestamp();
            try
            {
                source.Poll(latest, time);
                failures = 0;
            }
            catch (Exception e)
            {
                // Its channels go stale and fault in the quality layer; the thread keeps trying.
                if (failures++ == 0)
                {
                    logger.LogError(e, "{Source} failed; its channels go stale until it reads again", source.Name);
                }
            }
            var rest = source.Period - time.GetElapsedTime(started);
            if (rest > TimeSpan.Zero)
            {
                // A bus also wakes early when an output write is queued.
                var woke = source is ModbusBusSource bus ? WaitHandle.WaitAny([stop.Token.WaitHandle, bus.Wake], rest) : (stop.Token.WaitHandle.WaitOne(rest) ? 0 : WaitHandle.WaitTimeout);
                if (woke == 0)
                {
                    return;
                }
            }
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        foreach (var thread in threads)
        {
            thread.Join(TimeSpan.FromSeconds(2));
        }
        foreach (var source in sources)
        {
            source.Dispose();
        }
        gpioInputs?.Dispose();
    }
}
