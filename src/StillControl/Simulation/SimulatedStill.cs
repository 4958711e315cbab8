using System.Text.Json;
using StillControl.Actuators;
using StillControl.Physics;
using StillControl.Process;
using StillControl.Sensors;

namespace StillControl.Simulation;

/// <summary>How one simulated sensor samples: the real part's period, resolution and noise.</summary>
public readonly record struct SensorSpec(double PeriodSeconds, double Resolution, double NoiseStandardDeviation)
{
    /// <summary>DS18B20: a 12-bit conversion takes up to 750 ms, in steps of 0.0625 °C.</summary>
    public static readonly SensorSpec Ds18b20 = new(0.75, 0.0625, 0.04);
    /// <summary>PT100 through a MAX31865: fast, for the still head.</summary>
    public static readonly SensorSpec Pt100 = new(0.1, 0.01, 0.02);
    /// <summary>RS-485 pressure transmitter polled over Modbus.</summary>
    public static readonly SensorSpec PressureTransmitter = new(0.2, 0.1, 0.15);
    public static readonly SensorSpec FlowMeter = new(1.0, 0.01, 0.005);
    public static readonly SensorSpec Barometer = new(1.0, 0.01, 0.03);
    public static readonly SensorSpec StrengthMeter = new(1.0, 0.1, 0.1);
    public static readonly SensorSpec DigitalInput = new(0.05, 1, 0);
}

/// <summary>
/// The simulated still: a hardware implementation like the Pi's. Its sensors sample the physics model at their own periods with
/// their own resolution and noise; its actuators drive the model; the scenario's faults act on both.
/// </summary>
public sealed class SimulatedStill : ISensorBank, IActuators, IChannelSource
{
    private const double MaximumPhysicsStepSeconds = 0.25;

    private readonly Scenario scenario;
    private readonly FaultSchedule schedule;
    // The scenario's faults, read at every sample of every channel: an array, and for each channel whether any fault names it.
    private readonly ScenarioFault[] faults;
    private readonly bool[] channelFaulted = new bool[Channels.Count];
    private readonly SensorSpec?[] specs = new SensorSpec?[Channels.Count];
    // When each sensor samples next, in UTC ticks (0: not yet), and its period in ticks: plain integers in the loop's hot path.
    private readonly long[] nextSample = new long[Channels.Count];
    private readonly long[] periodTicks = new long[Channels.Count];
    private readonly Reading[] latest = new Reading[Channels.Count];
    private readonly double?[] frozen = new double?[Channels.Count];
    private SplitMix random;
    private DateTimeOffset? lastAdvance;
    private double steamLineCelsius;

    public SimulatedStill(Scenario scenario, FaultSchedule schedule, int seed, StillModelState? restored = null)
    {
        this.scenario = scenario;
        this.schedule = schedule;
        faults = [.. scenario.Faults];
        foreach (var fault in faults) if (FaultKinds.NeedsChannel(fault.Kind)) channelFaulted[(int)fault.ChannelValue] = true;
        random = new SplitMix((ulong)seed * 0x2545F4914F6CDD1DUL + 1);
        Model = new StillModel(scenario.Still, restored);
        steamLineCelsius = scenario.Still.AmbientCelsius;
        specs[(int)Channel.Steam] = SensorSpec.Ds18b20;
        specs[(int)Channel.SteamPressure] = SensorSpec.PressureTransmitter;
        specs[(int)Channel.Vapour] = SensorSpec.Pt100;
        specs[(int)Channel.BedSurface] = SensorSpec.Ds18b20;
        specs[(int)Channel.CoolingIn] = SensorSpec.Ds18b20;
        specs[(int)Channel.CoolingOut] = SensorSpec.Ds18b20;
        specs[(int)Channel.CoolingFlow] = SensorSpec.FlowMeter;
        specs[(int)Channel.Distillate] = SensorSpec.Ds18b20;
        specs[(int)Channel.DistillateFlow] = SensorSpec.FlowMeter;
        specs[(int)Channel.Barometer] = SensorSpec.Barometer;
        specs[(int)Channel.Strength] = scenario.StrengthMeter ? SensorSpec.StrengthMeter : null;
        specs[(int)Channel.EmergencyStop] = SensorSpec.DigitalInput;
        specs[(int)Channel.LidClosed] = scenario.LidSwitch ? SensorSpec.DigitalInput : null;
        specs[(int)Channel.DistillateCheck] = scenario.DistillateCheckProbe ? SensorSpec.Ds18b20 : null;
        specs[(int)Channel.SteamValvePosition] = scenario.ValvePositionFeedback ? SensorSpec.PressureTransmitter : null;
    }

    public StillModel Model { get; }

    public IReadOnlyList<Channel> ConfiguredChannels => Channels.All.Where(c => specs[(int)c] is not null).ToArray();

    public OutputState Outputs { get; private set; } = OutputState.Safe;

    public void Apply(Decisions decisions)
    {
        var steam = decisions.SteamValvePercent;
        // A steam valve whose driver stopped answering stays at its last opening, whatever the controller now asks; one stuck
        // mechanically does the same without a word.
        if (lastAdvance is { } at && FaultActive(FaultKinds.SteamValveUnresponsive, null, at) is not null)
        {
            stuckSteamPercent ??= ModulatingValvePercent;
            steam = stuckSteamPercent.Value;
            mechanicallyStuckPercent = null;
        }
        else if (lastAdvance is { } when && FaultActive(FaultKinds.SteamValveStuckOpen, null, when) is not null)
        {
            stuckSteamPercent = null;
            mechanicallyStuckPercent ??= ModulatingValvePercent;
            steam = mechanicallyStuckPercent.Value;
        }
        else
        {
            stuckSteamPercent = null;
            mechanicallyStuckPercent = null;
        }
        ModulatingValvePercent = steam;
        // The isolation valve, fitted, is the second way to shut the steam: closed, no steam passes whatever the modulating valve does.
        // As on the Pi, a modulating valve that stopped answering is not trusted to close: the isolation valve shuts at once.
        IsolationOpen = !scenario.IsolationValve || (decisions.SteamIsolationOpen && stuckSteamPercent is null);
        Outputs = new OutputState(IsolationOpen ? steam : 0, decisions.CoolingValvePercent, decisions.Receiver, decisions.Horn, decisions.Beacon, IsolationOpen);
    }

    private double? stuckSteamPercent;
    private double? mechanicallyStuckPercent;

    /// <summary>Where the modulating steam valve actually stands (it may be stuck).</summary>
    public double ModulatingValvePercent { get; private set; }

    /// <summary>The isolation valve lets steam through (always, where none is fitted).</summary>
    public bool IsolationOpen { get; private set; } = true;

    public bool SteamIsolationFitted => scenario.IsolationValve;

    public string? Fault => stuckSteamPercent is { } stuck
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"steam valve not answering (simulated driver), left at {stuck:0.#} %")
        : null;

    public void SetSafe()
    {
        Outputs = OutputState.Safe;
        ModulatingValvePercent = 0;
        IsolationOpen = !scenario.IsolationValve;
    }

    /// <summary>Outputs as real wiring drives them (the Pi layer's tests: PWM duty and relay pins turned back into valve openings).</summary>
    public void Drive(OutputState outputs) => Outputs = outputs;

    public void Read(ReadingSnapshot into, DateTimeOffset now)
    {
        Advance(now);
        for (var i = 0; i < Channels.Count; i++)
        {
            if (specs[i] is not { } spec)
            {
                into[(Channel)i] = Reading.NotConfigured;
                continue;
            }
            var nowTicks = now.UtcTicks;
            if (nextSample[i] == 0)
            {
                // Stagger the first samples so the sensors do not all report in the same instant.
                nextSample[i] = (now + TimeSpan.FromSeconds(spec.PeriodSeconds * random.NextDouble())).UtcTicks;
                periodTicks[i] = TimeSpan.FromSeconds(spec.PeriodSeconds).Ticks;
            }
            if (nowTicks >= nextSample[i])
            {
                var period = periodTicks[i];
                var atTicks = nextSample[i] + (nowTicks - nextSample[i]) / period * period;
                nextSample[i] = atTicks + period;
                latest[i] = Sample((Channel)i, spec, now.AddTicks(atTicks - nowTicks));
            }
            into[(Channel)i] = latest[i];
        }
    }

    private void Advance(DateTimeOffset now)
    {
        if (lastAdvance is not { } last)
        {
            lastAdvance = now;
            return;
        }
        var remaining = (now - last).TotalSeconds;
        lastAdvance = now;
        var disturbances = Disturbances(now);
        while (remaining > 1e-9)
        {
            var h = Math.Min(MaximumPhysicsStepSeconds, remaining);
            Model.Step(h, Outputs.SteamValvePercent, Outputs.CoolingValvePercent, disturbances);
            remaining -= h;
        }
        var steamTarget = Model.State.SteamKilogramsPerSecond > 0.001 ? 100.5 + 0.25 * Model.State.SteamPressureKilopascals : 60;
        steamLineCelsius += (steamTarget - steamLineCelsius) * Math.Min(1, (now - last).TotalSeconds / 10);
    }

    private StillDisturbances Disturbances(DateTimeOffset now)
    {
        var result = new StillDisturbances { SteamSurgeFactor = 1 };
        foreach (var fault in faults)
        {
            if (!schedule.IsActive(fault, now)) continue;
            switch (fault.Kind)
            {
                case FaultKinds.CoolingWaterLoss:
                    result.CoolingWaterLost = true;
                    break;
                case FaultKinds.CoolingWaterHot:
                    result.CoolingInletCelsius = fault.ValueCelsius;
                    break;
                case FaultKinds.CoolingWaterLow:
                    result.CoolingSupplyFactor = fault.Factor ?? 1;
                    break;
                case FaultKinds.SteamPressureSurge:
                    result.SteamSurgeFactor = fault.Factor ?? 2.5;
                    break;
            }
        }
        return result;
    }

    private double TrueValue(Channel channel, DateTimeOffset at)
    {
        var s = Model.State;
        return channel switch
        {
            Channel.Steam => steamLineCelsius,
            Channel.SteamPressure => s.SteamPressureKilopascals,
            Channel.Vapour => s.HeadCelsius,
            Channel.BedSurface => s.BedSurfaceProbeCelsius,
            Channel.CoolingIn => s.CoolingInCelsius,
            Channel.CoolingOut => s.CoolingOutCelsius,
            Channel.CoolingFlow => s.CoolingFlowLitresPerMinute,
            Channel.Distillate or Channel.DistillateCheck => s.DistillateCelsius,
            Channel.SteamValvePosition => ModulatingValvePercent,
            Channel.DistillateFlow => s.DistillateLitresPerMinute,
            Channel.Barometer => Model.Parameters.BarometerHectopascals,
            Channel.Strength => s.DistillateStrengthPercentVolume,
            // The stop input is latched as on the Pi: a press between two reads is still seen by the next one.
            Channel.EmergencyStop => FaultActive(FaultKinds.EmergencyStop, null, at) is not null || FaultWithin(FaultKinds.EmergencyStop, latest[(int)channel].Timestamp, at) ? 1 : 0,
            Channel.LidClosed => s.Sealed && FaultActive(FaultKinds.LidOpen, null, at) is null ? 1 : 0,
            _ => double.NaN,
        };
    }

    private Reading Sample(Channel channel, SensorSpec spec, DateTimeOffset at)
    {
        if (FaultActive(FaultKinds.SensorDisconnect, channel, at) is not null)
        {
            return Reading.Faulted(FaultReason.Disconnected, at);
        }
        if (FaultActive(FaultKinds.SensorPowerOnReading, channel, at) is not null)
        {
            return Reading.Good(85.0, at);
        }
        if (FaultActive(FaultKinds.SensorDead, channel, at) is not null)
        {
            return Reading.Good(0, at);
        }

        var value = TrueValue(channel, at);
        if (FaultActive(FaultKinds.SensorOffset, channel, at) is { } offset)
        {
            value += offset.Value ?? 0;
        }
        if (FaultActive(FaultKinds.SensorDrift, channel, at) is { } drift && schedule.DueAt(drift) is { } since)
        {
            value += (drift.RatePerSecond ?? 0) * (at - since).TotalSeconds;
        }
        if (spec.NoiseStandardDeviation > 0)
        {
            var noise = spec.NoiseStandardDeviation * random.NextGaussian();
            // Flow meters count pulses: their noise scales with the flow and a stopped flow reads exactly zero.
            value = channel is Channel.CoolingFlow or Channel.DistillateFlow ? Math.Max(0, value * (1 + noise * 2) + (value > 0 ? noise : 0)) : value + noise;
        }
        value = Math.Round(value / spec.Resolution) * spec.Resolution;
        if (channel is Channel.CoolingFlow or Channel.DistillateFlow) value = Math.Max(0, value);

        if (FaultActive(FaultKinds.SensorStuck, channel, at) is not null)
        {
            frozen[(int)channel] ??= latest[(int)channel].IsGood ? latest[(int)channel].Value : value;
            return Reading.Good(frozen[(int)channel]!.Value, at);
        }
        frozen[(int)channel] = null;
        if (FaultActive(FaultKinds.SensorSpike, channel, at) is { } spike)
        {
            value += spike.ValueCelsius ?? 40;
        }
        return Reading.Good(value, at);
    }

    /// <summary>Whether a fault of this kind was active at any time after <paramref name="from"/> up to <paramref name="to"/>.</summary>
    private bool FaultWithin(string kind, DateTimeOffset from, DateTimeOffset to)
    {
        if (from == default) return false;
        foreach (var fault in faults)
        {
            if (fault.Kind != kind || schedule.DueAt(fault) is not { } start || start > to) continue;
            var end = fault.ForSeconds is { } span ? start + TimeSpan.FromSeconds(span) : DateTimeOffset.MaxValue;
            if (end > from) return true;
        }
        return false;
    }

    private ScenarioFault? FaultActive(string kind, Channel? channel, DateTimeOffset at)
    {
        if (faults.Length == 0 || channel is { } named && !channelFaulted[(int)named]) return null;
        foreach (var fault in faults)
        {
            if (fault.Kind == kind && (channel is null || fault.ChannelValue == channel) && schedule.IsActive(fault, at))
            {
                return fault;
            }
        }
        return null;
    }

    public string Checkpoint() => JsonSerializer.Serialize(Model.State, Journal.JournalWriteContext.Default.StillModelState);

    public static StillModelState? Restore(string? json) => json is null ? null : JsonSerializer.Deserialize(json, Journal.JournalJsonContext.Default.StillModelState);
}
